"""The computation graph: the seed's Node and Op, made immutable and hash-consed.

A ``Node`` is a variable, a constant, or an op applied to earlier nodes.  Nodes
are created only through a ``Graph``, which

* interns them (tinygrad-style hash-consing): building ``x*y`` twice gives one
  node, so common subexpressions are shared the moment they are written;
* folds constants with each op's own value rule, and applies the algebraic
  identities of ``rewrite.py`` (both can be switched off, e.g. to show a
  student the graph exactly as written).

Because a node's arguments always exist before it, the order of creation is a
topological order.  ``reachable`` therefore only needs an iterative walk to
find the nodes an output depends on, then a sort by id: no recursion anywhere,
so graphs of 10^5 and more nodes are fine.

Node overloads ``+ - * / **`` (with the reflected forms), as the seed's does,
so derivative rules, and traced Python functions, read as ordinary arithmetic.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable

from .errors import AdcompileError
from .ops import OPS, Op

CONST, VAR, APPLY = 0, 1, 2


class TracingError(AdcompileError, TypeError):
    """A traced value was used where a concrete number is needed."""


_BRANCH_HELP = (
    "adcompile builds a graph of the whole computation, so a traced value has no "
    "concrete number yet, and code that branches on it cannot be compiled into "
    "straight-line code. Write the choice as an op instead: max(a, b), min(a, b), "
    "relu(x) or abs(x)."
)


class Node:
    """One value of the computation: a variable, a constant, or an op of nodes."""

    __slots__ = ("graph", "kind", "op", "args", "value", "id", "label", "hint")

    def __init__(self, graph, kind, op, args, value, id_):
        self.graph = graph
        self.kind = kind
        self.op: Op | None = op
        self.args: tuple[Node, ...] = args
        self.value = value  # float for a constant, the name for a variable
        self.id = id_
        self.label: str | None = None  # a name the user gave this step
        self.hint: tuple | None = None  # ("d", node): the adjoint of node, ...

    @property
    def is_const(self) -> bool:
        return self.kind == CONST

    @property
    def is_var(self) -> bool:
        return self.kind == VAR

    @property
    def opname(self) -> str:
        return self.op.name if self.op else ("const" if self.kind == CONST else "var")

    def __repr__(self) -> str:
        if self.kind == CONST:
            return f"Node(const {self.value!r})"
        if self.kind == VAR:
            return f"Node(var {self.value})"
        return f"Node(#{self.id} {self.op.name})"

    # --- arithmetic builds graph nodes, as in the seed ---
    def __add__(self, other):
        return self.graph("add", self, other)

    def __radd__(self, other):
        return self.graph("add", other, self)

    def __sub__(self, other):
        return self.graph("sub", self, other)

    def __rsub__(self, other):
        return self.graph("sub", other, self)

    def __mul__(self, other):
        return self.graph("mul", self, other)

    def __rmul__(self, other):
        return self.graph("mul", other, self)

    def __truediv__(self, other):
        return self.graph("div", self, other)

    def __rtruediv__(self, other):
        return self.graph("div", other, self)

    def __pow__(self, other):
        return self.graph("pow", self, other)

    def __rpow__(self, other):
        return self.graph("pow", other, self)

    def __neg__(self):
        return self.graph("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.graph("abs", self)

    # --- a traced value has no concrete number: say so instead of guessing ---
    def _refuse(self, what: str):
        raise TracingError(f"{what} of a traced adcompile value. {_BRANCH_HELP}")

    def __bool__(self):
        self._refuse("Branching on (or bool() of)")

    def __float__(self):
        raise TracingError(
            "float() of a traced adcompile value: it has no concrete number while the "
            "function is traced. math.sin(x) and friends call float(); use adcompile.sin(x), "
            "adcompile.exp(x), ... instead, which build the graph.")

    def __int__(self):
        self._refuse("int()")

    def __index__(self):
        self._refuse("Using as an index")

    def __lt__(self, other):
        self._refuse("Comparing (<)")

    def __le__(self, other):
        self._refuse("Comparing (<=)")

    def __gt__(self, other):
        self._refuse("Comparing (>)")

    def __ge__(self, other):
        self._refuse("Comparing (>=)")

    def __eq__(self, other):
        self._refuse("Comparing (==)")

    def __ne__(self, other):
        self._refuse("Comparing (!=)")

    def __hash__(self):
        return id(self)

    def __floordiv__(self, other):
        raise TracingError("Floor division (//) is not differentiable; use / instead.")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other):
        raise TracingError("The % operator is not supported on traced values.")

    __rmod__ = __mod__


def _const_key(value: float) -> str:
    """A dict key that keeps -0.0 apart from 0.0 and merges all NaNs."""
    return value.hex()


class Graph:
    """A store of interned nodes, with construction-time simplification."""

    def __init__(self, *, cse: bool = True, fold: bool = True, algebra: bool = True):
        self.cse = cse
        self.fold = fold
        self.algebra = algebra
        self.nodes: list[Node] = []
        self._interned: dict[tuple, Node] = {}

    def _new(self, kind, op, args, value, key) -> Node:
        if self.cse or kind != APPLY:
            found = self._interned.get(key)
            if found is not None:
                return found
        node = Node(self, kind, op, args, value, len(self.nodes))
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
            return self.const(float(x))
        raise TypeError(f"cannot use {type(x).__name__} {x!r} in an adcompile expression")

    def __call__(self, opname: str, *args) -> Node:
        """Apply an op: fold, simplify, intern.  The one way op nodes are made."""
        op = OPS[opname]
        nodes = tuple([a if type(a) is Node and a.graph is self else self.lift(a) for a in args])
        if op.commutative and len(nodes) == 2:
            a, b = nodes
            if _commutative_order(b) < _commutative_order(a):
                nodes = (b, a)
        if self.fold and all(n.kind == CONST for n in nodes):
            folded = fold_constant(op, [n.value for n in nodes])
            if folded is not None:
                return self.const(folded)
        if self.algebra:
            simpler = _simplify(self, op, nodes)
            if simpler is not None:
                return simpler
        return self._new(APPLY, op, nodes, None, (opname, *[n.id for n in nodes]))


def _simplify(graph: Graph, op: Op, nodes: tuple) -> Node | None:
    from .rewrite import simplify  # rewrite.py builds nodes, so it imports this module

    global _simplify
    _simplify = simplify
    return simplify(graph, op, nodes)


def _commutative_order(node: Node):
    """Constants first (``2.0 * x`` reads well), then in order of creation."""
    return (node.kind != CONST, node.id)


def fold_constant(op: Op, values: list[float]) -> float | None:
    """The op's own value rule on constants, or None where it cannot fold."""
    try:
        result = op.value(*values)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # leave it to run time, which raises as math does
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


def evaluate(outputs: Iterable[Node], point: dict[str, float] | None = None) -> dict[int, float]:
    """Every needed node's value by each op's own value rule, variables from ``point``.

    Errors are the value rules' own (``ValueError`` for ``log(-1)``, as ``math``),
    with the failing op's name added as a note.
    """
    point = point or {}
    values: dict[int, float] = {}
    for node in reachable(outputs):
        if node.kind == CONST:
            values[node.id] = node.value
        elif node.kind == VAR:
            values[node.id] = point[node.value]
        else:
            try:
                values[node.id] = node.op.value(*(values[a.id] for a in node.args))
            except (ArithmeticError, ValueError) as exc:  # domain, pole, overflow
                exc.add_note(node.op.name)
                raise
    return values


def use_counts(nodes: Iterable[Node]) -> dict[int, int]:
    """How many times each node is used as an argument among ``nodes``."""
    counts: dict[int, int] = {}
    for node in nodes:
        for arg in node.args:
            counts[arg.id] = counts.get(arg.id, 0) + 1
    return counts


def format_ir(outputs: list[Node]) -> str:
    """A small, stable text form of a graph, for golden tests and debugging.

    Op nodes are numbered ``%0, %1, ...`` in topological order (or shown by
    their label); variables by name; constants by value.
    """
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
        names[node.id] = node.label or f"%{len(names)}"
        args = ", ".join(show(a) for a in node.args)
        lines.append(f"{names[node.id]} = {node.op.name}({args})")
    lines.append("return " + ", ".join(show(n) for n in outputs))
    return "\n".join(lines)
