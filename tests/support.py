"""Shared helpers and data for the tests: SymPy references at high precision, the op
table's writable ops, the seed tutorial's numbers, and the fuzz profile's size."""

from __future__ import annotations

import math
import os

import mpmath
import sympy as sp

from adcompile.codegen.backends import MATH
from adcompile.ir.ops import OPS_LIST
from adcompile.verify.reference import MPMATH_MODULES, prepare_for_evaluation

X, Y, Z = (sp.Symbol(n, real=True) for n in "xyz")

INFIX = {"add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y", "neg": "-x", "pow": "x ** y"}
# Every op a user can write that the math backend prints (the reductions are numpy's), on
# numbers: where(cond, a, b) takes a condition, and tests/test_branches.py covers it (each
# backend, first and second order, at and across the edge).
MATH_OPS = [op for op in OPS_LIST if (op.language or op.name in INFIX) and MATH.can_print(op)
            and op.name != "where"]

# The seed tutorial's point, and its printed forward values and gradient (to 3 decimals;
# ../shared/seed/README.md).  SEED_FORWARD is keyed by each step written out in the
# earlier variables.
POINT = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4,
             omega2=2.0, omega3=3.0, x=2.3, y=2.0)
F0 = "beta0 + omega0*x"
H1 = f"sin({F0})"
F1 = f"beta1 + omega1*{H1}"
H2 = f"exp({F1})"
F2 = f"beta2 + omega2*{H2}"
H3 = f"cos({F2})"
F3 = f"beta3 + omega3*{H3}"
LOSS = f"({F3} - y)**2"
SEED_FORWARD = {F0: 1.230, H1: 0.942, F1: 1.623, H2: 5.068, F2: 7.137, H3: 0.657, F3: 2.372,
                LOSS: 0.139}
SEED_GRADIENT = dict(beta3=0.745, omega3=0.489, beta2=-1.683, omega2=-8.530, beta1=-17.060,
                     omega1=-16.079, beta0=2.281, omega0=5.246)

# The CI profile runs EXAMPLES cases (and fractions of it) per differential test; `python3 tasks.py fuzz`
# sets ADCOMPILE_FUZZ_EXAMPLES (100,000 by default) and a random seed instead.
EXAMPLES = int(os.environ.get("ADCOMPILE_FUZZ_EXAMPLES", "700"))  # 1,015 cases in all
LONG = "ADCOMPILE_FUZZ_EXAMPLES" in os.environ


def text_for(op) -> str:
    """Expression text applying ``op`` to x (and y)."""
    if op.name in INFIX:
        return INFIX[op.name]
    return f"{op.name}({', '.join('xy'[: op.arity])})"


def reference(expr: sp.Expr, symbols, point) -> float:
    """SymPy's value of ``expr`` at ``point``, to 40 digits, as a float."""
    with mpmath.workdps(40):
        value = sp.lambdify(symbols, prepare_for_evaluation(expr), modules=MPMATH_MODULES)(
            *[mpmath.mpf(p) for p in point])
        return float(mpmath.re(value))


def close(ours: float, expected: float, rel: float = 1e-12, floor: float = 1e-12) -> bool:
    if math.isnan(expected):
        return math.isnan(ours)
    return abs(ours - expected) <= rel * max(abs(expected), floor)
