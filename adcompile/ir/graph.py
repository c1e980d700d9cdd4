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
Everything else a Python function might do with a number (branch on it,
round it, index with it, hand it to NumPy) either maps to an op or raises
``TracingError`` saying what to write instead: never a silent wrong answer.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable

from adcompile.errors import AdcompileError
from adcompile.ir.ops import OPS, Op

CONST, VAR, APPLY = 0, 1, 2


class TracingError(AdcompileError, TypeError):
    """A traced value was used in a way a graph cannot record: where a concrete number
    is needed (branching, float(), indexing), or with something that is not a number."""


_NO_NUMBER = (
    "while adcompile traces a function, it runs it once on graph nodes to record its steps, "
    "so a traced value has no concrete number yet"
)
_BRANCH_HELP = (
    f"{_NO_NUMBER}, and code that branches on it cannot be compiled into straight-line code. "
    "Write the choice as an op instead: adcompile.max(a, b), adcompile.min(a, b), "
    "adcompile.relu(x) or abs(x)."
)
_COMPARE_HELP = (
    " (The builtins max() and min() compare their arguments, so they branch too: "
    "use adcompile.max and adcompile.min.)"
)
_ONE_NUMBER = (
    "each argument of a traced function is a single number, not a sequence or an array. "
    "Give each number its own parameter (def f(x0, x1): ...); arrays of traced values are "
    "not supported yet."
)
_ROUNDING = (
    "rounding has no useful derivative (it is 0 almost everywhere), so adcompile has no such "
    "op. Leave the value unrounded, or round what the compiled function returns."
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

    def __pow__(self, other, modulo=None):
        if modulo is not None:
            raise TracingError(f"pow(x, y, modulo) of a traced adcompile value: {_ROUNDING}")
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
        raise TracingError(f"{what} of a traced adcompile value: {_BRANCH_HELP}")

    def _compare(self, symbol: str):
        raise TracingError(f"Comparing ({symbol}) a traced adcompile value: "
                           f"{_BRANCH_HELP}{_COMPARE_HELP}")

    def __bool__(self):
        self._refuse("Branching on (if, while, and, or, not, bool())")

    def __float__(self):
        raise TracingError(
            f"float() of a traced adcompile value: {_NO_NUMBER}. math.sin(x) and friends "
            "call float(); use adcompile.sin(x), adcompile.exp(x), ... instead, which build "
            "the graph.")

    def __complex__(self):
        raise TracingError(
            "complex() (or a cmath function) of a traced adcompile value: adcompile works "
            "with real numbers; use adcompile.sin(x), adcompile.exp(x), ... instead.")

    def __int__(self):
        raise TracingError(f"int() of a traced adcompile value: {_ROUNDING}")

    def __round__(self, ndigits=None):
        raise TracingError(f"round() of a traced adcompile value: {_ROUNDING}")

    def __trunc__(self):
        raise TracingError(f"math.trunc() of a traced adcompile value: {_ROUNDING}")

    def __floor__(self):
        raise TracingError(f"math.floor() of a traced adcompile value: {_ROUNDING}")

    def __ceil__(self):
        raise TracingError(f"math.ceil() of a traced adcompile value: {_ROUNDING}")

    def __index__(self):
        raise TracingError(
            "Using a traced adcompile value as an index or a count (seq[x], range(x)): the "
            "position or count would depend on the value, which straight-line code cannot do, "
            "and a traced value stands for a real number, not an integer. Index and count with "
            "Python integers only.")

    def __getitem__(self, key):
        raise TracingError(f"Indexing a traced adcompile value (x[...]): {_ONE_NUMBER}")

    def __iter__(self):
        raise TracingError(f"Iterating over (or unpacking) a traced adcompile value: {_ONE_NUMBER}")

    def __len__(self):
        raise TracingError(f"len() of a traced adcompile value: {_ONE_NUMBER}")

    def __lt__(self, other):
        self._compare("<")

    def __le__(self, other):
        self._compare("<=")

    def __gt__(self, other):
        self._compare(">")

    def __ge__(self, other):
        self._compare(">=")

    def __eq__(self, other):
        self._compare("==")

    def __ne__(self, other):
        self._compare("!=")

    def __hash__(self):
        return id(self)

    def __format__(self, spec: str) -> str:
        if spec:
            raise TracingError(
                f"Formatting a traced adcompile value with {spec!r}: {_NO_NUMBER}. Format the "
                "numbers the compiled function returns instead.")
        return repr(self)

    def __floordiv__(self, other):
        raise TracingError(f"Floor division (//) of a traced adcompile value: {_ROUNDING} "
                           "For division, use /.")

    __rfloordiv__ = __floordiv__

    def __divmod__(self, other):
        raise TracingError(f"divmod() of a traced adcompile value: {_ROUNDING}")

    __rdivmod__ = __divmod__

    def __mod__(self, other):
        raise TracingError(f"The % operator on a traced adcompile value (it rounds): {_ROUNDING}")

    __rmod__ = __mod__

    def __matmul__(self, other):
        raise TracingError("The @ operator (matrix product) on a traced adcompile value: each "
                           "traced value is a single number; use * to multiply.")

    __rmatmul__ = __matmul__

    def __xor__(self, other):
        raise TracingError("The ^ operator on a traced adcompile value: in Python, ^ is bitwise "
                           "xor, not a power (only adcompile's expression language reads ^ as "
                           "**). Write x**2 for a power.")

    __rxor__ = __xor__

    def _bitwise(self, *other):
        raise TracingError("A bitwise operator (& | ~ << >>) on a traced adcompile value: traced "
                           "values are real numbers, and bitwise operators work on integers.")

    __and__ = __rand__ = __or__ = __ror__ = __invert__ = _bitwise
    __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _bitwise

    # --- NumPy calls these instead of converting the node (trace.py maps or refuses) ---
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from adcompile.frontend.trace import numpy_ufunc

        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from adcompile.frontend.trace import numpy_function

        return numpy_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        from adcompile.frontend.trace import refuse_numpy_array

        refuse_numpy_array()


def _const_key(value: float) -> str:
    """A dict key that keeps -0.0 apart from 0.0 and merges all NaNs."""
    return value.hex()


class Graph:
    """A store of interned nodes, with construction-time simplification."""

    def __init__(self, *, cse: bool = True, fold: bool = True, algebra: bool = True,
                 reorder: bool = True):
        self.cse = cse
        self.fold = fold
        self.algebra = algebra
        self.reorder = reorder  # put commutative operands in one order (x*y is y*x)
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
        nodes = tuple([a if type(a) is Node and a.graph is self else self.lift(a) for a in args])
        if op.commutative and self.reorder and len(nodes) == 2:
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
    from adcompile.ir.rewrite import simplify  # rewrite.py builds nodes, so it imports this module

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


def evaluate(outputs: Iterable[Node], point: dict[str, float] | None = None,
             apply: Callable[[Node, list[float]], float] | None = None) -> dict[int, float]:
    """Every needed node's value by each op's own value rule, variables from ``point``.

    Errors are the value rules' own (``ValueError`` for ``log(-1)``, as ``math``),
    with the failing op's name added as a note.  ``apply(node, argument values)``,
    if given, computes an op node's value instead of its value rule.
    """
    point = point or {}
    values: dict[int, float] = {}
    for node in reachable(outputs):
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
