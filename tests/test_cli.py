"""The adcompile command: output, exit codes, and nothing written on failure."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

import adcompile
from adcompile.cli import main
from adcompile.compiled_module import load_source

LOSS = "(w*x + b - y)**2"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_module_goes_to_stdout_and_imports(capsys):
    code, out, err = run(capsys, LOSS)
    assert code == 0 and err == ""
    module = load_source(out)
    assert module.ARGS == ("b", "w", "x", "y")
    assert module.grad_f(b=1.0, w=2.0, x=3.0, y=0.5) == (42.25, (13.0, 39.0, 26.0, -13.0))


def test_output_file_and_header_command(tmp_path, capsys):
    target = tmp_path / "udl.py"
    text = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"
    code, out, err = run(capsys, text, "--name", "f", "-o", str(target))
    assert code == 0 and out == ""
    source = target.read_text()
    assert f"#     adcompile '{text}' -o {target}" in source
    assert "from math import cos, exp, sin" in source
    assert oct(stat.S_IMODE(os.stat(target).st_mode)) != "0o600", "not left with mkstemp's mode"


def test_check_subcommand_exit_codes(capsys):
    code, out, _ = run(capsys, "check", "log(1 + exp(a*x)) / sqrt(x**2 + 1)")
    assert code == 0
    assert "PASS" in out and "d/da" in out and "d/dx" in out


def test_check_flag_reports_before_writing(tmp_path, capsys):
    target = tmp_path / "m.py"
    code, _, err = run(capsys, "sin(x)*y", "--check", "-o", str(target))
    assert code == 0 and "PASS" in err and target.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sinn(x)"], "did you mean 'sin'"),
        (["x +"], "ends where a value is expected"),
        (["x", "--wrt", "y"], "--wrt names 'y', which is not an argument"),
        (["x*y", "--args", "x"], "the expression uses y, which --args does not list"),
        (["x", "--args", "x,x"], "more than once"),
        (["x", "--name", "lambda"], "keyword"),
        (["x", "--name", "2f"], "not a valid name"),
        (["check", "x.y"], "attribute access"),
    ],
)
def test_user_mistakes_exit_2_with_a_message_and_no_traceback(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_failed_run_writes_nothing(tmp_path, capsys):
    target = tmp_path / "m.py"
    code, _, err = run(capsys, "sin(x", "-o", str(target))
    assert code == 2 and not target.exists()
    assert os.listdir(tmp_path) == []


def test_failed_run_keeps_the_old_file(tmp_path, capsys):
    target = tmp_path / "m.py"
    target.write_text("old")
    code, _, _ = run(capsys, "sin(x", "-o", str(target))
    assert code == 2 and target.read_text() == "old"


def test_output_to_a_directory_or_missing_folder_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "x", "-o", str(tmp_path))
    assert code == 2 and "is a directory" in err
    code, _, err = run(capsys, "x", "-o", str(tmp_path / "no" / "m.py"))
    assert code == 2 and "does not exist" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_without_permission_is_refused(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run(capsys, "x", "-o", str(folder / "m.py"))
        assert code == 2 and "permission" in err
    finally:
        folder.chmod(0o700)


def test_read_only_target_is_refused(tmp_path, capsys):
    target = tmp_path / "m.py"
    target.write_text("old")
    target.chmod(0o400)
    try:
        if os.access(target, os.W_OK):
            pytest.skip("running as root: read-only files are writable")
        code, _, err = run(capsys, "x", "-o", str(target))
        assert code == 2 and "read-only" in err and target.read_text() == "old"
    finally:
        target.chmod(0o600)


def test_help_explains_the_commands_and_language(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for word in ("adcompile check", "--wrt", "--args", "-o", "sigmoid", "exit status"):
        assert word in out


def test_bad_option_is_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["x", "--bogus"])
    assert info.value.code == 2


def test_console_script_and_module_entry_point(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "adcompile")
    for command in ([exe], [sys.executable, "-m", "adcompile"]):
        done = subprocess.run(command + ["x**2"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "def grad_f(x):" in done.stdout
        done = subprocess.run(command + ["x**"], capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr


def test_permission_error_while_writing_is_reported(tmp_path, capsys, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err = run(capsys, "x", "-o", str(tmp_path / "m.py"))
    assert code == 2 and "Permission denied" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_disk_full_keeps_the_old_file_whole(tmp_path, capsys, monkeypatch):
    import errno

    target = tmp_path / "m.py"
    target.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run(capsys, "x", "-o", str(target))
    assert code == 2 and "No space left" in err
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["m.py"]


def test_an_empty_wrt_is_an_error_not_every_argument(capsys):
    # Found by trying the project as a new user: --wrt "" silently differentiated everything
    assert main(["x*y", "--wrt", ""]) == 2
    assert "--wrt names no argument" in capsys.readouterr().err
    with pytest.raises(adcompile.CompileError, match="wrt= names no argument"):
        adcompile.compile("x*y", wrt=[])


def test_backend_hint_is_spelled_as_typed(capsys):
    assert main(["check", "sum(x)"]) == 2
    assert "needs --backend numpy " in capsys.readouterr().err


def test_an_expression_starting_with_minus_gets_a_hint(capsys):
    # Found by trying the project as a new user: argparse's message alone did not say why
    with pytest.raises(SystemExit) as exit_:
        main(["-x**2"])
    assert exit_.value.code == 2 and "goes after --" in capsys.readouterr().err
