"""The main job: compile the seed's example, import it, and compare with SymPy.

Run it with ``python3 tasks.py demo`` (or ``make demo``).  It

1. runs the ``adcompile`` command to write ``generated/udl.py`` (the seed's
   model f) and ``generated/udl_loss.py`` (its loss ``(f - y)**2``);
2. imports both like any module;
3. prints the value and each partial derivative beside SymPy's and beside the
   numbers printed in the seed tutorial.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import sympy as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"
LOSS = f"({MODEL} - y)**2"
POINT = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4,
             omega2=2.0, omega3=3.0, x=2.3, y=2.0)
SEED_TABLE = dict(value=0.139, beta3=0.745, omega3=0.489, beta2=-1.683, omega2=-8.530,
                  beta1=-17.060, omega1=-16.079, beta0=2.281, omega0=5.246)


def adcompile(*args: str) -> None:
    command = [sys.executable, "-m", "adcompile", *args]
    print("$ adcompile " + " ".join(repr(a) if " " in a else a for a in args), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def sympy_reference(text: str, names: list[str]) -> tuple[float, list[float]]:
    symbols = {n: sp.Symbol(n, real=True) for n in POINT}
    beta = [symbols[f"beta{i}"] for i in range(4)]
    omega = [symbols[f"omega{i}"] for i in range(4)]
    x, y = symbols["x"], symbols["y"]
    model = beta[3] + omega[3] * sp.cos(beta[2] + omega[2] * sp.exp(
        beta[1] + omega[1] * sp.sin(beta[0] + omega[0] * x)))
    expr = (model - y) ** 2 if text == LOSS else model
    at = {symbols[k]: v for k, v in POINT.items()}
    value = float(expr.evalf(30, subs=at))
    return value, [float(sp.diff(expr, symbols[n]).evalf(30, subs=at)) for n in names]


def show(title: str, module_name: str, text: str, fn: str) -> None:
    sys.path.insert(0, ROOT)
    module = importlib.import_module(f"generated.{module_name}")
    args = {k: POINT[k] for k in module.ARGS}
    value, grad = getattr(module, fn)(**args)
    ref_value, ref_grad = sympy_reference(text, list(module.WRT))
    print(f"\n{title}: {fn}({', '.join(f'{k}={v}' for k, v in args.items())})")
    print(f"  {'':<8} {'adcompile':>22} {'SymPy':>22} {'seed':>9}")
    rows = [("value", value, ref_value)] + list(zip(module.WRT, grad, ref_grad))
    for label, ours, ref in rows:
        seed = SEED_TABLE.get(label) if text == LOSS else None
        seed_text = f"{seed:>9.3f}" if seed is not None else ""
        print(f"  {label:<8} {ours:>22.15g} {ref:>22.15g} {seed_text}")
    worst = max(abs(a - b) / max(abs(b), 1e-300) for _, a, b in rows)
    print(f"  largest relative difference from SymPy: {worst:.1e}")


def main() -> None:
    adcompile(MODEL, "--name", "f", "-o", "generated/udl.py")
    adcompile(LOSS, "--name", "loss", "-o", "generated/udl_loss.py")
    show("The seed's model f", "udl", MODEL, "grad_f")
    show("The seed's loss (f - y)**2", "udl_loss", LOSS, "grad_loss")


if __name__ == "__main__":
    main()
