"""The computation graph: the seed's Node and Op, made immutable and hash-consed.

A ``Node`` (``node.py``) is a variable, a constant, or an op applied to earlier
nodes.  Nodes are created only through a ``Graph``, which

* interns them (tinygrad-style hash-consing): building ``x*y`` twice gives one
  node, so common subexpressions are shared the moment they are written;
* folds constants with each op's own value rule, and applies the algebraic
  identities of ``rewrite.py`` (both can be switched off, e.g. to show a
  student the graph exactly as written).

Because a node's arguments always exist before it, the order of creation is a
topological order.  ``reachable`` therefore only needs an iterative walk to
find the nodes an output depends on, then a sort by id: no recursion anywhere,
so graphs of 10^5 and more nodes are fine.

A graph makes its nodes of one class, ``Node`` unless told otherwise: tracing
uses a subclass that also answers NumPy (``frontend/trace.py``), so the IR
itself knows nothing of NumPy.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable

from adcompile.ir.node import APPLY, CONST, VAR, Node, TracingError
from adcompile.ir.ops import OPS, Op
from adcompile.ir.guards import guards
from adcompile.ir.rewrite import simplify


def _const_key(value: float) -> str:
    """A dict key that keeps -0.0 apart from 0.0 and merges all NaNs."""
    return value.hex()


class Graph:
    """A store of interned nodes, with construction-time simplification."""

    def __init__(self, *, cse: bool = True, fold: bool = True, algebra: bool = True,
                 reorder: bool = True, node_type: type[Node] = Node):
        self.cse = cse
        self.fold = fold
        self.algebra = algebra
        self.reorder = reorder  # put commutative operands in one order (x*y is y*x)
        self.node_type = node_type  # the class of every node this graph makes
        self.nodes: list[Node] = []
        self._interned: dict[tuple, Node] = {}

    def _new(self, kind, op, args, value, key) -> Node:
        if self.cse or kind != APPLY:
            found = self._interned.get(key)
            if found is not None:
                return found
        node = self.node_type(self, kind, op, args, value, len(self.nodes))
        self.nodes.append(node)
        self._interned[key] = node
        return node

    def var(self, name: str) -> Node:
        return self._new(VAR, None, (), name, ("var", name))

    def const(self, value: float) -> Node:
        value = float(value)
        return self._new(CONST, None, (), value, ("const", _const_key(value)))

    def lift(self, x) -> Node:
        if isinstance(x, Node):
            if x.graph is not self:
                raise ValueError("cannot mix nodes from two different graphs")
            return x
        if isinstance(x, numbers.Real) and not isinstance(x, bool):
            try:
                return self.const(float(x))
            except OverflowError:
                raise TracingError(f"a number of {len(str(abs(int(x))))} digits is too large "
                                   "for a double, which the compiled code computes with") from None
        raise TracingError(f"cannot use a {type(x).__name__} in an adcompile expression: only "
                           "numbers and traced values mix (each traced value is a single number)")

    def __call__(self, opname: str, *args) -> Node:
        """Apply an op: fold, simplify, intern.  The one way op nodes are made."""
        op = OPS[opname]
        nodes = tuple([a if type(a) is self.node_type and a.graph is self else self.lift(a)
                       for a in args])
        if op.commutative and self.reorder and len(nodes) == 2:
            a, b = nodes
            if _commutative_order(b) < _commutative_order(a):
                nodes = (b, a)
        if self.fold and all(n.kind == CONST for n in nodes):
            folded = fold_constant(op, [n.value for n in nodes])
            if folded is not None:
                return self.const(folded)
        if self.algebra:
            simpler = simplify(self, op, nodes)
            if simpler is not None:
                return simpler
        return self._new(APPLY, op, nodes, None, (opname, *[n.id for n in nodes]))


def _commutative_order(node: Node):
    """Constants first (``2.0 * x`` reads well), then in order of creation."""
    return (node.kind != CONST, node.id)


def fold_constant(op: Op, values: list[float]) -> float | None:
    """The op's own value rule on constants, or None where it cannot fold."""
    try:
        result = op.value(*values)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # leave it to run time, which raises as math does
    if isinstance(result, bool):  # a condition of constants: 1.0 where it holds, else 0.0
        result = float(result)
    if not isinstance(result, float) or math.isnan(result):
        return None
    return result


def reachable(outputs: Iterable[Node]) -> list[Node]:
    """Every node the outputs depend on, in topological (creation) order."""
    seen: dict[int, Node] = {}
    stack = [n for n in outputs if n is not None]
    for n in stack:
        seen[n.id] = n
    while stack:
        node = stack.pop()
        for arg in node.args:
            if arg.id not in seen:
                seen[arg.id] = arg
                stack.append(arg)
    return [seen[i] for i in sorted(seen)]


def evaluate(outputs: Iterable[Node], point: dict[str, float] | None = None,
             apply: Callable[[Node, list[float]], float] | None = None) -> dict[int, float]:
    """Every needed node's value by each op's own value rule, variables from ``point``.

    Errors are the value rules' own (``ValueError`` for ``log(-1)``, as ``math``),
    with the failing op's name added as a note.  ``apply(node, argument values)``,
    if given, computes an op node's value instead of its value rule.  A node that
    only a branch not taken needs (``log(x)`` in ``where(x > 0, log(x), -x)`` at
    x = -1) raises nothing: its value is nan, as its branch is never used.
    """
    point = point or {}
    outputs = list(outputs)
    order = reachable(outputs)
    guard = guards(order, outputs) if any(n.opname == "where" for n in order) else {}
    values: dict[int, float] = {}
    failed: dict[int, BaseException] = {}
    for node in order:
        if node.kind == CONST:
            values[node.id] = node.value
        elif node.kind == VAR:
            values[node.id] = point[node.value]
        elif apply is not None:
            values[node.id] = apply(node, [values[a.id] for a in node.args])
        else:
            try:
                values[node.id] = node.op.value(*(values[a.id] for a in node.args))
            except (ArithmeticError, ValueError) as exc:  # domain, pole, overflow
                exc.add_note(node.op.name)
                if not guard.get(node.id):
                    raise
                failed[node.id], values[node.id] = exc, math.nan
    for node_id, exc in failed.items():  # a failure in a branch that is taken is an error
        if all(bool(values[c]) == taken for c, taken in guard[node_id]):
            raise exc
    return values


def use_counts(nodes: Iterable[Node]) -> dict[int, int]:
    """How many times each node is used as an argument among ``nodes``."""
    counts: dict[int, int] = {}
    for node in nodes:
        for arg in node.args:
            counts[arg.id] = counts.get(arg.id, 0) + 1
    return counts


def format_ir(outputs: list[Node], labels: dict[int, str] | None = None) -> str:
    """A small, stable text form of a graph, for golden tests and debugging.

    Op nodes are numbered ``%0, %1, ...`` in topological order (or shown by
    their name in ``labels``); variables by name; constants by value.
    """
    labels = labels or {}
    names: dict[int, str] = {}
    lines = []

    def show(n: Node) -> str:
        if n.kind == CONST:
            return repr(n.value)
        if n.kind == VAR:
            return n.value
        return names[n.id]

    for node in reachable(outputs):
        if node.kind != APPLY:
            continue
        names[node.id] = labels.get(node.id) or f"%{len(names)}"
        args = ", ".join(show(a) for a in node.args)
        lines.append(f"{names[node.id]} = {node.op.name}({args})")
    lines.append("return " + ", ".join(show(n) for n in outputs))
    return "\n".join(lines)
