"""Shared helpers for the tests: SymPy references at high precision."""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from adcompile.verify.compare import _MPMATH, prepare_for_evaluation

X, Y, Z = (sp.Symbol(n, real=True) for n in "xyz")


def reference(expr: sp.Expr, symbols, point) -> float:
    """SymPy's value of ``expr`` at ``point``, to 40 digits, as a float."""
    with mpmath.workdps(40):
        value = sp.lambdify(symbols, prepare_for_evaluation(expr), modules=_MPMATH)(*[mpmath.mpf(p) for p in point])
        return float(mpmath.re(value))


def close(ours: float, expected: float, rel: float = 1e-12, floor: float = 1e-12) -> bool:
    if math.isnan(expected):
        return math.isnan(ours)
    return abs(ours - expected) <= rel * max(abs(expected), floor)
