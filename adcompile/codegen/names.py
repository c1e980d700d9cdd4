"""Names in generated code: valid, unique, and as close to the user's as possible.

* A user name that is a Python keyword (``lambda``, ``if``) or otherwise cannot
  be a parameter (``__debug__``) gets a trailing underscore: ``lambda_``.
* ``NameAllocator`` hands out names that collide with nothing already taken:
  the user's own names first, then module-level imports and helpers, then
  temporaries ``t0, t1, ...`` and adjoints ``d_<name>``.  So a user variable
  called ``t0``, ``d_t0``, ``sin`` or ``math`` is simply another taken name.
* ``NodeNamer`` names a module's nodes once for the whole module: a step the
  user named keeps that name (``f3``); a derivative is named after its primal
  (``d_f3``, ``d_x``, ``dot_t3``), and while an adjoint is accumulated from
  several uses, later contributions add in place (``d_x2 += t5``), as in the
  seed's backward pass; everything else is a temporary ``t0, t1, ...``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from adcompile.ir.graph import APPLY, VAR, Node

_UNASSIGNABLE = {"__debug__"}
_DIGITS = re.compile(r"(\d+)")


def is_reserved_word(name: str) -> bool:
    return keyword.iskeyword(name) or name in _UNASSIGNABLE


def python_name(name: str) -> str:
    """The identifier used in generated code for a user's name."""
    while is_reserved_word(name):
        name += "_"
    return name


def natural_key(name: str) -> tuple:
    """Sort key under which ``x2 < x10`` and ``beta0 < omega0 < x``."""
    parts = _DIGITS.split(name)
    folded = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return folded, tuple(parts)


def natural_sorted(names) -> list[str]:
    return sorted(names, key=natural_key)


class NameAllocator:
    """Unique identifiers: each ``take`` returns a name no one else has."""

    def __init__(self, taken=()):
        self.taken: set[str] = set(taken)
        self._counters: dict[str, int] = {}

    def take(self, wanted: str) -> str:
        name = python_name(wanted)
        if name not in self.taken:
            self.taken.add(name)
            return name
        k = 1
        while f"{name}_{k}" in self.taken:
            k += 1
        self.taken.add(f"{name}_{k}")
        return f"{name}_{k}"

    def take_with_underscores(self, wanted: str) -> str:
        """``wanted``, or with trailing underscores until it is free and not a
        keyword (``lambda_``, ``lambda__``): how parameters the user sees are named."""
        name = wanted
        while name in self.taken or is_reserved_word(name):
            name += "_"
        self.taken.add(name)
        return name

    def copy(self) -> NameAllocator:
        """An allocator that has taken what this one has, and goes on by itself."""
        other = NameAllocator(self.taken)
        other._counters = dict(self._counters)
        return other

    def fresh(self, prefix: str = "t") -> str:
        k = self._counters.get(prefix, 0)
        while f"{prefix}{k}" in self.taken:
            k += 1
        self._counters[prefix] = k + 1
        self.taken.add(f"{prefix}{k}")
        return f"{prefix}{k}"


# node id -> (prefix, the primals the node is the derivative of, in the order found):
# what ``ad.modes.reverse`` and ``forward`` return
NameHints = dict[int, tuple[str, list[Node]]]


@dataclass
class NodeNames:
    """Each node's name, and the nodes printed as ``name += term`` (or ``-=``)."""

    names: dict[int, str]
    accumulate: dict[int, tuple[str, Node]] = field(default_factory=dict)


class NodeNamer:
    """Names a module's op nodes: labels, then derivatives after their primal, then temporaries."""

    def __init__(self, alloc: NameAllocator, labels: dict[int, str], hints: NameHints,
                 inlined: frozenset[int] | set[int] = frozenset()):
        self.alloc = alloc
        self.labels = labels
        self.inlined = inlined  # nodes written inside their user's line: no name
        self.derivative_of = {k: (prefix, max(primals, key=self._rank))
                              for k, (prefix, primals) in hints.items()}

    def _rank(self, primal: Node) -> int:
        """How well a primal names its derivative: a user's step (as the seed's
        dl/df3), then a variable, then a temporary.  One adjoint shared by several
        primals (``d_f3`` is also ``d_t4`` when the output is ``f3 - y``) is named
        after the best-named of them, the first found among equals.  A primal written
        inline has no name to lend."""
        if primal.id in self.inlined:
            return -1
        return 2 if primal.id in self.labels else 1 if primal.kind == VAR else 0

    def name(self, nodes: list[Node], known: dict[int, str], uses: dict[int, int]) -> NodeNames:
        """Name the op nodes of ``nodes`` (topological order); ``known`` names the
        parameters; ``uses`` counts each node's uses (a returned node counts twice)."""
        result = NodeNames(dict(known))
        names = result.names
        for node in nodes:
            if node.kind != APPLY or node.id in self.inlined:
                continue
            if node.id in self.labels:
                names[node.id] = self.alloc.take(self.labels[node.id])
                continue
            prefix, primal = self.derivative_of.get(node.id, (None, None))
            if primal is None or primal.id not in names:
                names[node.id] = self.alloc.fresh("t")
                continue
            chain = self._accumulates_onto(node, uses)
            if chain is not None:
                names[node.id] = names[chain[0].id]
                result.accumulate[node.id] = (chain[1], chain[2])
            else:
                names[node.id] = self.alloc.take(f"{prefix}_{names[primal.id]}")
        return result

    def _accumulates_onto(self, node: Node, uses: dict[int, int]) -> tuple | None:
        """(previous partial sum, '+' or '-', the term) when ``d += term`` fits:
        the previous partial sum is the same derivative, used only here."""
        if node.op.name not in ("add", "sub"):
            return None
        prefix, primal = self.derivative_of[node.id]
        a, b = node.args
        candidates = [(a, b)] if node.op.name == "sub" else [(a, b), (b, a)]
        for prev, term in candidates:
            if (
                prev.kind == APPLY
                and self.derivative_of.get(prev.id, (None, None))[1] is primal
                and self.derivative_of[prev.id][0] == prefix
                and prev.id not in self.labels
                and prev.id not in self.inlined  # written inside this line: no name to reuse
                and uses.get(prev.id, 0) == 1
                and prev is not term
            ):
                return prev, "+" if node.op.name == "add" else "-", term
        return None
