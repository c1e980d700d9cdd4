"""Every operation adcompile knows, each defined once, in one table row.

A row says everything about one op, in the spirit of JAX's primitives and
autograd's ``defvjp``:

* ``value``: how to compute it on floats.  Constant folding and ``explain``
  call this; it is also the semantics of the math backend.
* ``d``: its derivative rule, written with graph nodes.  Given the graph ``g``,
  the op's own output node ``y`` and its argument nodes, it returns one entry
  per argument: ``None`` (no derivative flows there), a partial derivative
  (a node or a number, which the adjoint is multiplied by), or a function
  ``v -> node`` for a cheaper linear map (``v / b`` instead of ``v * (1/b)``).
  The same entries serve reverse mode (adjoints) and forward mode (tangents),
  because every op is scalar.
* ``math`` / ``numpy``: how it prints.  A plain word is a function of that
  backend's module (``sin`` -> ``sin(t0)`` or ``np.sin(t0)``); a word starting
  with ``_`` is a helper from ``runtime_math`` / ``runtime_numpy`` that is
  copied into the generated module; a string with ``{0}`` is an infix
  template; a function of the argument nodes returns one of these.
* ``sympy``: the same function in SymPy, for the differential check.
* ``domain``: a box of argument values where the op is smooth, for tests.
* ``cut``: where the op jumps although its derivative rule gives a number
  (``atan2`` on the negative x axis, where the sign of a zero picks the side).

A derivative rule must not overflow where the derivative is an ordinary
number: ``asinh`` divides by ``hypot(x, 1)``, not ``sqrt(x*x + 1)``, since its
argument may be 1e200 while the chain's other factors are 1e200 too.  Nor
should it cancel needlessly: ``1 - x*x`` is written ``(1 - x)*(1 + x)``, exact
to an ulp near x = 1.

Adding an op is one ``Op(...)`` row here plus, where it needs one, a helper.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Callable

import sympy as sp

import adcompile.runtime.math_backend as rm

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    value: Callable[..., float]
    d: Callable | None
    math: str | Callable
    numpy: str | Callable
    sympy: Callable
    domain: tuple = ()
    commutative: bool = False
    language: bool = True  # callable by name in the expression language
    doc: str = ""
    backends: tuple = ("math", "numpy")  # where it can be printed
    reduction: bool = False  # reduces an array to a scalar
    cut: Callable | None = None  # where it jumps though its rule gives a number (a branch cut)

    def __repr__(self) -> str:
        return f"Op({self.name})"


def _pow_spelling(function: str) -> Callable:
    """``{0}**3`` for a small integral constant exponent, else ``pow({0}, {1})``.

    Python's ``**`` silently returns a complex number for a negative base and
    a fractional exponent, so it is printed only where that cannot happen.
    """

    def spelling(args) -> str:
        n = args[1].value if args[1].is_const else None
        if n is not None and n.is_integer() and abs(n) <= 2**31:
            return "{0}**" + str(int(n))
        return function

    return spelling


def _relu_sympy(x):
    # Under sp.evaluate(False) SymPy's Piecewise crashes on a nested relu, while
    # simplifying its condition: AttributeError, KeyError for a constant, or
    # ZeroDivisionError (``relu(relu(sin(x)))``), all found by the long fuzz profile.
    # Built with evaluation it does not.
    if not x.has(sp.Piecewise):
        return sp.Piecewise((x, x > 0), (0, True))
    with sp.evaluate(True):
        return sp.Piecewise((x, x > 0), (0, True))


def _div_sympy(a, b):
    # An unevaluated 1/(5/2) inside a product prints as "/5/2" in SymPy's
    # code printers, so a numeric divisor is inverted eagerly.
    if isinstance(b, sp.Number):
        with sp.evaluate(True):
            reciprocal = 1 / b
        return a * reciprocal
    return a / b


def _cbrt_sympy(x):
    # The real cube root; a Piecewise here trips SymPy's own simplifier.
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


def _atan2_partials(h, a, b) -> tuple:
    """d atan2(a, b) = (b da - a db) / h**2, with h = hypot(a, b) never squared:
    a*a + b*b overflows (or underflows to 0) where the derivative is an ordinary number."""
    return (lambda v: v * (b / h) / h, lambda v: -(v * (a / h) / h))


def _half_step(g, a, b):
    """Heaviside(a - b) with the value 1/2 at a tie, as SymPy's Max has it."""
    return 0.5 + 0.5 * g("sign", a - b)


_POS = (0.2, 3.0)
_ANY = (-3.0, 3.0)
_UNIT = (-0.9, 0.9)

OPS_LIST = [
    # --- arithmetic (infix) ---
    Op("add", 2, operator.add, lambda g, y, a, b: (1.0, 1.0),
       "{0} + {1}", "{0} + {1}", lambda a, b: a + b, (_ANY, _ANY),
       commutative=True, language=False),
    Op("sub", 2, operator.sub, lambda g, y, a, b: (1.0, -1.0),
       "{0} - {1}", "{0} - {1}", lambda a, b: a - b, (_ANY, _ANY), language=False),
    Op("mul", 2, operator.mul, lambda g, y, a, b: (b, a),
       "{0} * {1}", "{0} * {1}", lambda a, b: a * b, (_ANY, _ANY),
       commutative=True, language=False),
    Op("div", 2, operator.truediv,
       lambda g, y, a, b: (lambda v: v / b, lambda v: -(v / b) * y),
       "{0} / {1}", "divide", _div_sympy, (_ANY, _POS), language=False,
       doc="np.divide on the numpy backend: inf and a RuntimeWarning at 0, for Python floats too"),
    Op("neg", 1, operator.neg, lambda g, y, a: (-1.0,),
       "-{0}", "-{0}", lambda a: -a, (_ANY,), language=False),
    Op("pow", 2, math.pow,
       lambda g, y, a, b: (lambda v: v * (b * a ** (b - 1.0)),
                           lambda v: v * y * g("log", a)),
       _pow_spelling("pow"), "power", sp.Pow, (_POS, _ANY),
       doc="pow(x, y) is x**y; np.power on the numpy backend, for Python floats too"),
    # --- exponentials and logarithms ---
    Op("exp", 1, math.exp, lambda g, y, x: (y,), "exp", "exp", sp.exp, (_ANY,)),
    Op("expm1", 1, math.expm1, lambda g, y, x: (y + 1.0,), "expm1", "expm1",
       lambda x: sp.exp(x) - 1, (_ANY,)),
    Op("log", 1, math.log, lambda g, y, x: (lambda v: v / x,), "log", "log",
       sp.log, (_POS,), doc="log(x), or log(x, base)"),
    Op("log1p", 1, math.log1p, lambda g, y, x: (lambda v: v / (1.0 + x),),
       "log1p", "log1p", lambda x: sp.log(1 + x), (_UNIT,)),
    Op("log2", 1, math.log2, lambda g, y, x: (lambda v: v / (x * LN2),),
       "log2", "log2", lambda x: sp.log(x) / sp.log(2), (_POS,)),
    Op("log10", 1, math.log10, lambda g, y, x: (lambda v: v / x * (1.0 / LN10),),
       "log10", "log10", lambda x: sp.log(x) / sp.log(10), (_POS,)),
    Op("sqrt", 1, math.sqrt, lambda g, y, x: (lambda v: 0.5 * v / y,),
       "sqrt", "sqrt", sp.sqrt, (_POS,)),
    Op("cbrt", 1, math.cbrt, lambda g, y, x: (lambda v: v / (3.0 * (y * y)),),
       "cbrt", "cbrt", _cbrt_sympy, ((0.2, 3.0),)),
    # --- trigonometric ---
    Op("sin", 1, math.sin, lambda g, y, x: (g("cos", x),), "sin", "sin", sp.sin, (_ANY,)),
    Op("cos", 1, math.cos, lambda g, y, x: (-g("sin", x),), "cos", "cos", sp.cos, (_ANY,)),
    Op("tan", 1, math.tan, lambda g, y, x: (1.0 + y * y,), "tan", "tan", sp.tan,
       ((-1.2, 1.2),)),
    Op("asin", 1, math.asin,
       lambda g, y, x: (lambda v: v / g("sqrt", (1.0 - x) * (1.0 + x)),),
       "asin", "arcsin", sp.asin, (_UNIT,)),
    Op("acos", 1, math.acos,
       lambda g, y, x: (lambda v: -(v / g("sqrt", (1.0 - x) * (1.0 + x))),),
       "acos", "arccos", sp.acos, (_UNIT,)),
    Op("atan", 1, math.atan, lambda g, y, x: (lambda v: v / (1.0 + x * x),),
       "atan", "arctan", sp.atan, (_ANY,)),
    Op("atan2", 2, math.atan2, lambda g, y, a, b: _atan2_partials(g("hypot", a, b), a, b),
       "atan2", "arctan2", sp.atan2, (_ANY, _POS), doc="atan2(y, x)",
       cut=lambda a, b: a == 0.0 and b < 0.0),  # atan2(-0.0, -1) = -pi, as IEEE says
    Op("hypot", 2, math.hypot, lambda g, y, a, b: (a / y, b / y),
       "hypot", "hypot", lambda a, b: sp.sqrt(a**2 + b**2), (_ANY, _ANY),
       commutative=True),
    # --- hyperbolic ---
    Op("sinh", 1, math.sinh, lambda g, y, x: (g("cosh", x),), "sinh", "sinh", sp.sinh, (_ANY,)),
    Op("cosh", 1, math.cosh, lambda g, y, x: (g("sinh", x),), "cosh", "cosh", sp.cosh, (_ANY,)),
    Op("tanh", 1, math.tanh, lambda g, y, x: (1.0 - y * y,), "tanh", "tanh", sp.tanh, (_ANY,)),
    Op("asinh", 1, math.asinh,
       lambda g, y, x: (lambda v: v / g("hypot", x, 1.0),),
       "asinh", "arcsinh", sp.asinh, (_ANY,)),
    Op("acosh", 1, math.acosh,
       lambda g, y, x: (lambda v: v / (g("sqrt", x - 1.0) * g("sqrt", x + 1.0)),),
       "acosh", "arccosh", sp.acosh, ((1.1, 3.0),)),
    Op("atanh", 1, math.atanh, lambda g, y, x: (lambda v: v / ((1.0 - x) * (1.0 + x)),),
       "atanh", "arctanh", sp.atanh, (_UNIT,)),
    # --- piecewise: SymPy's conventions at the kinks ---
    Op("abs", 1, math.fabs, lambda g, y, x: (g("sign", x),), "fabs", "abs", sp.Abs,
       (_ANY,), doc="abs'(0) = 0"),
    Op("sign", 1, rm._sign, lambda g, y, x: (None,), "_sign", "sign", sp.sign, (_ANY,),
       doc="-1, 0 or 1; its derivative is 0"),
    Op("relu", 1, rm._relu, lambda g, y, x: (g("sign", y),), "_relu", "_relu",
       _relu_sympy, (_ANY,), doc="max(x, 0); relu'(0) = 0"),
    Op("max", 2, rm._max,
       lambda g, y, a, b: (_half_step(g, a, b), _half_step(g, b, a)),
       "_max", "maximum", sp.Max, (_ANY, _ANY), commutative=True,
       doc="a tie splits the derivative 1/2 and 1/2"),
    Op("min", 2, rm._min,
       lambda g, y, a, b: (_half_step(g, b, a), _half_step(g, a, b)),
       "_min", "minimum", sp.Min, (_ANY, _ANY), commutative=True,
       doc="a tie splits the derivative 1/2 and 1/2"),
    # --- smooth activations and special functions ---
    Op("sigmoid", 1, rm._sigmoid, lambda g, y, x: (y * g("sigmoid", -x),),
       "_sigmoid", "_sigmoid", lambda x: 1 / (1 + sp.exp(-x)), ((-6.0, 6.0),),
       doc="1/(1+exp(-x)), without overflow; its derivative is sigmoid(x)*sigmoid(-x), "
           "since 1 - sigmoid(x) cancels where sigmoid(x) is near 1"),
    Op("softplus", 1, rm._softplus, lambda g, y, x: (g("sigmoid", x),),
       "_softplus", "_softplus", lambda x: sp.log(1 + sp.exp(x)), ((-6.0, 6.0),),
       doc="log(1+exp(x)), without overflow"),
    Op("erf", 1, math.erf,
       lambda g, y, x: (TWO_OVER_SQRT_PI * g("exp", -(x * x)),),
       "erf", "_erf", sp.erf, (_ANY,)),
    Op("erfc", 1, math.erfc,
       lambda g, y, x: (-TWO_OVER_SQRT_PI * g("exp", -(x * x)),),
       "erfc", "_erfc", sp.erfc, (_ANY,)),
    # --- reductions (numpy backend): on a scalar they are the identity ---
    Op("sum", 1, lambda x: x, lambda g, y, x: (1.0,), None, "sum", lambda x: x, (_ANY,),
       doc="the sum of every element (numpy backend)", backends=("numpy",), reduction=True),
    Op("mean", 1, lambda x: x, lambda g, y, x: (lambda v: v / g("size", x),), None, "mean",
       lambda x: x, (_ANY,), doc="the mean of every element (numpy backend)",
       backends=("numpy",), reduction=True),
    # --- internal: built by reverse mode over arrays, never written by users ---
    Op("size", 1, lambda x: 1.0, lambda g, y, x: (None,), None, "_size", lambda x: sp.S.One,
       (_ANY,), language=False, backends=("numpy",)),
    # sum_to(d, x, like): an adjoint d, standing for an array of the shape of d
    # broadcast with like, summed down to the shape of x.  Its derivative rule is
    # the forward-mode one (tangents are summed alike); reverse mode never
    # differentiates through it, since it only appears in adjoints.
    Op("sum_to", 3, lambda d, x, like: d,
       lambda g, y, d, x, like: (lambda v: g("sum_to", v, x, like), None, None),
       None, "_sum_to", lambda d, x, like: d, (_ANY, _ANY, _ANY), language=False,
       backends=("numpy",), doc="an adjoint brought to the shape of x"),
    # broadcast(d, like): d given the shape of d and like broadcast together.  An
    # elementwise derivative that does not depend on every argument (a constant,
    # or one argument) still has the shape of all of them broadcast.
    Op("broadcast", 2, lambda d, like: d,
       lambda g, y, d, like: (lambda v: g("broadcast", v, like), None),
       None, "_broadcast", lambda d, like: d, (_ANY, _ANY), language=False,
       backends=("numpy",), doc="a derivative given the arguments' broadcast shape"),
]

OPS: dict[str, Op] = {op.name: op for op in OPS_LIST}
