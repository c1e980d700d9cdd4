"""Tracing a Python function into the graph, as the seed's Node does.

``trace(fn, graph)`` calls ``fn`` once with a variable node for each
parameter; the overloaded operators on ``Node`` and the op functions below
build the graph as the function runs.  The result lowers to the same
``Program`` as expression text, so there is no second pipeline.

The op functions (``adcompile.sin``, ``adcompile.max``, ...) build nodes when
any argument is a node and compute plain floats otherwise, with the op's own
value rule (so ``adcompile.log(-1.0)`` raises ``ValueError`` as ``math.log``
does).  Branching on a traced value, ``float(node)`` or ``math.sin(node)``
raise ``TracingError``, which explains why and what to write instead.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Callable

from .errors import CompileError
from .graph import Graph, Node, evaluate
from .language import FUNCTIONS, Function
from .parse import Program, normalize_name


def op_function(function: Function) -> Callable:
    """The Python function for one language function, e.g. ``adcompile.sin``."""

    def apply(*args):
        count = len(args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            raise TypeError(f"{function.name}() takes {function.arity_text()}, got {count}")
        nodes = [a for a in args if isinstance(a, Node)]
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
    """``module.qualname`` of a function, for headers and messages."""
    return f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', repr(fn))}"


def default_name(fn: Callable) -> str:
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else "f"


def _parameters(fn: Callable) -> list[str]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise CompileError(f"cannot read the signature of {describe(fn)}: {exc}") from None
    names = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise CompileError(f"cannot trace {describe(fn)}: *{p.name} has no fixed names; "
                               "list each argument in the signature")
        names.append(p.name)
    return names


def trace(fn: Callable, graph: Graph) -> Program:
    """Run ``fn`` on variable nodes and return what it computes as a Program."""
    params = _parameters(fn)
    variables = {normalize_name(p): graph.var(normalize_name(p)) for p in params}
    positional = [variables[normalize_name(p)] for p in params]
    result = fn(*positional)
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
