"""Tracing a Python function into the graph, as the seed's Node does.

``trace(fn, graph)`` calls ``fn`` once with a variable node for each
parameter; the overloaded operators on ``Node`` and the op functions below
build the graph as the function runs.  The graph must make ``TracedNode`` objects
(``tracing_graph()``): nodes that also answer NumPy's protocols, which the
IR's own ``Node`` leaves alone.  The result lowers to the same
``Program`` as expression text, so there is no second pipeline.

The parameters traced are the positional ones (with or without a default) and
the keyword-only ones without a default.  A keyword-only parameter with a
default, or a value bound with ``functools.partial`` (which the signature shows
as one), is a constant: the function runs with that value.

The op functions (``adcompile.sin``, ``adcompile.max``, ...) build nodes when
any argument is a node and compute plain floats otherwise, with the op's own
value rule (so ``adcompile.log(-1.0)`` raises ``ValueError`` as ``math.log``
does).  NumPy's names for them (``adcompile.arccos``, ``adcompile.multiply``)
are aliases.

Comparisons of traced values (``x > 0``, ``0 < x``) build *conditions*, which
``&``, ``|`` and ``~`` combine (as NumPy users write ``(x > 0) & (y < 1)``) and
``adcompile.where(cond, a, b)`` (or ``np.where``) chooses with.  A condition is
not a number (using it as one is a ``TracingError`` that says to write
``where(cond, 1.0, 0.0)``), and it has no truth value while tracing: a Python
``if``, ``while``, ``and``, ``or``, ``not`` or ``a if c else b`` on it is a
``TracingError`` pointing to ``where``.

A parameter named in ``shapes=`` is an array of static shape: it arrives as a
``TracedArray`` (``traced_array.py``), an object array of its elements'
variables, so NumPy code runs as written and builds the scalar graph.  NumPy's
ufuncs that are one of the language's functions (``np.sin``, ``np.arccos``,
``np.maximum``, ...) build the same nodes on traced scalars and arrays alike;
``np.sum`` / ``np.mean`` of a traced scalar are the language's reductions over
a data axis, of an array the sum of its elements.  A NumPy function adcompile
cannot unroll, branching on a traced value, ``float(node)`` or
``math.sin(node)`` raise ``TracingError``, which explains why and what to
write instead, at the user's file and line.

A traced function returns a number or traced value, a tuple or list of them,
a dict of them (named outputs), or an array of them (its elements, row-major,
are the outputs; a 0-d array is its element).
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import sys
import traceback
from typing import Callable

from adcompile.errors import CompileError, visible
from adcompile.frontend.language import (CONDITION_AS_NUMBER, FUNCTIONS, Function, choose, is_bool,
                                         is_condition, may_be_condition, refuse_conditions)
from adcompile.frontend.program import Program, Shape, element_indices, element_name, normalize_name
from adcompile.ir.graph import Graph, evaluate
from adcompile.ir.node import Node, TracingError

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # adcompile/


class TracedNode(Node):
    """A node of a traced function: NumPy hands its calls here instead of converting it."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from adcompile.frontend.traced_array import numpy_ufunc

        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from adcompile.frontend.traced_array import numpy_function

        return numpy_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """``np.array(node)``: a 0-d object array holding it (NumPy then builds arrays of nodes)."""
        import numpy as np

        box = np.empty((), dtype=object)
        box[()] = self
        return box if dtype is None else box.astype(dtype)  # float: the float() error below

    def __getattr__(self, name: str):
        # NumPy's object loops compute np.sin(a) on an object array as a.sin().
        method = None
        if not name.startswith("_") and "numpy" in sys.modules:
            from adcompile.frontend.traced_array import element_method

            method = element_method(name)
        if method is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return functools.partial(method, self)

    def __float__(self):
        raise TracingError(
            "float() of a traced adcompile value: while adcompile traces a function, it runs it "
            "once on graph nodes to record its steps, so a traced value has no concrete number "
            "yet. math.sin(x) and friends call float(); use adcompile.sin(x), np.sin(x), ... "
            "instead, which build the graph. NumPy calls float() to store a traced value in an "
            "array of floats: make that array with dtype=object (np.zeros(3, dtype=object)) or "
            "build it with np.array([...]).")

    def __bool__(self):
        raise TracingError(BRANCH_HELP)

    # --- conditions: comparisons build them, & | ~ combine them ---
    __hash__ = Node.__hash__  # defining __eq__ below would otherwise unset it

    def __and__(self, other):
        return _logical("&", self, other)

    def __rand__(self, other):
        return _logical("&", other, self)

    def __or__(self, other):
        return _logical("|", self, other)

    def __ror__(self, other):
        return _logical("|", other, self)

    def __invert__(self):
        if not may_be_condition(self):
            raise TracingError(
                "The operator ~ (or np.logical_not) on a number while tracing: it negates a "
                "condition (a comparison of traced values, such as ~(x > 0)); bitwise operators "
                "on numbers are not supported.")
        return self.graph("logical_not", self)


_NO_NUMBER = ("while adcompile traces a function, it runs it once on graph nodes to record its "
              "steps, so a traced value has no concrete number yet")
BRANCH_HELP = (
    f"Branching on (if, while, and, or, not, bool()) a traced adcompile value: {_NO_NUMBER}, "
    "and the branch not taken would never be recorded. Write the choice as "
    "adcompile.where(cond, a, b) (np.where in NumPy code): x if x > 0 else 0.0 is "
    "adcompile.where(x > 0, x, 0.0); combine conditions with & | ~ as NumPy does "
    "((x > 0) & (y < 1)), not with and, or, not. For the larger or smaller of two values use "
    "adcompile.max(a, b) and adcompile.min(a, b) (the builtins max() and min() compare their "
    "arguments, so they branch too).")
def _logical(symbol: str, a, b):
    """``a & b`` or ``a | b`` of conditions (a Python or NumPy bool folds away)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(a if isinstance(b, Node) else b, numpy.ndarray):
        return NotImplemented
    node, other = (a, b) if isinstance(a, Node) else (b, a)
    if is_bool(other) and may_be_condition(node):
        holds = bool(other)
        return (node if holds else False) if symbol == "&" else (True if holds else node)
    if not (may_be_condition(a) and may_be_condition(b)):
        what = ("numbers" if not (may_be_condition(a) or may_be_condition(b))
                else "a condition and a number")
        raise TracingError(
            f"The operator {symbol} on {what} while tracing: & | ~ combine conditions "
            "(comparisons of traced values, such as (x > 0) & (y < 1)); bitwise operators on "
            "numbers are not supported.")
    return node.graph("logical_and" if symbol == "&" else "logical_or", a, b)


def _numbers_only(method: Callable, symbol: str) -> Callable:
    """``node * other``: refuse a condition; let an array's reflected operator (and so
    NumPy) handle ``node * array``."""

    @functools.wraps(method)
    def operator(self, *other):
        numpy = sys.modules.get("numpy")
        if other and numpy is not None and isinstance(other[0], numpy.ndarray):
            return NotImplemented
        refuse_conditions(f"The operator {symbol} on a condition", (self, *other[:1]))
        return method(self, *other)

    return operator


_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**"}
for _name, _symbol in _ARITHMETIC.items():
    for _dunder in (f"__{_name}__", f"__r{_name}__"):
        setattr(TracedNode, _dunder, _numbers_only(getattr(Node, _dunder), _symbol))
for _dunder, _symbol in (("__neg__", "-"), ("__pos__", "+"), ("__abs__", "abs()")):
    setattr(TracedNode, _dunder, _numbers_only(getattr(Node, _dunder), _symbol))


def _comparison(opname: str, symbol: str) -> Callable:
    def compare(self, other):
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(other, numpy.ndarray):
            return NotImplemented
        refuse_conditions(f"Comparing ({symbol}) a condition", (self, other))
        return self.graph(opname, self, other)

    compare.__name__ = f"__{opname}__"
    return compare


for _opname, _symbol in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="),
                         ("ne", "!=")):
    setattr(TracedNode, f"__{_opname}__", _comparison(_opname, _symbol))


def tracing_graph(**flags) -> Graph:
    """A graph to trace a function into: ``Graph(**flags)`` whose nodes are ``TracedNode``."""
    return Graph(node_type=TracedNode, **flags)


def op_function(function: Function) -> Callable:
    """The Python function for one language function, e.g. ``adcompile.sin``."""

    def apply(*args):
        count = len(args)
        nodes = [a for a in args if isinstance(a, Node)]
        if not function.accepts(count):
            error = TracingError if nodes else TypeError
            raise error(f"{function.name}() takes {function.arity_text()}, got {count}")
        refuse_conditions(f"adcompile.{function.name}() of a condition", nodes)
        if nodes:
            graph = nodes[0].graph
            return function.build(graph, [graph.lift(a) for a in args])
        for a in args:
            if not isinstance(a, numbers.Real) or isinstance(a, bool):
                raise TypeError(f"{function.name}() needs numbers or traced values, "
                                f"not {type(a).__name__}")
        scratch = Graph(fold=False, algebra=False)
        result = function.build(scratch, [scratch.const(a) for a in args])
        return evaluate([result])[result.id]

    apply.__name__ = apply.__qualname__ = function.name
    apply.__doc__ = f"{function.doc or function.name}: a graph node for traced values, else a float."
    return apply


def where(condition, a, b):
    """where(cond, a, b): a where cond holds, else b; a graph node when cond is traced
    (only the branch taken is computed), else ``a if cond else b`` as a float.  On arrays
    it is np.where, elementwise."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and any(isinstance(v, numpy.ndarray) for v in (condition, a, b)):
        return numpy.where(condition, a, b)
    for value in (a, b):
        if not isinstance(value, Node) and (not isinstance(value, numbers.Real) or is_bool(value)):
            raise TypeError(f"where() chooses between numbers or traced values, "
                            f"not {type(value).__name__}")
    chosen = choose(condition, a, b)
    return chosen if isinstance(chosen, Node) else float(chosen)


OP_FUNCTIONS = {name: op_function(f) for name, f in FUNCTIONS.items()}
OP_FUNCTIONS["where"] = where


def describe(fn: Callable) -> str:
    """``module.qualname`` of a function, on one line, for headers and messages."""
    if isinstance(fn, functools.partial):
        return f"{describe(fn.func)} (through functools.partial)"
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(qualname, str):  # a callable object: its class, never its address
        qualname = f"{type(fn).__qualname__} object"
    module = getattr(fn, "__module__", None)
    return visible(f"{module if isinstance(module, str) else '?'}.{qualname}")


def default_name(fn: Callable) -> str:
    """The function's own name (a partial's function's), or ``f``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else "f"


def _parameters(fn: Callable) -> tuple[list[str], list[str]]:
    """The traced parameters: those passed by position, and keyword-only ones without a default."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise CompileError(f"cannot read the signature of {describe(fn)}: {exc}") from None
    positional, keyword = [], []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            stars = "*" if p.kind == p.VAR_POSITIONAL else "**"
            raise CompileError(f"cannot trace {describe(fn)}: {stars}{p.name} has no fixed names; "
                               "list each argument in the signature")
        if p.kind != p.KEYWORD_ONLY:
            positional.append(p.name)
        elif p.default is p.empty:
            keyword.append(p.name)
    return positional, keyword


def trace(fn: Callable, graph: Graph, *, shapes: dict[str, Shape] | None = None) -> Program:
    """Run ``fn`` on variable nodes of ``graph`` (a ``tracing_graph()``) and return what
    it computes as a Program.  A parameter named in ``shapes`` is an array of that static
    shape: it arrives as a ``TracedArray`` of its elements' variables (``x[0]``, ...)."""
    if not issubclass(graph.node_type, TracedNode):
        raise TypeError("trace() needs a graph made by tracing_graph(), whose nodes answer NumPy")
    positional, keyword = _parameters(fn)
    shapes = _check_shapes(fn, shapes or {}, positional + keyword)
    variables: dict[str, Node] = {}
    arguments = {p: _argument(graph, normalize_name(p), shapes, variables) for p in positional + keyword}
    result = _call(fn, [arguments[p] for p in positional], {p: arguments[p] for p in keyword})
    names, values = _results(fn, result)
    return Program([graph.lift(v) for v in values], names, variables=variables,
                   signature=[normalize_name(p) for p in positional + keyword], shapes=shapes)


def _check_shapes(fn: Callable, shapes: dict, parameters: list[str]) -> dict[str, Shape]:
    """The declared shapes, by normalised name; each must name a traced parameter."""
    names = [normalize_name(p) for p in parameters]
    checked = {}
    for name, shape in shapes.items():
        if normalize_name(name) not in names:
            raise CompileError(f"shapes names {name!r}, which is not a traced parameter of "
                               f"{describe(fn)} (its parameters: {', '.join(names) or 'none'})")
        checked[normalize_name(name)] = (shape,) if isinstance(shape, int) else tuple(shape)
    return checked


def _argument(graph: Graph, name: str, shapes: dict[str, Shape], variables: dict[str, Node]):
    """A scalar parameter's variable, or an array parameter's TracedArray of element variables;
    every variable is recorded in ``variables`` (an array's elements in row-major order)."""
    if name not in shapes:
        variables[name] = graph.var(name)
        return variables[name]
    from adcompile.frontend.traced_array import traced_array

    elements = []
    for index in element_indices(shapes[name]):
        element = element_name(name, index)
        variables[element] = graph.var(element)
        elements.append(variables[element])
    return traced_array(elements, shapes[name])


def _results(fn: Callable, result) -> tuple[list[str | None], list]:
    """Output names and values: a dict names them; a tuple or list, and an array (row-major),
    give several outputs; a 0-d array is its element."""
    if isinstance(result, dict):
        names, values = list(result), list(result.values())
        for name, value in result.items():
            if _is_array(value) and value.ndim > 0:
                raise CompileError(f"{describe(fn)} returned an array for {name!r}; a dict of "
                                   "results gives one number per name (return a tuple to get "
                                   "an array's elements as several outputs)")
    else:
        values = list(result) if isinstance(result, (tuple, list)) else [result]
        names = None
    flat = []
    for value in values:
        if _is_array(value):
            flat.extend(value.reshape(-1).tolist())
        else:
            flat.append(value)
    for value in flat:
        if is_condition(value):
            raise TracingError(f"{describe(fn)} returned a condition; an output is a number: "
                               f"{CONDITION_AS_NUMBER}")
        if not isinstance(value, Node) and not (isinstance(value, numbers.Real)
                                                and not isinstance(value, bool)):
            raise CompileError(f"{describe(fn)} returned a {type(value).__name__}; it must "
                               "return a number, a traced value, an array of them, or a tuple "
                               "of them")
    return names if names is not None else [None] * len(flat), flat


def _is_array(value) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _call(fn: Callable, args: list, kwargs: dict):
    """``fn(*args, **kwargs)``; a mistake with a traced value becomes a ``TracingError``
    that says where in the user's code it happened."""
    try:
        return fn(*args, **kwargs)
    except TracingError as exc:
        exc.args = (f"{exc.args[0] if exc.args else exc}{_where(exc)}",) + exc.args[1:]
        raise
    except ValueError as exc:
        # NumPy turns float(node)'s error into "setting an array element with a sequence"
        inner = exc.__cause__ or exc.__context__
        if not isinstance(inner, TracingError):
            raise
        raise TracingError(f"{inner.args[0] if inner.args else inner}{_where(exc)}") from exc
    except (TypeError, AttributeError) as exc:
        numpy_function = _numpy_function_in(exc)
        if numpy_function is not None:
            raise TracingError(_numpy_error_text(numpy_function, exc)) from exc
        if str(exc).startswith("loop of ufunc does not support argument"):
            raise TracingError(_object_loop_error_text(exc)) from exc
        if "Node" not in str(exc):  # the user's own mistake, not about a traced value
            raise
        raise TracingError(
            f"{describe(fn)} raised {type(exc).__name__}: {exc}{_where(exc)}. A traced value "
            f"stands for a single number: it supports + - * / **, abs(), adcompile's functions "
            f"(adcompile.sin, adcompile.max, ...) and the NumPy ufuncs that match them.") from exc


def _numpy_error_text(numpy_function: str, exc: BaseException) -> str:
    return (f"{numpy_function} cannot be traced{_where(exc)}: on an array of traced values it "
            f"raised {type(exc).__name__}: {exc}. adcompile unrolls only the NumPy functions that "
            "move elements or combine them with arithmetic (indexing, reshaping, + - * / @, "
            "np.sum, np.dot, the ufuncs that are adcompile's functions, ...); compute it from those.")


def _object_loop_error_text(exc: BaseException) -> str:
    return (f"{exc}{_where(exc)}. NumPy applies a ufunc such as np.tanh to an object array "
            "by calling each element's method of that name, which traced values have and plain "
            "numbers do not: an array made with np.array([...]) or np.zeros(n, dtype=object) "
            "mixes the two. Apply the function to the traced values before mixing in numbers, "
            "or to an array argument of the traced function.")


def _numpy_function_in(exc: BaseException) -> str | None:
    """The NumPy function the user called where ``exc`` was raised, if it was raised in NumPy
    (``numpy.linalg.det`` on an object array made by np.array([...]))."""
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    for caller, frame in zip(frames, frames[1:]):
        if _in_numpy(caller.f_code.co_filename) or not _in_numpy(frame.f_code.co_filename):
            continue
        module = frame.f_globals.get("__name__", "numpy")
        public = ".".join(part for part in module.split(".") if not part.startswith("_"))
        return visible(f"{public}.{frame.f_code.co_name}")
    return None


def _in_numpy(filename: str) -> bool:
    return f"{os.sep}numpy{os.sep}" in os.path.abspath(filename)


def _where(exc: BaseException) -> str:
    """`` (at FILE:LINE, in NAME)``: the innermost frame outside adcompile and NumPy."""
    frames = [(frame.f_code, line) for frame, line in traceback.walk_tb(exc.__traceback__)]
    for code, line in reversed(frames):
        path = os.path.abspath(code.co_filename)
        if path.startswith(_PACKAGE_DIR + os.sep) or f"{os.sep}numpy{os.sep}" in path:
            continue
        return visible(f" (at {code.co_filename}:{line}, in {code.co_name})")
    return ""
