"""Start-up (issue 18): a compile that needs neither SymPy nor black does not import them.

``import adcompile`` and a plain compile (API or CLI) leave SymPy, black, NumPy and
Hypothesis unloaded; the check, SymPy input and ``--format`` load what they need when
they run.  Each case runs in a fresh interpreter, since the test process itself has
long imported all of them.  (How long start-up takes is measured by the benchmark,
not here.)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import black
import pytest

import adcompile
import adcompile.pipeline
from adcompile.compiled_module import built_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("sympy", "black", "numpy", "mpmath", "hypothesis")


def run_fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it leaves its findings in ``result`` (a dict),
    to which the heavy packages then loaded are added under ``"loaded"``."""
    script = (
        "import json, sys\n"
        "result = {}\n"
        f"{code}\n"
        f"result['loaded'] = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_adcompile_loads_no_heavy_package():
    assert run_fresh("import adcompile")["loaded"] == []


def test_a_plain_api_compile_loads_no_heavy_package():
    result = run_fresh(
        "import adcompile\n"
        "m = adcompile.compile('log(x)*y + sin(x*y)')\n"
        "result['grad'] = m.grad_f(2.0, 3.0)\n"
        "result['program'] = adcompile.compile('u = x*y; where(u > 1, u*u, -u)').grad_f(2.0, 3.0)\n"
        "result['traced'] = adcompile.compile(lambda x, y: adcompile.exp(x) / y).grad_f(1.0, 2.0)\n"
    )
    assert result["loaded"] == []
    value, (dx, dy) = result["grad"]
    assert value == pytest.approx(math.log(2) * 3 + math.sin(6))
    assert dx == pytest.approx(3 / 2 + 3 * math.cos(6)) and dy == pytest.approx(math.log(2) + 2 * math.cos(6))
    assert result["program"] == [36.0, [36.0, 24.0]]  # u = 6: u*u, d/dx = 2*u*y, d/dy = 2*u*x
    value, (dx, dy) = result["traced"]
    assert value == pytest.approx(math.e / 2) and dx == pytest.approx(math.e / 2)
    assert dy == pytest.approx(-math.e / 4)


@pytest.mark.parametrize("argv", [["x*y"], ["sin(x)*y", "--name", "g", "--hessian", "--jvp"]])
def test_the_cli_compiling_to_a_file_loads_no_heavy_package(tmp_path, argv):
    target = tmp_path / "f.py"
    result = run_fresh(
        "from adcompile.cli import main\n"
        f"result['status'] = main({argv + ['-q', '-o', str(target)]!r})\n"
    )
    assert result == {"status": 0, "loaded": []}
    assert "def grad_" in target.read_text(encoding="utf-8")


def test_the_check_and_sympy_input_import_sympy_when_they_run():
    result = run_fresh(
        "import adcompile\n"
        "result['before'] = 'sympy' in sys.modules\n"
        "result['ok'] = adcompile.check('log(1 + exp(a*x)) / sqrt(x**2 + 1)', points=4).ok\n"
        "import sympy\n"
        "x, y = sympy.symbols('x y')\n"
        "result['grad'] = adcompile.compile(sympy.sin(x) * y).grad_f(2.0, 3.0)\n"
    )
    assert result["before"] is False and result["ok"] is True
    assert "sympy" in result["loaded"] and "black" not in result["loaded"]
    value, (dx, dy) = result["grad"]
    assert value == pytest.approx(3 * math.sin(2)) and dx == pytest.approx(3 * math.cos(2))
    assert dy == pytest.approx(math.sin(2))


def test_the_check_command_still_runs():
    result = run_fresh(
        "from adcompile.cli import main\n"
        "result['status'] = main(['check', 'sin(x)*y', '--points', '3'])\n"
    )
    assert result["status"] == 0 and "sympy" in result["loaded"]


def test_format_runs_black_and_the_default_does_not(monkeypatch):
    calls = []
    real = adcompile.pipeline.format_with_black
    monkeypatch.setattr(adcompile.pipeline, "format_with_black",
                        lambda source: calls.append(source) or real(source))
    plain = adcompile.compile("(w*x + b - y)**2")
    assert calls == [] and not built_of(plain).formatted
    assert not built_of(adcompile.compile("x*y", format=False)).formatted
    formatted = adcompile.compile("(w*x + b - y)**2", format=True)
    assert len(calls) == 1 and built_of(formatted).formatted
    assert formatted.source.endswith(calls[0])  # the printer already writes black's layout
    assert formatted.source.replace(" --format\n", "\n", 1) == plain.source  # but the header


def test_the_cli_runs_black_only_with_format(tmp_path):
    plain, formatted = tmp_path / "plain.py", tmp_path / "formatted.py"
    result = run_fresh(
        "from adcompile.cli import main\n"
        f"result['plain'] = main(['exp(x)*y', '-q', '-o', {str(plain)!r}])\n"
        f"result['no_format'] = main(['exp(x)*y', '-q', '--no-format', '-o', {str(plain)!r}])\n"
        "result['black_before'] = 'black' in sys.modules\n"
        f"result['formatted'] = main(['exp(x)*y', '-q', '--format', '-o', {str(formatted)!r}])\n"
    )
    assert result["plain"] == result["no_format"] == result["formatted"] == 0
    assert result["black_before"] is False and "black" in result["loaded"]
    body = lambda path: path.read_text(encoding="utf-8").split("\nARGS")[1]  # noqa: E731
    assert body(plain) == body(formatted)
    text = plain.read_text(encoding="utf-8")
    assert black.format_str(text, mode=black.Mode()) == text
