"""The example modules committed in generated/, and the commands that make them.

``python3 examples/goldens.py`` regenerates every file; the golden test runs
the same commands and compares its output with the committed files byte for
byte, so the files always match what adcompile produces today.
"""

from __future__ import annotations

import os
import shutil
import sys

ROSEN = "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"
MODEL = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"

GOLDENS = {
    "generated/udl.py": [MODEL, "--name", "f"],
    "generated/udl_loss.py": [f"({MODEL} - y)**2", "--name", "loss"],
    "generated/seed_example2.py": ["x1*x2 + x2*4.3 + 30", "--name", "y"],
    "generated/udl_program.py": ["-f", "examples/udl.adc", "--name", "loss"],
    "generated/h.py": ["x**2*y + sin(z)", "--hessian", "--jvp", "--hvp"],
    "generated/udl_data.py": [f"sum(({MODEL} - y)**2)", "--backend", "numpy", "--name", "loss"],
    "generated/res.py": ["r1 = x*y - 1; r2 = x + y**2; r1, r2", "--name", "res", "--jvp"],
    "generated/rosen.py": [ROSEN, "--shape", "x=4", "--name", "rosen", "--hessian=sparse"],
    "generated/mlp.py": ["-f", "examples/mlp.adc", "--name", "loss", "--wrt", "W,b,v,c"],
}


INPUTS = ["examples/udl.adc", "examples/mlp.adc"]  # files the commands read, relative to the repository
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def regenerate(root: str) -> None:
    """Write every golden file under ``root`` with the adcompile command."""
    from adcompile.cli import main

    cwd = os.getcwd()
    os.makedirs(os.path.join(root, "generated"), exist_ok=True)
    for path in INPUTS:
        target = os.path.join(root, path)
        if not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(HERE, path), target)
    os.chdir(root)
    try:
        for path, argv in GOLDENS.items():
            if main(argv + ["-q", "-o", path]) != 0:
                raise SystemExit(f"could not regenerate {path}")
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    regenerate(HERE)
    print("regenerated: " + ", ".join(GOLDENS))
