"""A node of the computation graph, and what a Python value can do with it.

A ``Node`` is a variable, a constant, or an op applied to earlier nodes; the
``Graph`` of ``graph.py`` makes and interns them.  This module holds only the
node itself, so that ``rewrite.py`` (which inspects and builds nodes) and
``graph.py`` (which asks ``rewrite.py`` as it builds) both depend on it and not
on each other.

Node overloads ``+ - * / **`` (with the reflected forms), as the seed's does,
so derivative rules, and traced Python functions, read as ordinary arithmetic.
Everything else a Python function might do with a number (branch on it,
round it, index with it) either maps to an op or raises ``TracingError``
saying what to write instead: never a silent wrong answer.  What NumPy may do
with a traced value is tracing's business: see ``frontend/trace.py``.
"""

from __future__ import annotations

from adcompile.errors import AdcompileError
from adcompile.ir.ops import Op

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
    "this argument of the traced function is a single number, not a sequence or an array. "
    "To pass an array, declare its shape: adcompile.compile(f, shapes={'x': 3}) (a NumPy "
    "array of traced values then arrives, and NumPy code runs on it as written)."
)
_ROUNDING = (
    "rounding has no useful derivative (it is 0 almost everywhere), so adcompile has no such "
    "op. Leave the value unrounded, or round what the compiled function returns."
)


class Node:
    """One value of the computation: a variable, a constant, or an op of nodes."""

    __slots__ = ("graph", "kind", "op", "args", "value", "id")  # nothing is added later

    def __init__(self, graph, kind, op, args, value, id_):
        self.graph = graph
        self.kind = kind
        self.op: Op | None = op
        self.args: tuple[Node, ...] = args
        self.value = value  # float for a constant, the name for a variable
        self.id = id_

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
