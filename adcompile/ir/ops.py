"""Every operation adcompile knows, each defined once, in one table row.

A row says everything about one op, in the spirit of JAX's primitives and
autograd's ``defvjp``:

* ``value``: how to compute it on floats.  Constant folding and ``explain``
  call this; it is also the semantics of the math backend.
* ``partials``: its derivative rule, written with graph nodes.  Given the graph ``g``,
  the op's own output node ``y`` and its argument nodes, it returns one entry
  per argument: ``None`` (no derivative flows there), a partial derivative
  (a node or a number, which the adjoint is multiplied by), or a function
  ``v -> node`` for a cheaper linear map (``v / b`` instead of ``v * (1/b)``).
  The same entries serve reverse mode (adjoints) and forward mode (tangents),
  because every op is scalar.
* ``sympy``: the same function in SymPy, for the differential check.
* ``domain``: a box of argument values where the op is smooth, for tests.
* ``branch_cut``: where the op jumps although its derivative rule gives a number
  (``atan2`` on the negative x axis, where the sign of a zero picks the side).

A derivative rule must not overflow where the derivative is an ordinary
number: ``asinh`` divides by ``hypot(x, 1)``, not ``sqrt(x*x + 1)``, since its
argument may be 1e200 while the chain's other factors are 1e200 too.  Nor
should it cancel needlessly: ``1 - x*x`` is written ``(1 - x)*(1 + x)``, exact
to an ulp near x = 1.

How an op prints is no part of its row: each backend's table
(``codegen/backends.py``) spells it, by default as the function of the op's
own name in the backend's module (``sin`` -> ``sin(t0)`` or ``np.sin(t0)``).

Adding an op is one ``Op(...)`` row here plus, where it needs one, a helper
and an entry in a backend's table that spells it differently.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Callable

import adcompile.runtime.math_backend as rm

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# SymPy is imported only when a ``sympy`` rule runs (the check, SymPy input): a plain
# compile never needs it, and its import costs ten times a whole compile of ``x*y``.
class _LazySympy:
    """The ``sympy`` module, imported at the first attribute read."""

    def __getattr__(self, name: str):
        import sympy

        return getattr(sympy, name)


sp = _LazySympy()


@dataclass(frozen=True)
class SympyFunction:
    """SymPy's function ``name`` (``SympyFunction("sin")`` is ``sympy.sin``), looked up
    when called, so that the table is built without importing SymPy."""

    name: str

    def resolve(self) -> Callable:
        return getattr(sp, self.name)

    def __call__(self, *args):
        return self.resolve()(*args)


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    value: Callable[..., float]
    partials: Callable | None
    sympy: Callable
    domain: tuple = ()
    commutative: bool = False
    language: bool = True  # callable by name in the expression language
    doc: str = ""
    reduction: bool = False  # reduces an array to a scalar
    boolean: bool = False  # its value is a truth value (a condition): it has no derivative
    # finite, with finite derivatives, for every finite argument: on arrays it needs no
    # safe arguments where a branch is not taken (see ir/safe_branches.py)
    total: bool = False
    branch_cut: Callable | None = None  # where it jumps though its rule gives a number (a branch cut)

    def __repr__(self) -> str:
        return f"Op({self.name})"


def _relu_sympy(x):
    # Under sp.evaluate(False) SymPy's Piecewise crashes on a nested relu, while
    # simplifying its condition: AttributeError, KeyError for a constant, or
    # ZeroDivisionError (``relu(relu(sin(x)))``), all found by the long fuzz profile.
    # Built with evaluation it does not.
    if not x.has(sp.Piecewise):
        return sp.Piecewise((x, x > 0), (0, True))
    with sp.evaluate(True):
        return sp.Piecewise((x, x > 0), (0, True))


def _where_sympy(c, a, b):
    # SymPy's Piecewise crashes while simplifying some conditions (found by the fuzzer):
    # built unevaluated, on nested conditions on constants (KeyError: 'pop from an empty
    # set'); evaluated, on a comparison of a Piecewise, which it solves as a set (KeyError:
    # b_).  Each works where the other crashes.
    if c in (sp.true, sp.false):
        return a if c is sp.true else b
    try:
        with sp.evaluate(True):
            return sp.Piecewise((a, c), (b, True))
    except (KeyError, AttributeError, TypeError, ValueError):
        return sp.Piecewise((a, c), (b, True), evaluate=False)


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


_COMPARISONS = [  # (name, the operator as written, value, SymPy)
    ("lt", "<", operator.lt, SympyFunction("Lt")), ("le", "<=", operator.le, SympyFunction("Le")),
    ("gt", ">", operator.gt, SympyFunction("Gt")), ("ge", ">=", operator.ge, SympyFunction("Ge")),
    ("eq", "==", operator.eq, SympyFunction("Eq")), ("ne", "!=", operator.ne, SympyFunction("Ne")),
]

_POS = (0.2, 3.0)
_ANY = (-3.0, 3.0)
_UNIT = (-0.9, 0.9)

OPS_LIST = [
    # --- arithmetic (printed as operators) ---
    Op("add", total=True, arity=2, value=operator.add, partials=lambda g, y, a, b: (1.0, 1.0),
       sympy=lambda a, b: a + b, domain=(_ANY, _ANY), commutative=True, language=False),
    Op("sub", total=True, arity=2, value=operator.sub, partials=lambda g, y, a, b: (1.0, -1.0),
       sympy=lambda a, b: a - b, domain=(_ANY, _ANY), language=False),
    Op("mul", total=True, arity=2, value=operator.mul, partials=lambda g, y, a, b: (b, a), sympy=lambda a, b: a * b,
       domain=(_ANY, _ANY), commutative=True, language=False),
    Op("div", arity=2, value=operator.truediv,
       partials=lambda g, y, a, b: (lambda v: v / b, lambda v: -(v / b) * y), sympy=_div_sympy,
       domain=(_ANY, _POS), language=False,
       doc="np.divide on the numpy backend: inf and a RuntimeWarning at 0, for Python floats too"),
    Op("neg", total=True, arity=1, value=operator.neg, partials=lambda g, y, a: (-1.0,), sympy=lambda a: -a,
       domain=(_ANY,), language=False),
    Op("pow", arity=2, value=math.pow,
       partials=lambda g, y, a, b: (lambda v: v * (b * a ** (b - 1.0)), lambda v: v * y * g("log", a)),
       sympy=SympyFunction("Pow"), domain=(_POS, _ANY),
       doc="pow(x, y) is x**y; np.power on the numpy backend, for Python floats too"),
    # --- exponentials and logarithms ---
    Op("exp", arity=1, value=math.exp, partials=lambda g, y, x: (y,), sympy=SympyFunction("exp"), domain=(_ANY,)),
    Op("expm1", arity=1, value=math.expm1, partials=lambda g, y, x: (y + 1.0,),
       sympy=lambda x: sp.exp(x) - 1, domain=(_ANY,)),
    Op("log", arity=1, value=math.log, partials=lambda g, y, x: (lambda v: v / x,), sympy=SympyFunction("log"),
       domain=(_POS,), doc="log(x), or log(x, base)"),
    Op("log1p", arity=1, value=math.log1p, partials=lambda g, y, x: (lambda v: v / (1.0 + x),),
       sympy=lambda x: sp.log(1 + x), domain=(_UNIT,)),
    Op("log2", arity=1, value=math.log2, partials=lambda g, y, x: (lambda v: v / (x * LN2),),
       sympy=lambda x: sp.log(x) / sp.log(2), domain=(_POS,)),
    Op("log10", arity=1, value=math.log10, partials=lambda g, y, x: (lambda v: v / x * (1.0 / LN10),),
       sympy=lambda x: sp.log(x) / sp.log(10), domain=(_POS,)),
    Op("sqrt", arity=1, value=math.sqrt, partials=lambda g, y, x: (lambda v: 0.5 * v / y,),
       sympy=SympyFunction("sqrt"), domain=(_POS,)),
    Op("cbrt", arity=1, value=math.cbrt, partials=lambda g, y, x: (lambda v: v / (3.0 * (y * y)),),
       sympy=_cbrt_sympy, domain=((0.2, 3.0),)),
    # --- trigonometric ---
    Op("sin", total=True, arity=1, value=math.sin, partials=lambda g, y, x: (g("cos", x),),
       sympy=SympyFunction("sin"), domain=(_ANY,)),
    Op("cos", total=True, arity=1, value=math.cos, partials=lambda g, y, x: (-g("sin", x),),
       sympy=SympyFunction("cos"), domain=(_ANY,)),
    Op("tan", arity=1, value=math.tan, partials=lambda g, y, x: (1.0 + y * y,), sympy=SympyFunction("tan"),
       domain=((-1.2, 1.2),)),
    Op("asin", arity=1, value=math.asin,
       partials=lambda g, y, x: (lambda v: v / g("sqrt", (1.0 - x) * (1.0 + x)),), sympy=SympyFunction("asin"),
       domain=(_UNIT,)),
    Op("acos", arity=1, value=math.acos,
       partials=lambda g, y, x: (lambda v: -(v / g("sqrt", (1.0 - x) * (1.0 + x))),), sympy=SympyFunction("acos"),
       domain=(_UNIT,)),
    Op("atan", total=True, arity=1, value=math.atan, partials=lambda g, y, x: (lambda v: v / (1.0 + x * x),),
       sympy=SympyFunction("atan"), domain=(_ANY,)),
    Op("atan2", arity=2, value=math.atan2,
       partials=lambda g, y, a, b: _atan2_partials(g("hypot", a, b), a, b), sympy=SympyFunction("atan2"),
       domain=(_ANY, _POS), doc="atan2(y, x)",
       branch_cut=lambda a, b: a == 0.0 and b < 0.0),  # atan2(-0.0, -1) = -pi, as IEEE says
    Op("hypot", arity=2, value=math.hypot, partials=lambda g, y, a, b: (a / y, b / y),
       sympy=lambda a, b: sp.sqrt(a**2 + b**2), domain=(_ANY, _ANY), commutative=True),
    # --- hyperbolic ---
    Op("sinh", arity=1, value=math.sinh, partials=lambda g, y, x: (g("cosh", x),), sympy=SympyFunction("sinh"),
       domain=(_ANY,)),
    Op("cosh", arity=1, value=math.cosh, partials=lambda g, y, x: (g("sinh", x),), sympy=SympyFunction("cosh"),
       domain=(_ANY,)),
    Op("tanh", total=True, arity=1, value=math.tanh, partials=lambda g, y, x: (1.0 - y * y,),
       sympy=SympyFunction("tanh"), domain=(_ANY,)),
    Op("asinh", total=True, arity=1, value=math.asinh, partials=lambda g, y, x: (lambda v: v / g("hypot", x, 1.0),),
       sympy=SympyFunction("asinh"), domain=(_ANY,)),
    Op("acosh", arity=1, value=math.acosh,
       partials=lambda g, y, x: (lambda v: v / (g("sqrt", x - 1.0) * g("sqrt", x + 1.0)),),
       sympy=SympyFunction("acosh"), domain=((1.1, 3.0),)),
    Op("atanh", arity=1, value=math.atanh,
       partials=lambda g, y, x: (lambda v: v / ((1.0 - x) * (1.0 + x)),),
       sympy=SympyFunction("atanh"), domain=(_UNIT,)),
    # --- piecewise: SymPy's conventions at the kinks ---
    Op("abs", total=True, arity=1, value=math.fabs, partials=lambda g, y, x: (g("sign", x),),
       sympy=SympyFunction("Abs"), domain=(_ANY,), doc="abs'(0) = 0"),
    Op("sign", total=True, arity=1, value=rm._sign, partials=lambda g, y, x: (None,),
       sympy=SympyFunction("sign"), domain=(_ANY,),
       doc="-1, 0 or 1; its derivative is 0"),
    Op("relu", total=True, arity=1, value=rm._relu, partials=lambda g, y, x: (g("sign", y),), sympy=_relu_sympy,
       domain=(_ANY,), doc="max(x, 0); relu'(0) = 0"),
    Op("max", total=True, arity=2, value=rm._max,
       partials=lambda g, y, a, b: (_half_step(g, a, b), _half_step(g, b, a)), sympy=SympyFunction("Max"),
       domain=(_ANY, _ANY), commutative=True, doc="a tie splits the derivative 1/2 and 1/2"),
    Op("min", total=True, arity=2, value=rm._min,
       partials=lambda g, y, a, b: (_half_step(g, b, a), _half_step(g, a, b)), sympy=SympyFunction("Min"),
       domain=(_ANY, _ANY), commutative=True, doc="a tie splits the derivative 1/2 and 1/2"),
    # --- smooth activations and special functions ---
    Op("sigmoid", total=True, arity=1, value=rm._sigmoid, partials=lambda g, y, x: (y * g("sigmoid", -x),),
       sympy=lambda x: 1 / (1 + sp.exp(-x)), domain=((-6.0, 6.0),),
       doc="1/(1+exp(-x)), without overflow; its derivative is sigmoid(x)*sigmoid(-x), "
           "since 1 - sigmoid(x) cancels where sigmoid(x) is near 1"),
    Op("softplus", total=True, arity=1, value=rm._softplus, partials=lambda g, y, x: (g("sigmoid", x),),
       sympy=lambda x: sp.log(1 + sp.exp(x)), domain=((-6.0, 6.0),),
       doc="log(1+exp(x)), without overflow"),
    Op("erf", total=True, arity=1, value=math.erf, partials=lambda g, y, x: (TWO_OVER_SQRT_PI * g("exp", -(x * x)),),
       sympy=SympyFunction("erf"), domain=(_ANY,)),
    Op("erfc", total=True, arity=1, value=math.erfc,
       partials=lambda g, y, x: (-TWO_OVER_SQRT_PI * g("exp", -(x * x)),),
       sympy=SympyFunction("erfc"), domain=(_ANY,)),
    # --- conditions and choices: a condition has no derivative; where(c, a, b) sends
    # its adjoint to a where c holds and to b where it does not ---
    *[Op(name, arity=2, value=value, partials=lambda g, y, a, b: (None, None), sympy=sympy,
         domain=(_ANY, _ANY), language=False, boolean=True, total=True, doc=f"a {symbol} b")
      for name, symbol, value, sympy in _COMPARISONS],
    Op("logical_and", total=True, arity=2, value=lambda a, b: bool(a) and bool(b),
       partials=lambda g, y, a, b: (None, None), sympy=SympyFunction("And"), domain=(_ANY, _ANY),
       language=False, boolean=True, doc="a and b"),
    Op("logical_or", total=True, arity=2, value=lambda a, b: bool(a) or bool(b),
       partials=lambda g, y, a, b: (None, None), sympy=SympyFunction("Or"), domain=(_ANY, _ANY),
       language=False, boolean=True, doc="a or b"),
    Op("logical_not", total=True, arity=1, value=lambda a: not a, partials=lambda g, y, a: (None,),
       sympy=SympyFunction("Not"), domain=(_ANY,), language=False, boolean=True, doc="not a"),
    Op("where", total=True, arity=3, value=lambda c, a, b: a if c else b,
       partials=lambda g, y, c, a, b: (None, lambda v: g("where", c, v, 0.0),
                                       lambda v: g("where", c, 0.0, v)),
       sympy=_where_sympy, domain=(_ANY, _ANY, _ANY),
       doc="where(cond, a, b): a where cond holds, else b (also written a if cond else b); "
           "only the branch taken is computed"),
    # --- reductions (numpy backend): on a scalar they are the identity ---
    Op("sum", total=True, arity=1, value=lambda x: x, partials=lambda g, y, x: (1.0,), sympy=lambda x: x,
       domain=(_ANY,), doc="the sum of every element (numpy backend)", reduction=True),
    Op("mean", total=True, arity=1, value=lambda x: x, partials=lambda g, y, x: (lambda v: v / g("size", x),),
       sympy=lambda x: x, domain=(_ANY,), doc="the mean of every element (numpy backend)",
       reduction=True),
    # --- internal: built by reverse mode over arrays, never written by users ---
    Op("size", total=True, arity=1, value=lambda x: 1.0, partials=lambda g, y, x: (None,), sympy=lambda x: sp.S.One,
       domain=(_ANY,), language=False),
    # sum_to(d, x, like): an adjoint d, standing for an array of the shape of d
    # broadcast with like, summed down to the shape of x.  Its derivative rule is
    # the forward-mode one (tangents are summed alike); reverse mode never
    # differentiates through it, since it only appears in adjoints.
    Op("sum_to", total=True, arity=3, value=lambda d, x, like: d,
       partials=lambda g, y, d, x, like: (lambda v: g("sum_to", v, x, like), None, None),
       sympy=lambda d, x, like: d, domain=(_ANY, _ANY, _ANY), language=False,
       doc="an adjoint brought to the shape of x"),
    # broadcast(d, like): d given the shape of d and like broadcast together.  An
    # elementwise derivative that does not depend on every argument (a constant,
    # or one argument) still has the shape of all of them broadcast.
    Op("broadcast", total=True, arity=2, value=lambda d, like: d,
       partials=lambda g, y, d, like: (lambda v: g("broadcast", v, like), None), sympy=lambda d, like: d,
       domain=(_ANY, _ANY), language=False,
       doc="a derivative given the arguments' broadcast shape"),
]

OPS: dict[str, Op] = {op.name: op for op in OPS_LIST}
