"""generated/ holds committed example modules; they must match today's output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

from goldens import GOLDENS, regenerate  # noqa: E402


def test_every_golden_file_regenerates_byte_for_byte(tmp_path):
    regenerate(str(tmp_path))
    for path in GOLDENS:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            committed = f.read()
        with open(os.path.join(tmp_path, path), encoding="utf-8") as f:
            fresh = f.read()
        assert fresh == committed, f"{path} is stale: run python3 examples/goldens.py"


def test_black_check_passes_on_generated():
    done = subprocess.run([sys.executable, "-m", "black", "--check", "-q", "generated/"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", list(GOLDENS))
def test_golden_modules_import_without_adcompile(path):
    code = (
        "import sys; sys.modules['adcompile'] = None; sys.modules['sympy'] = None\n"
        f"import runpy; m = runpy.run_path({path!r})\n"
        "name = [k for k in m if k.startswith(('grad_', 'jacobian_'))][0]\n"
        "def value(shape):\n"
        "    v = 0.5\n"
        "    for n in reversed(shape):\n"
        "        v = [v] * n\n"
        "    return v\n"
        "print(m[name](*[value(m.get('SHAPES', {}).get(a, ())) for a in m['ARGS']]))\n"
    )
    done = subprocess.run([sys.executable, "-I", "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_issue_command_imports_generated_udl():
    code = ("from generated.udl import grad_f; print(grad_f(x=2.3, beta0=1.0, beta1=2.0, beta2=-3.0, "
            "beta3=0.4, omega0=0.1, omega1=-0.4, omega2=2.0, omega3=3.0))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("(2.372264108415")
