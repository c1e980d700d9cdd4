"""Hostile and broken input: parser fuzzing, injection attempts, names, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import expressions
from support import EXAMPLES, LONG

import adcompile
from adcompile.cli import main

TOKENS = ["x", "y", "1", "2.5", "1e3", "+", "-", "*", "/", "**", "^", "(", ")", ",", "=", ";",
          "\n", "sin", "max", "log", "sum", "pi", " ", "#", "a", "b", ".", "_", "é", "ﬁ", "[", "'",
          "lambda", "__import__", "@", "!", "<", "%", "//", "0x1", "1_0", "\\", "\t", "\u202e"]

fuzz = settings(max_examples=max(EXAMPLES // 2, 200), deadline=None, derandomize=not LONG,
                database=None, suppress_health_check=list(HealthCheck))


def only_parse_error_or_success(text: str) -> None:
    """The contract: a compiled module, or a ParseError with a position; quickly."""
    start = time.perf_counter()
    try:
        adcompile.compile(text, backend="numpy", format=False)
    except adcompile.ParseError as exc:
        assert exc.line >= 1 and exc.column >= 1 and "^" in str(exc)
    # A hang guard, not a performance measurement: the bound is 1 s for 10 kB.
    assert time.perf_counter() - start < 1.0 + len(text) / 10_000, repr(text[:80])


@fuzz
@given(st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")))
def test_random_bytes(text):
    only_parse_error_or_success(text)


@fuzz
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_token_soup(text):
    only_parse_error_or_success(text)


@st.composite
def mutated(draw) -> str:
    text = draw(expressions(max_steps=8))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TOKENS))
        if action == "insert":
            text = text[:i] + piece + text[i:]
        elif action == "delete":
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + piece + text[i + len(piece):]
    return text


@fuzz
@given(mutated())
def test_mutated_valid_expressions(text):
    only_parse_error_or_success(text)


@pytest.mark.parametrize("text", [
    "(" * 10_000, ")" * 10_000, "-" * 10_000 + "x", "x" + "**x" * 3_000, "x," * 5_000,
    "a=" * 5_000 + "x", "sin(" * 2_500, "1e" + "9" * 10_000, "." * 10_000, "x;" * 5_000,
    "é" * 5_000, "\u202e" * 3_000, "x" * 10_000 + "(",
])
def test_pathological_10kb_inputs_are_rejected_or_compiled_within_a_second(text):
    only_parse_error_or_success(text)


INJECTIONS = [
    "__import__('os').system('touch {m}')",
    "x.__class__.__base__",
    "(lambda: __import__('os').system('touch {m}'))()",
    "x\nimport os; os.system('touch {m}')",
    "x # \nopen('{m}', 'w')",
    "x; y = __import__('os'); y",
    "exec('open(\"{m}\", \"w\")')",
    "eval('1')",
    "x' + open('{m}','w') + '",
    'x" + open("{m}","w") + "',
    "x\\\nopen('{m}')",
    "x\u2028open('{m}', 'w')",
    "a\u202e = 1; a",
    "globals()['x']",
    "[open('{m}', 'w')]",
    "{{}}",
    "x if open('{m}','w') else y",
    "f'{{open(\"{m}\", \"w\")}}'",
]


@pytest.mark.parametrize("attempt", INJECTIONS)
def test_injection_attempts_execute_nothing(tmp_path, capsys, attempt):
    marker = tmp_path / "marker"
    text = attempt.format(m=marker)
    out = tmp_path / "out.py"
    code = main([text, "-q", "-o", str(out)])
    if code == 0:  # compiled: then the module is harmless to import and run
        done = subprocess.run([sys.executable, "-c", f"import runpy; runpy.run_path({str(out)!r})"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    else:
        assert code == 2 and "Traceback" not in capsys.readouterr().err
    assert not marker.exists()


def test_hostile_comment_in_header_cannot_break_out(tmp_path):
    # A newline inside a program is a new statement in the header comment, never code.
    m = adcompile.compile("a = x # \nb = a\r\n# '''\nb")
    compile(m.source, "<generated>", "exec")
    assert m.f(2.0) == 2.0


def test_output_paths_with_dotdot_and_directories(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    assert main(["x*y", "-q", "-o", str(tmp_path / "sub" / ".." / "up.py")]) == 0
    assert (tmp_path / "up.py").exists()  # '..' is an ordinary path, resolved by the OS
    assert main(["x*y", "-o", str(tmp_path / "sub")]) == 2
    assert "directory" in capsys.readouterr().err


@pytest.mark.parametrize("names", [
    ["match", "case", "_", "type"],
    ["t0", "t1", "d_t0", "dot_t0", "d_x", "v_x", "c_r1", "gradient", "hessian", "value"],
    ["math", "np", "numpy", "sin", "_sum_to", "_sigmoid", "len", "print", "ARGS", "WRT"],
])
def test_names_that_shadow_anything_still_give_correct_code(names):
    text = " + ".join(f"{n}*sin({n})" for n in names) + " + sigmoid(" + names[0] + ")"
    for kwargs in ({}, {"hessian": True, "jvp": True, "hvp": True}):
        assert adcompile.check(text, points=3, **kwargs).ok
    np_module = adcompile.compile(text, backend="numpy", jvp=True)
    assert np_module.grad_f(*[0.3] * len(np_module.ARGS))[0] == pytest.approx(
        adcompile.compile(text).f(*[0.3] * len(np_module.ARGS)))


def test_several_outputs_with_hostile_output_names():
    m = adcompile.compile("c_r1 = x*y; r1 = x + y; v_x = x; c_r1, r1, v_x", jvp=True)
    values, vjp = m.vjp_f(2.0, 3.0, 1.0, 1.0, 1.0)
    assert values == (6.0, 5.0, 2.0) and vjp == (3.0 + 1.0 + 1.0, 2.0 + 1.0)


def test_ten_thousand_variables_and_thousand_character_names():
    long = "v" * 1000
    text = " + ".join(f"{long}{i}*w{i}" for i in range(5000))
    m = adcompile.compile(text, format=False)
    assert len(m.ARGS) == 10_000 and m.ARGS[0] == f"{long}0"
    value, grad = m.grad_f(*[1.0] * 10_000)
    assert value == 5000.0 and set(grad) == {1.0}


def test_nfkc_equal_names_merge_as_python_merges_them():
    m = adcompile.compile("ﬁ * fi + ℌ")  # 'ﬁ' is 'fi' and 'ℌ' is 'H' to Python
    assert m.ARGS == ("fi", "H")  # natural order ignores case
    assert m.grad_f(2.0, 3.0) == (7.0, (4.0, 1.0))


def test_killed_mid_write_leaves_the_old_or_the_new_file_whole(tmp_path):
    target = tmp_path / "module.py"
    old, new = "old\n" * 200_000, "new\n" * 2_000_000
    target.write_text(old)
    writer = ("import sys; sys.path.insert(0, {root!r}); from adcompile.fileio import write_atomic\n"
              "write_atomic({path!r}, {text!r} * 2_000_000)").format(
        root=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), path=str(target),
        text="new\n")
    for delay in (0.05, 0.1, 0.2, 0.3, 0.5):
        proc = subprocess.Popen([sys.executable, "-c", writer])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert target.read_text() in (old, new)
    leftovers = [p for p in os.listdir(tmp_path) if p != "module.py"]
    assert all(p.endswith(".tmp") for p in leftovers)  # a killed writer may leave its temp file
