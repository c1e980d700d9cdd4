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
does).  NumPy's ufuncs that are one of the language's ops (``np.sin``,
``np.arccos``, ``np.maximum``, ...) build the same nodes, and ``np.sum`` /
``np.mean`` the language's reductions; every other NumPy function, branching
on a traced value, ``float(node)`` or ``math.sin(node)`` raise
``TracingError``, which explains why and what to write instead.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import traceback
from typing import Callable

from adcompile.codegen.backends import NUMPY
from adcompile.codegen.spellings import Call
from adcompile.errors import CompileError, visible
from adcompile.frontend.language import FUNCTIONS, Function
from adcompile.frontend.program import Program, normalize_name
from adcompile.ir.graph import Graph, evaluate
from adcompile.ir.node import Node, TracingError
from adcompile.ir.ops import OPS

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # adcompile/


class TracedNode(Node):
    """A node of a traced function: NumPy hands its calls here instead of converting it."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        refuse_numpy_array()


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


OP_FUNCTIONS = {name: op_function(f) for name, f in FUNCTIONS.items()}


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


def trace(fn: Callable, graph: Graph) -> Program:
    """Run ``fn`` on variable nodes of ``graph`` (a ``tracing_graph()``) and return what
    it computes as a Program."""
    if not issubclass(graph.node_type, TracedNode):
        raise TypeError("trace() needs a graph made by tracing_graph(), whose nodes answer NumPy")
    positional, keyword = _parameters(fn)
    variables = {normalize_name(p): graph.var(normalize_name(p)) for p in positional + keyword}
    result = _call(fn, [variables[normalize_name(p)] for p in positional],
                   {p: variables[normalize_name(p)] for p in keyword})
    if isinstance(result, dict):
        names, values = list(result), list(result.values())
    elif isinstance(result, (tuple, list)):
        names, values = [None] * len(result), list(result)
    else:
        names, values = [None], [result]
    outputs = []
    for value in values:
        if not isinstance(value, Node) and not (isinstance(value, numbers.Real)
                                                and not isinstance(value, bool)):
            raise CompileError(f"{describe(fn)} returned a {type(value).__name__}; "
                               "it must return a number, a traced value, or a tuple of them")
        outputs.append(graph.lift(value))
    return Program(outputs, names, variables=variables, signature=list(variables))


def _call(fn: Callable, args: list[Node], kwargs: dict[str, Node]):
    """``fn(*args, **kwargs)``; a mistake with a traced value becomes a ``TracingError``
    that says where in the user's code it happened."""
    try:
        return fn(*args, **kwargs)
    except TracingError as exc:
        exc.args = (f"{exc.args[0] if exc.args else exc}{_where(exc)}",) + exc.args[1:]
        raise
    except (TypeError, AttributeError) as exc:
        if "Node" not in str(exc):  # the user's own mistake, not about a traced value
            raise
        raise TracingError(
            f"{describe(fn)} raised {type(exc).__name__}: {exc}{_where(exc)}. A traced value "
            f"stands for a single number: it supports + - * / **, abs(), adcompile's functions "
            f"(adcompile.sin, adcompile.max, ...) and the NumPy ufuncs that match them.") from exc


def _where(exc: BaseException) -> str:
    """`` (at FILE:LINE, in NAME)``: the innermost frame outside adcompile and NumPy."""
    frames = [(frame.f_code, line) for frame, line in traceback.walk_tb(exc.__traceback__)]
    for code, line in reversed(frames):
        path = os.path.abspath(code.co_filename)
        if path.startswith(_PACKAGE_DIR + os.sep) or f"{os.sep}numpy{os.sep}" in path:
            continue
        return visible(f" (at {code.co_filename}:{line}, in {code.co_name})")
    return ""


# --- NumPy on traced values: NumPy hands the call to TracedNode, which asks here ---
_SUPPORTED = (
    "Traced values support + - * / ** and abs(), adcompile's functions (adcompile.sin, "
    "adcompile.exp, adcompile.max, ...), the NumPy ufuncs that are one of them (np.sin, "
    "np.exp, np.arccos, np.maximum, ...), and np.sum / np.mean (with backend numpy)."
)


def _unsupported(what: str) -> TracingError:
    return TracingError(f"{what} is not supported on traced adcompile values yet. {_SUPPORTED}")


@functools.cache
def _ufunc_ops() -> dict:
    """NumPy ufunc -> the language op it is, argument for argument: the arithmetic
    ufuncs, and every op the numpy backend prints as a ufunc (``np.arccos`` is ``acos``)."""
    import numpy as np

    table = {np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "div",
             np.negative: "neg", np.power: "pow"}
    for op in OPS.values():
        spelled = NUMPY.spelling(op)
        if op.language and isinstance(spelled, Call):
            ufunc = getattr(np, spelled.function, None)
            if isinstance(ufunc, np.ufunc) and ufunc.nin == op.arity:
                table[ufunc] = op.name
    return table


def numpy_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict) -> Node:
    """``np.sin(node)`` and friends (``TracedNode.__array_ufunc__``): the op, or a refusal."""
    name = f"np.{getattr(ufunc, '__name__', '?')}"
    if method != "__call__":
        raise _unsupported(f"{name}.{method}()")
    if kwargs:
        raise _unsupported(f"{name}() with {', '.join(f'{k}=' for k in kwargs)}")
    opname = _ufunc_ops().get(ufunc)
    if opname is None and getattr(ufunc, "__name__", None) != "positive":
        raise _unsupported(f"{name}()")
    for a in inputs:
        if not isinstance(a, Node) and (not isinstance(a, numbers.Real) or isinstance(a, bool)):
            raise TracingError(f"{name}() of a traced adcompile value and a {type(a).__name__}: "
                               "only numbers and traced values mix; arrays of traced values "
                               "are not supported yet (each traced value is a single number).")
    graph = next(a.graph for a in inputs if isinstance(a, Node))
    if opname is None:  # np.positive
        return graph.lift(inputs[0])
    return graph(opname, *inputs)


def numpy_function(func, args: tuple, kwargs: dict) -> Node:
    """``np.sum(node)`` / ``np.mean(node)`` (``TracedNode.__array_function__``): the language's
    reduction over all elements; every other NumPy function is refused."""
    import numpy as np

    name = f"np.{getattr(func, '__name__', '?')}()"
    opname = "sum" if func is np.sum else "mean" if func is np.mean else None
    if opname is None or not args or not isinstance(args[0], Node):
        raise _unsupported(name)
    defaults_only = all(v is None for v in args[1:]) and all(
        k in ("axis", "dtype", "out") and v is None for k, v in kwargs.items())
    if not defaults_only:
        raise TracingError(f"{name} of a traced adcompile value takes only the value: the "
                           f"language's {opname}() reduces over all elements to one number "
                           "(no axis, dtype, out, keepdims, ...).")
    return args[0].graph(opname, args[0])


def refuse_numpy_array() -> None:
    """``np.array(node)``, ``np.asarray(node)`` (``TracedNode.__array__``): refused."""
    raise TracingError(
        "NumPy tried to make an array of a traced adcompile value (np.array, np.asarray, or a "
        "list of traced values given to a NumPy function); arrays of traced values are not "
        f"supported yet. {_SUPPORTED}")
