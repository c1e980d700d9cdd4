"""Array arguments, vector steps and loop names: what an index refers to.

An argument indexed anywhere (``x[0]``), or declared in ``shapes``, is an
array: its elements are the variables ``x[0]``, ... (``element_name``).  A
declared array's indices are checked against its shape (negative ones count
from the end); an undeclared array's length along each axis is one more than
the largest index used.  A vector step (``h = [...]``) is a list of nodes,
recorded as the steps ``h_0``, ``h_1``, ...  Indices and ``range`` bounds
must be whole numbers known when compiling: ``static_int`` evaluates them,
with the enclosing generators' loop names bound to their current values.
"""

from __future__ import annotations

import math

from adcompile.frontend.frames import Subscript
from adcompile.frontend.language import CONSTANTS
from adcompile.frontend.lexer import NAME, OP, Lexer, Token
from adcompile.frontend.program import Shape, element_name
from adcompile.frontend.statements import Statement
from adcompile.ir.graph import Graph, Node, evaluate, reachable
from adcompile.ir.node import CONST, VAR


class ArrayNames:
    """A mixin of ``Parser``: the state and checks of arrays, vector steps and loop names.

    It uses the host's ``lexer``, ``graph``, ``steps``, ``variables``,
    ``assigned_at``, ``where`` and ``_check_assigned``.
    """

    lexer: Lexer
    graph: Graph
    steps: dict[str, Node]
    variables: dict[str, Node]
    assigned_at: dict[str, int]

    def __init__(self, shapes: dict[str, Shape] | None):
        self.declared: dict[str, Shape] = {k: tuple(v) for k, v in (shapes or {}).items()}
        self.arrays: set[str] = {k for k, v in self.declared.items() if v}
        self.inferred: dict[str, list[int]] = {}  # undeclared array -> largest index per axis
        self.rank_at: dict[str, tuple[int, int]] = {}  # undeclared array -> (rank, first use)
        self.vectors: dict[str, list[Node]] = {}  # vector steps
        self.bindings: dict[str, int] = {}  # the names bound by the enclosing generators

    def bind(self, name: str, value: int | None) -> None:
        """Bind a generator's loop name to ``value`` (None: unbind)."""
        if value is None:
            self.bindings.pop(name, None)
        else:
            self.bindings[name] = value

    def check_index_name(self, tok: Token) -> None:
        """A generator's loop name must not hide a constant, a step or an array."""
        name = tok.text
        if name in CONSTANTS or name in self.assigned_at or name in self.arrays:
            what = ("a constant" if name in CONSTANTS else "assigned by the program"
                    if name in self.assigned_at else "an array")
            raise self.lexer.error(f"'{name}' cannot be the index of a loop: it is {what}; "
                                   "choose another name", tok.pos)

    def check_indexable(self, tok: Token) -> None:
        """Refuse indexing what is not an array argument or a vector step."""
        name = tok.text
        if name in self.bindings:
            raise self.lexer.error(f"'{name}' is a loop index (a whole number), not an array; "
                                   "it cannot be indexed", tok.pos)
        if name in CONSTANTS:
            raise self.lexer.error(f"'{name}' is a constant; it cannot be indexed", tok.pos)
        if name in self.steps:
            raise self.lexer.error(f"'{name}' is a single value, not a vector; it cannot be "
                                   "indexed", tok.pos)
        if name not in self.vectors:
            self._check_assigned(tok)
        if name in self.declared and not self.declared[name]:
            raise self.lexer.error(f"'{name}' is declared as a single value; it cannot be "
                                   "indexed", tok.pos)

    def static_int(self, node: Node, pos: int, what: str) -> int:
        """The whole number ``node`` stands for, or a ParseError at ``pos``."""
        if node.kind == CONST:
            value = node.value
        else:
            used = [n.value for n in reachable([node]) if n.kind == VAR]
            if used:
                raise self.lexer.error(
                    f"{what} must be a whole number known when compiling, but it depends on "
                    f"the variable '{used[0]}' (only numbers, len(...) and the names of "
                    "enclosing 'for ... in range(...)' loops may appear in it)", pos)
            try:
                value = evaluate([node])[node.id]
            except (ArithmeticError, ValueError):
                raise self.lexer.error(f"{what} cannot be computed", pos) from None
        if not math.isfinite(value) or value != int(value):
            raise self.lexer.error(f"{what} must be a whole number, not {value:g}", pos)
        return int(value)

    def length(self, tok: Token) -> int:
        """``len(NAME)``: a vector step's length or an array's first axis."""
        name = tok.text
        if name in self.vectors:
            return len(self.vectors[name])
        if self.declared.get(name):
            return self.declared[name][0]
        if name in self.arrays:
            raise self.lexer.error(
                f"the length of '{name}' is not known when compiling: declare its shape "
                f"(shapes={{'{name}': n}} in the API, --shape {name}=n on the command line)",
                tok.pos)
        raise self.lexer.error(f"len() needs an array or a vector step; '{name}' is not one",
                               tok.pos)

    def element(self, ref: Subscript, pos: int) -> Node:
        """The node of ``ref``'s element: a vector step's, or an array argument's variable."""
        name = ref.name.text
        if name in self.vectors:
            items = self.vectors[name]
            (k,) = self._in_bounds(ref, (len(items),), pos)
            return items[k]
        shape = self.declared.get(name)
        if shape:
            index = self._in_bounds(ref, shape, pos)
        else:
            index = self._inferred_index(ref, pos)
        key = element_name(name, index)
        if key not in self.variables:
            self.variables[key] = self.graph.var(key)
        return self.variables[key]

    def _in_bounds(self, ref: Subscript, shape: Shape, pos: int) -> tuple[int, ...]:
        name, index = ref.name.text, ref.index
        what = "vector step" if name in self.vectors else "array"
        if len(index) != len(shape):
            raise self.lexer.error(
                f"'{name}' is {'a' if what == 'vector step' else 'an'} {what} of shape {shape} "
                f"({len(shape)} ax{'is' if len(shape) == 1 else 'es'}), but {len(index)} "
                f"ind{'ex is' if len(index) == 1 else 'ices are'} given", ref.name.pos)
        out = []
        for k, n in zip(index, shape):
            if not -n <= k < n:
                raise self.lexer.error(
                    f"index {k} is out of range for '{name}' of shape {shape}"
                    f"{self._loop_values()}", pos)
            out.append(k + n if k < 0 else k)
        return tuple(out)

    def _loop_values(self) -> str:
        """`` (where i = 2, j = 0)``: the loop names bound when an error happens."""
        if not self.bindings:
            return ""
        return " (where " + ", ".join(f"{k} = {v}" for k, v in self.bindings.items()) + ")"

    def _inferred_index(self, ref: Subscript, pos: int) -> tuple[int, ...]:
        """An undeclared array's index; its length grows to cover the largest index used."""
        name, index = ref.name.text, ref.index
        rank, first = self.rank_at.setdefault(name, (len(index), ref.name.pos))
        if rank != len(index):
            raise self.lexer.error(
                f"'{name}' is indexed with {len(index)} ind{'ex' if len(index) == 1 else 'ices'} "
                f"here but with {rank} at {self.where(first)}", ref.name.pos)
        if any(k < 0 for k in index):
            raise self.lexer.error(
                f"a negative index needs the length of '{name}': declare its shape "
                f"(shapes={{'{name}': n}} in the API, --shape {name}=n on the command line)", pos)
        largest = self.inferred.setdefault(name, list(index))
        for axis, k in enumerate(index):
            largest[axis] = max(largest[axis], k)
        return index

    def shapes(self) -> dict[str, Shape]:
        """The array arguments' shapes: declared, then inferred from the indices used."""
        out = {k: v for k, v in self.declared.items() if v}
        for name, largest in self.inferred.items():
            out[name] = tuple(k + 1 for k in largest)
        return out

    def find_arrays(self, statements: list[Statement]) -> None:
        """Every name indexed somewhere that no statement assigns is an array argument."""
        for stmt in statements:
            toks = stmt.tokens
            for k in range(len(toks) - 1):
                if (toks[k].kind == NAME and toks[k + 1].kind == OP and toks[k + 1].text == "["
                        and toks[k].text not in self.assigned_at):
                    self.arrays.add(toks[k].text)

    def vector_step(self, name: str, items: list[Node]) -> list[str]:
        """Record a vector step; its elements are the steps ``name_0``, ``name_1``, ...
        (returned)."""
        self.vectors[name] = items
        labels = []
        for k, node in enumerate(items):
            label = f"{name}_{k}"
            while label in self.assigned_at or label in self.steps or label in self.variables:
                label += "_"
            self.steps[label] = node
            labels.append(label)
        return labels
