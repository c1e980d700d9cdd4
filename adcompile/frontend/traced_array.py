"""NumPy on traced values: arrays of them, and NumPy's functions on them.

An array argument of a traced function (``trace(fn, graph, shapes={"x": (3,)})``)
arrives as a ``TracedArray``: an ``ndarray`` of dtype ``object`` whose elements
are the graph's scalar variables ``x[0]``, ``x[1]``, ...  Everything NumPy does
with object arrays then builds the scalar graph as the function runs:

* indexing, slicing, ``.T``, reshaping, iteration, ``len``, item assignment and
  copies are NumPy's own, on the elements;
* ufuncs reach ``__array_ufunc__``.  The arithmetic ones (``+ - * / @``) run
  NumPy's object loops, which call each element's Python operators; every other
  ufunc that is one of adcompile's functions (``ufunc_rules()``: ``np.sin``,
  ``np.arctan2``, ``np.maximum``, ``np.exp2``, ...) is applied element by element
  with ``np.frompyfunc``, and their ``reduce`` / ``accumulate`` / ``outer`` work
  alike (``x.max()`` folds adcompile's ``max``);
* NumPy functions reach ``__array_function__``: an allowlist of those that only
  move elements or combine them with arithmetic (``np.sum``, ``np.mean``,
  ``np.dot``, ``np.concatenate``, ...) runs NumPy's own code on the plain object
  array; any other (``np.linalg.det``, ``np.sort``) raises ``TracingError``
  naming it.

Comparisons (``x > 0``, ``np.greater``), ``np.logical_and`` / ``or`` / ``not`` /
``xor`` and ``& | ~`` work element by element and give arrays of conditions;
``np.where(cond, a, b)`` with a traced condition chooses element by element
(``trace.choose``), and with a condition of plain bools is NumPy's own.

A traced *scalar* (``TracedNode``) asks the same two functions, so ``np.sin(x)``
is the op whether ``x`` is a scalar or an array.  The one difference:
``np.sum`` / ``np.mean`` of a traced scalar stay the language's reductions over
a data axis (numpy backend), while on an array they add its static elements.
Arrays NumPy makes itself (``np.array([a, b])``, ``np.zeros(3, dtype=object)``)
are plain object arrays; their ufuncs call the elements' methods
(``TracedNode.sin``), which build the same ops.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
from typing import Callable

import numpy as np

from adcompile.frontend.language import FUNCTIONS, choose, refuse_conditions
from adcompile.ir.graph import Graph, evaluate
from adcompile.ir.node import Node, TracingError

Rule = Callable[[Graph, list[Node]], Node]  # builds one element's node from its arguments' nodes

SUPPORTED = (
    "Traced values support + - * / ** @ and abs(), adcompile's functions (adcompile.sin, "
    "adcompile.max, ...), the NumPy ufuncs that are one of them (np.sin, np.exp, np.arccos, "
    "np.maximum, ...), comparisons (< <= > >= == != and np.greater, ...) combined with & | ~ "
    "or np.logical_and/or/not/xor, np.where and adcompile.where, and on arrays of traced values indexing, slicing, item assignment, "
    "reshaping, np.sum, np.mean, np.dot, np.concatenate and the like. np.sum / np.mean of a "
    "single traced value are the language's reductions over a data axis (backend numpy)."
)

# ufuncs that are not one of adcompile's functions but are arithmetic of them
_EXTRA_RULES: dict[str, Rule] = {
    "exp2": lambda g, a: g("pow", 2.0, a[0]),
    "square": lambda g, a: g("mul", a[0], a[0]),
    "reciprocal": lambda g, a: g("div", 1.0, a[0]),
    "positive": lambda g, a: a[0],
    "float_power": lambda g, a: g("pow", a[0], a[1]),
    "deg2rad": lambda g, a: g("mul", a[0], math.pi / 180.0),
    "radians": lambda g, a: g("mul", a[0], math.pi / 180.0),
    "rad2deg": lambda g, a: g("mul", a[0], 180.0 / math.pi),
    "degrees": lambda g, a: g("mul", a[0], 180.0 / math.pi),
}
# scipy.special's ufuncs that are adcompile's functions (looked up only if scipy is loaded)
_SCIPY_SPECIAL = {"erf": "erf", "erfc": "erfc", "expit": "sigmoid"}
# ufuncs NumPy's object loops compute with the elements' Python operators
_OBJECT_LOOPS = frozenset({np.add, np.subtract, np.multiply, np.divide, np.negative, np.matmul})
_FLOAT_TESTS = frozenset({np.isnan, np.isfinite, np.isinf})


def _not(a):
    return a.__invert__() if isinstance(a, Node) else not a


def _and(a, b):
    if isinstance(a, Node):
        return a.__and__(b)
    return b.__rand__(a) if isinstance(b, Node) else bool(a) and bool(b)


def _or(a, b):
    if isinstance(a, Node):
        return a.__or__(b)
    return b.__ror__(a) if isinstance(b, Node) else bool(a) or bool(b)


def _compare(name: str, reflected: str, value: Callable) -> Callable:
    """``a > b`` for one element: the node's own operator (reflected if only b is traced)."""
    def element(a, b):
        if isinstance(a, Node):
            return getattr(a, name)(b)
        return getattr(b, reflected)(a) if isinstance(b, Node) else value(a, b)

    return element


# ufunc -> one element's condition, on traced values, numbers and bools alike
_CONDITION_UFUNCS: dict[np.ufunc, Callable] = {
    np.greater: _compare("__gt__", "__lt__", lambda a, b: a > b),
    np.greater_equal: _compare("__ge__", "__le__", lambda a, b: a >= b),
    np.less: _compare("__lt__", "__gt__", lambda a, b: a < b),
    np.less_equal: _compare("__le__", "__ge__", lambda a, b: a <= b),
    np.equal: _compare("__eq__", "__eq__", lambda a, b: a == b),
    np.not_equal: _compare("__ne__", "__ne__", lambda a, b: a != b),
    np.logical_and: _and, np.bitwise_and: _and,
    np.logical_or: _or, np.bitwise_or: _or,
    np.logical_not: _not, np.invert: _not,
    np.logical_xor: lambda a, b: _or(_and(a, _not(b)), _and(_not(a), b)),
}
_UFUNC_METHODS = ("__call__", "reduce", "accumulate", "reduceat", "outer")


class TracedArray(np.ndarray):
    """An object array of traced values (an array argument of a traced function)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_function(func, args, kwargs)

    def __bool__(self):
        raise TracingError(
            "Branching on (if, while, and, or, not, bool()) an array of traced adcompile values: "
            "its elements have no concrete numbers while adcompile traces the function, and "
            "the branch not taken would never be recorded. Write the choice elementwise with "
            "np.where(cond, a, b) (np.where(x > 0, x, 0.0)), combining conditions with & | ~; "
            "or use np.maximum(a, b), np.minimum(a, b).")


def traced_array(elements: list, shape: tuple[int, ...]) -> TracedArray:
    """A ``TracedArray`` of ``shape`` holding ``elements`` in row-major order."""
    flat = np.empty(len(elements), dtype=object)
    for i, element in enumerate(elements):  # one by one: NumPy must not look inside a node
        flat[i] = element
    return flat.reshape(shape).view(TracedArray)


# --- which ufunc is which of adcompile's functions ---
@functools.cache
def ufunc_rules() -> dict[np.ufunc, Rule]:
    """NumPy ufunc -> how it builds an element: every ufunc named as one of the language's
    functions or their NumPy aliases (``np.sin``, ``np.arccos``, ``np.multiply``), argument
    for argument, plus the few that are arithmetic of them (``np.exp2``, ``np.square``)."""
    rules: dict[np.ufunc, Rule] = {}
    for name, function in FUNCTIONS.items():
        ufunc = getattr(np, name, None)
        if isinstance(ufunc, np.ufunc) and ufunc.nout == 1 and function.accepts(ufunc.nin):
            rules.setdefault(ufunc, function.build)
    for name, rule in _EXTRA_RULES.items():
        ufunc = getattr(np, name, None)
        if isinstance(ufunc, np.ufunc):
            rules.setdefault(ufunc, rule)
    return rules


def rule_for(ufunc) -> Rule | None:
    """How ``ufunc`` builds an element, or None if it is none of adcompile's functions."""
    rule = ufunc_rules().get(ufunc)
    if rule is None:
        special = sys.modules.get("scipy.special")
        name = getattr(ufunc, "__name__", None)
        if special is not None and name in _SCIPY_SPECIAL and getattr(special, name, None) is ufunc:
            rule = FUNCTIONS[_SCIPY_SPECIAL[name]].build
    return rule


@functools.cache
def _rules_by_name() -> dict[str, Rule]:
    return {ufunc.__name__: rule for ufunc, rule in ufunc_rules().items()}


def element_method(name: str) -> Callable | None:
    """``TracedNode.sin`` and friends: NumPy's object loop computes ``np.sin(a)`` on a plain
    object array as ``a.sin()`` for each element."""
    rule = _rules_by_name().get(name)
    if rule is None:
        return None
    return lambda *args: apply_numeric_rule(rule, args, f"np.{name}()")


def apply_rule(rule: Rule, args) -> Node | float:
    """One element: a node if any argument is traced, else the float the op computes."""
    for a in args:
        if isinstance(a, Node):
            graph = a.graph
            return rule(graph, [graph.lift(b) for b in args])
    scratch = Graph(fold=False, algebra=False)
    result = rule(scratch, [scratch.lift(b) for b in args])
    return evaluate([result])[result.id]


def apply_numeric_rule(rule: Rule, args, what: str) -> Node | float:
    """``apply_rule`` for a function of numbers: a condition among ``args`` is refused."""
    refuse_conditions(f"{what} of a condition", args)
    return apply_rule(rule, args)


@functools.cache
def _elementwise(ufunc: np.ufunc) -> np.ufunc:
    condition = _CONDITION_UFUNCS.get(ufunc)
    if condition is not None:
        return np.frompyfunc(condition, ufunc.nin, 1)
    rule, what = rule_for(ufunc), _ufunc_name(ufunc, "__call__")
    return np.frompyfunc(lambda *args: apply_numeric_rule(rule, args, what), ufunc.nin, 1)


# --- NumPy's two protocols, for traced scalars and arrays alike ---
def _ufunc_name(ufunc, method: str) -> str:
    name = f"np.{getattr(ufunc, '__name__', '?')}"
    return f"{name}()" if method == "__call__" else f"{name}.{method}()"


def refusal(what: str, reason: str = "it is none of adcompile's functions") -> TracingError:
    return TracingError(f"{what} cannot be traced: {reason}; it is not supported on traced "
                        f"adcompile values. {SUPPORTED}")


def _is_scalar(a) -> bool:
    return isinstance(a, Node) or (isinstance(a, numbers.Real) and not isinstance(a, bool))


def numpy_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    """``np.sin(x)``, ``a * x``, ``x.sum()``: the op for each element, or a refusal."""
    if ufunc in _FLOAT_TESTS:
        raise refusal(_ufunc_name(ufunc, method), "a traced value has no concrete number while "
                      "adcompile traces the function, so whether it is nan, inf or finite is "
                      "not known; compare it instead (x != x is true only for nan)")
    if all(_is_scalar(a) for a in inputs) and "out" not in kwargs:
        return _scalar_ufunc(ufunc, method, inputs, kwargs)
    return _array_ufunc(ufunc, method, inputs, kwargs)


def _scalar_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict) -> Node:
    what = _ufunc_name(ufunc, method)
    if method != "__call__":
        raise refusal(what, f"{method} needs an array, and this is a single traced value")
    if kwargs:
        raise refusal(f"{what[:-1]}{', '.join(f'{k}=' for k in kwargs)})",
                      "a traced value takes no keyword arguments")
    condition = _CONDITION_UFUNCS.get(ufunc)
    if condition is not None:
        return condition(*inputs)
    rule = rule_for(ufunc)
    if rule is None:
        raise refusal(what)
    refuse_conditions(f"{what} of a condition", inputs)
    graph = next(a.graph for a in inputs if isinstance(a, Node))
    return rule(graph, [graph.lift(a) for a in inputs])


def _array_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    what = _ufunc_name(ufunc, method)
    if method not in _UFUNC_METHODS:
        raise refusal(what, f"its method {method} is not one adcompile unrolls")
    if ufunc in _OBJECT_LOOPS:
        target = ufunc
    elif ufunc in _CONDITION_UFUNCS and method not in ("__call__", "reduce") and ufunc.nin == 2:
        raise refusal(what, "conditions are combined element by element, or reduced (np.all, "
                      "np.any) only")
    elif ufunc in _CONDITION_UFUNCS or rule_for(ufunc) is not None:
        target = _elementwise(ufunc)
    else:
        raise refusal(what)
    out = kwargs.pop("out", None)
    if ufunc in _CONDITION_UFUNCS and kwargs.get("dtype", None) in (bool, np.dtype(bool)):
        kwargs.pop("dtype")  # x.all(), np.any(x): a reduction of conditions is a condition
    if kwargs.get("dtype", None) not in (None, object, np.dtype(object)):
        raise refusal(f"{what[:-1]}dtype={kwargs['dtype']!r})",
                      "traced values are computed as graph nodes, not in a NumPy dtype")
    kwargs.pop("dtype", None)
    plain = [_plain(a) for a in inputs]
    if method == "reduce" and target is not ufunc:
        plain, kwargs = _one_axis(what, plain, kwargs)
    result = getattr(target, method)(*plain, **kwargs) if method != "__call__" else target(*plain, **kwargs)
    if out is not None:
        (destination,) = out
        destination[...] = result
        return destination
    return wrap(result)


def _one_axis(what: str, plain: list, kwargs: dict) -> tuple[list, dict]:
    """``np.frompyfunc``'s reduce takes one axis: reduce over all of them as one."""
    axis = kwargs.get("axis", 0)
    if axis is None:
        (array,) = plain
        kwargs = dict(kwargs, axis=0)
        if kwargs.pop("keepdims", False):
            return [array.reshape(1, -1)], dict(kwargs, axis=1, keepdims=True)
        return [array.reshape(-1)], kwargs
    if isinstance(axis, tuple) and len(axis) > 1:
        raise refusal(f"{what[:-1]}axis={axis})", "it reduces several axes at once; reduce one "
                      "axis at a time")
    return plain, kwargs


def _plain(a):
    """What NumPy's own loops see: a plain object array (never one that calls back here)."""
    if isinstance(a, TracedArray):
        return a.view(np.ndarray)
    if isinstance(a, Node):
        box = np.empty((), dtype=object)
        box[()] = a
        return box
    if isinstance(a, (list, tuple)):
        return type(a)(_plain(b) for b in a)
    return a


def wrap(result):
    """An object array as a ``TracedArray`` (a 0-d one as its element); tuples piecewise."""
    if isinstance(result, np.ndarray) and result.dtype == object:
        return result[()] if result.ndim == 0 else result.view(TracedArray)
    if isinstance(result, tuple):
        return tuple(wrap(r) for r in result)
    if isinstance(result, list):
        return [wrap(r) for r in result]
    return result


# --- NumPy functions ---
_ALLOWED = (
    "sum mean prod cumsum cumprod average dot vdot inner outer tensordot einsum kron trace diagonal "
    "diag transpose reshape ravel squeeze expand_dims swapaxes moveaxis atleast_1d atleast_2d "
    "atleast_3d concatenate stack hstack vstack column_stack dstack append split array_split hsplit "
    "vsplit flip fliplr flipud roll rot90 tile repeat broadcast_to broadcast_arrays zeros_like "
    "ones_like full_like copy take diff ndim shape size max amax min amin where polyval cross "
    "triu tril linalg.multi_dot result_type iscomplexobj isrealobj all any"
)
# run on the TracedArray: maximum.reduce folds max, logical_and.reduce folds &
_REDUCTIONS_OF_ARRAYS = ("max", "amax", "min", "amin", "all", "any")


def _numpy_attribute(path: str):
    value = np
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


@functools.cache
def _allowed() -> dict:
    """NumPy function -> whether it must see the TracedArray itself (else a plain object array)."""
    allowed = {}
    for path in _ALLOWED.split():
        func = _numpy_attribute(path)
        if func is not None:
            allowed[func] = path in _REDUCTIONS_OF_ARRAYS
    return allowed


def function_name(func) -> str:
    """``numpy.linalg.det``: where the user finds it, without private modules."""
    module = getattr(func, "__module__", None) or "numpy"
    public = ".".join(part for part in module.split(".") if not part.startswith("_"))
    return f"{public}.{getattr(func, '__name__', '?')}"


def numpy_function(func, args: tuple, kwargs: dict):
    """``np.sum(x)``, ``np.dot(W, x)``, ...: NumPy's own code on the elements, for an
    allowlist of functions; any other raises ``TracingError`` naming it."""
    if func in (np.sum, np.mean) and args and isinstance(args[0], Node):
        return _reduction_of_a_scalar(func, args, kwargs)
    if func is np.where and len(args) == 3 and not kwargs and _has_nodes(args[0]):
        return _where(*args)
    allowed = _allowed()
    if func not in allowed:
        raise refusal(function_name(func), "adcompile unrolls only the NumPy functions that "
                      "move elements or combine them with arithmetic, so compute it from those")
    implementation = getattr(func, "_implementation", func)
    if allowed[func]:
        return wrap(implementation(*args, **kwargs))
    return wrap(implementation(*[_plain(a) for a in args],
                               **{k: _plain(v) for k, v in kwargs.items()}))


def _reduction_of_a_scalar(func, args: tuple, kwargs: dict) -> Node:
    """``np.sum(node)`` / ``np.mean(node)``: the language's reduction over a data axis."""
    opname = "sum" if func is np.sum else "mean"
    defaults_only = all(v is None for v in args[1:]) and all(
        k in ("axis", "dtype", "out") and v is None for k, v in kwargs.items())
    if not defaults_only:
        raise TracingError(f"np.{opname}() of a traced adcompile value takes only the value: the "
                           f"language's {opname}() reduces over all elements to one number "
                           "(no axis, dtype, out, keepdims, ...).")
    return args[0].graph(opname, args[0])


def _has_nodes(value) -> bool:
    """Whether ``value`` is or holds a traced value (a node, or an object array with one)."""
    if isinstance(value, Node):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype == object and any(isinstance(v, Node) for v in value.reshape(-1))
    if isinstance(value, (list, tuple)):
        return any(_has_nodes(v) for v in value)
    return False


def _where(condition, a, b):
    """``np.where`` with a traced condition: ``where`` element by element (a plain element
    of the condition is read as NumPy does: nonzero holds)."""
    choose_element = np.frompyfunc(lambda c, x, y: choose(c, x, y, strict=False), 3, 1)
    return wrap(choose_element(_plain(condition), _plain(a), _plain(b)))
