"""The check's reference: SymPy's quantities, evaluated with mpmath at 40 digits.

``Reference`` compiles each quantity (the value, each derivative, ...) with
``sympy.lambdify`` into an mpmath function, printed by SymPy's mpmath printer
with every factor and power in parentheses, and evaluates them at exactly the
doubles the generated code is called with.  Where a quantity is not a finite
real number there, its value is None.

``RealAbs`` and ``RealSign`` stand in for ``Abs`` and ``sign`` before SymPy
differentiates (``for_real_arguments``): every argument here is real, which
SymPy cannot always prove.
"""

from __future__ import annotations

import math
from typing import Callable

import mpmath
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from adcompile.verify.shallow_steps import shallow_steps

DIGITS = 40


class RealAbs(sp.Function):
    """``Abs`` for an argument known to be real, as every argument is here.

    SymPy cannot always prove that (is ``log(2 + sin(z))`` real?), and then
    differentiates ``Abs`` through ``re`` and ``im``; this keeps its real rule,
    d|u| = sign(u) du.
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_number:
            return sp.Abs(arg)
        return None

    def fdiff(self, argindex=1):
        return RealSign(self.args[0])


class RealSign(sp.Function):
    """``sign`` of a real argument: its derivative is 0 away from 0."""

    @classmethod
    def eval(cls, arg):
        if arg.is_number:
            return sp.sign(arg)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _heaviside(x, at_zero=0.5):
    """SymPy's ``Heaviside(x, H0)`` for a real mpmath number (rewriting it as a
    Piecewise instead costs SymPy a third of a second per expression)."""
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(at_zero)


class _ReferencePrinter(MpmathPrinter):
    """SymPy's mpmath printer with every factor and power in parentheses: its own
    loses them in unevaluated nested powers (``x/(1/u)`` printed as ``x/1/u``)."""

    def _print_Mul(self, expr):
        return "*".join(f"({self._print(a)})" for a in expr.args)

    def _print_Pow(self, expr, rational=False):
        base = f"mpf({expr.base})" if expr.base.is_Integer else self._print(expr.base)  # not 7**-1 in floats
        return f"({base})**({self._print(expr.exp)})"


def _atan2(y, x):
    """SymPy's ``atan2``: undefined at (0, 0), where mpmath's gives 0."""
    if not x and not y:
        raise ValueError("atan2(0, 0) is undefined")
    return mpmath.atan2(y, x)


_FUNCTIONS = {"RealAbs": mpmath.fabs, "RealSign": mpmath.sign, "Heaviside": _heaviside, "atan2": _atan2}
MPMATH_MODULES = [_FUNCTIONS, "mpmath"]
_PRINTER = _ReferencePrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                              "user_functions": {name: name for name in _FUNCTIONS}})


def for_real_arguments(expr: sp.Expr) -> sp.Expr:
    """Swap Abs and sign for their real-argument versions before ``diff``."""
    if expr.has(sp.Abs):
        expr = expr.replace(sp.Abs, RealAbs)
    return expr.replace(sp.sign, RealSign) if expr.has(sp.sign) else expr


def prepare_for_evaluation(expr: sp.Expr) -> sp.Expr:
    """Make SymPy's output evaluable by mpmath away from kinks (Heaviside is
    evaluated by ``_heaviside``)."""
    return expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero) if expr.has(sp.DiracDelta) else expr


class Reference:
    """SymPy quantities (a value, derivatives, ...) evaluated with mpmath.

    Building one differentiates nothing, but prints and compiles every quantity,
    which recurses through SymPy's expressions: run it where the stack is deep
    (``run_deep``).
    """

    def __init__(self, quantities: list[sp.Expr], symbols: list[sp.Symbol]):
        self.quantities = quantities
        # The user's names become _a0, _a1, ...: a variable called sin or mpf must
        # not meet mpmath's functions in lambdify's namespace.
        safe = [sp.Symbol(f"_a{i}", real=True) for i in range(len(symbols))]
        renamed = dict(zip(symbols, safe))
        position = {s: i for i, s in enumerate(safe)}
        self.functions = [_evaluator(q, renamed, position) for q in quantities]

    def evaluate(self, point: list[float], double: bool = False) -> list[float | None]:
        """Each quantity at ``point``, or None where it is not finite and real.

        ``double`` evaluates with a double's 53-bit significand instead of 40
        digits: how well any double-precision code could possibly do.
        """
        out = []
        with mpmath.workprec(53) if double else mpmath.workdps(DIGITS):
            args = [mpmath.mpf(x) for x in point]
            for fn, used in self.functions:
                out.append(_real(fn, [args[i] for i in used]))
        return out


def _evaluator(quantity: sp.Expr, renamed: dict, position: dict) -> tuple[Callable, list[int]]:
    """An mpmath function for ``quantity`` and the positions of the arguments it takes (only
    the variables it has: lambdify's cost grows with the number of arguments).  The function
    always fails if SymPy found the quantity infinite or undefined everywhere (``x/0`` is
    ``zoo*x``) or cannot print it."""
    with sp.evaluate(False):
        quantity = quantity.xreplace(renamed)
    quantity = prepare_for_evaluation(quantity)
    if quantity.has(sp.zoo, sp.nan):
        return _nowhere, []
    used = sorted(quantity.free_symbols & position.keys(), key=position.__getitem__)
    try:
        function = sp.lambdify(used, quantity, modules=MPMATH_MODULES, printer=_PRINTER, docstring_limit=0,
                               cse=shallow_steps)
    except (KeyError, TypeError, NameError):
        return _nowhere, []
    return function, [position[s] for s in used]


def _nowhere(*args):
    raise ValueError("not finite anywhere")


def _real(fn, args) -> float | None:
    try:
        value = fn(*args)
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        return None
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > 1e-30 * max(1, abs(value.real)):
            return None
        value = value.real
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and abs(value) < 1e300 else None
