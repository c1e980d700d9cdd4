"""The functions a user may call by name, and how each builds graph nodes.

Almost every function is an op of ``ops.py`` under its own name.  A few are
sugar that lowers to ops, so that they need no derivative rule of their own:

* ``log(x, base)`` is ``log(x) / log(base)``;
* ``min`` and ``max`` take two or more arguments and fold pairwise.

A value is a number or a *condition* (a comparison, and, or, not: an op whose
row says ``boolean``); ``where``'s first argument is a condition, every other
argument a number.  ``is_condition`` tells them apart for every front end, and
``choose`` is one element of ``where`` for tracing (``adcompile.where``,
``np.where``): a node for a traced condition, Python's choice for a bool.

NumPy's names for the same functions (``arccos``, ``arctan2``, ``maximum``,
``multiply``, ...) are aliases (``NUMPY_ALIASES``): each builds exactly what its
adcompile name builds, and says its own name in messages.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from typing import Callable

from adcompile.ir.graph import Graph, Node
from adcompile.ir.node import CONST, TracingError
from adcompile.ir.ops import OPS

CONSTANTS = {"pi": math.pi}


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    build: Callable  # (graph, [nodes]) -> node
    doc: str
    conditions: tuple[int, ...] = ()  # the arguments that are conditions (where's first), not numbers

    def accepts(self, count: int) -> bool:
        """Whether ``count`` arguments are a valid call of this function."""
        return self.min_args <= count and (self.max_args is None or count <= self.max_args)

    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            n = self.min_args
            return f"{n} argument{'s' if n != 1 else ''}"
        if self.max_args is None:
            return f"{self.min_args} or more arguments"
        return f"{self.min_args} or {self.max_args} arguments"


def _op_function(op) -> Function:
    return Function(op.name, op.arity, op.arity, lambda g, args: g(op.name, *args), op.doc)


def _log(g, args):
    if len(args) == 1:
        return g("log", args[0])
    return g("div", g("log", args[0]), g("log", args[1]))


def fold(g: Graph, opname: str, args: list[Node]) -> Node:
    """``op(op(op(a, b), c), d)``: a binary op over one or more arguments, left to right."""
    result = args[0]
    for arg in args[1:]:
        result = g(opname, result, arg)
    return result


def _folding(opname: str) -> Callable:
    return lambda g, args: fold(g, opname, args)


FUNCTIONS: dict[str, Function] = {
    op.name: _op_function(op) for op in OPS.values() if op.language
}
FUNCTIONS["log"] = Function("log", 1, 2, _log, "log(x), or log(x, base) = log(x)/log(base)")
FUNCTIONS["max"] = Function("max", 2, None, _folding("max"), OPS["max"].doc)
FUNCTIONS["where"] = replace(FUNCTIONS["where"], conditions=(0,))
FUNCTIONS["min"] = Function("min", 2, None, _folding("min"), OPS["min"].doc)

# NumPy's name -> adcompile's function or op of the same meaning.  The arithmetic
# ops have no name of their own in the language (they are operators), so
# ``multiply(a, b)`` is the one way to call them by name.
NUMPY_ALIASES: dict[str, str] = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "absolute": "abs", "fabs": "abs", "maximum": "max", "minimum": "min", "power": "pow",
    "add": "add", "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "negative": "neg",
}


def _alias(alias: str, target: str) -> Function:
    base = FUNCTIONS.get(target) or _op_function(OPS[target])
    return replace(base, name=alias, doc=f"NumPy's name for {target}" + (f": {base.doc}" if base.doc else ""))


CANONICAL_NAMES = sorted(FUNCTIONS)
FUNCTIONS.update({alias: _alias(alias, target) for alias, target in NUMPY_ALIASES.items()})


# --- conditions ---
CONDITION_AS_NUMBER = (
    "a condition (a comparison such as x > 0, or conditions combined with & | ~) is not a "
    "number: for 1.0 where it holds and 0.0 where not, write adcompile.where(cond, 1.0, 0.0) "
    "(np.where(cond, 1.0, 0.0) in NumPy code)")


def is_condition(value) -> bool:
    """Whether ``value`` is a condition node (a comparison, and, or, not of them), not a number."""
    return isinstance(value, Node) and value.op is not None and value.op.boolean


def may_be_condition(value) -> bool:
    """A condition node, or the constant 1.0 or 0.0 a comparison of constants folds to
    (tracing has no other way to tell)."""
    return is_condition(value) or (isinstance(value, Node) and value.kind == CONST
                                   and value.value in (0.0, 1.0))


def refuse_conditions(what: str, args) -> None:
    """A ``TracingError`` if any of ``args`` is a condition where numbers are expected."""
    if any(is_condition(a) for a in args):
        raise TracingError(f"{what}: {CONDITION_AS_NUMBER}")


def is_bool(value) -> bool:
    """A Python or NumPy bool: a condition known while tracing."""
    numpy = sys.modules.get("numpy")
    return isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_))


def choose(condition, a, b, strict: bool = True):
    """One element of ``where``: a node if the condition is traced, else ``a if condition
    else b``.  ``strict``: a plain condition must be a bool (NumPy's where takes any number)."""
    refuse_conditions("where()'s second and third arguments are the values to choose from, "
                      "and one is a condition", (a, b))
    if isinstance(condition, Node):
        if not may_be_condition(condition):
            raise TracingError(
                "where()'s first argument is a traced number, not a condition: compare it, as "
                "in where(x > 0, a, b) or where(x != 0, a, b)")
        graph = condition.graph
        return graph("where", condition, graph.lift(a), graph.lift(b))
    if strict and not is_bool(condition):
        raise TypeError(f"where() needs a condition (True, False or a comparison of traced "
                        f"values) as its first argument, not {type(condition).__name__}")
    return a if condition else b


def describe_language() -> str:
    """A short listing of the language, for ``--help``."""
    names = " ".join(CANONICAL_NAMES)
    return (
        "numbers (2, 2.5, .5, 1e-3), names (Python identifiers), the constant pi, "
        "+ - * / ** (^ is **), unary - and +, parentheses; conditions: < <= > >= == != "
        "(chained as in Python), and, or, not, used in where(cond, a, b) or a if cond else b; "
        "functions: " + names
        + "; NumPy's names are aliases: " + " ".join(NUMPY_ALIASES)
    )
