"""What every front end produces: a ``Program`` (outputs, named steps, inputs) in a graph.

Expression text (``text.py``), a SymPy expression (``sympy_in.py``) and a
traced Python function (``trace.py``) all lower to this one structure, so the
rest of the pipeline never knows which front end it came from.  Names are
normalised here as Python normalises identifiers, so that every front end
spells a variable the same way.

An array argument has a static shape (``Program.shapes``, ``{"x": (3,)}``) and
each of its elements is a scalar variable of the graph, named
``element_name("x", (2,))`` = ``"x[2]"`` (a name no expression can spell as a
plain variable, so it never merges with one).  The graph and every pass see
only scalars; the interface packs them back into the argument's shape.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass, field

from adcompile.ir.node import APPLY, Node


@dataclass
class Program:
    """What a text defines: outputs, the user's named steps, the inputs."""

    outputs: list[Node]
    output_names: list[str | None]
    steps: dict[str, Node] = field(default_factory=dict)
    variables: dict[str, Node] = field(default_factory=dict)
    signature: list[str] | None = None  # a traced function's parameters, in order
    # array arguments: name -> static shape; their elements are in ``variables``
    # under ``element_name(name, index)``
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    vector_steps: tuple[str, ...] = ()  # steps assigned a list (``h = [...]``)

    def labels(self) -> dict[int, str]:
        """Node id -> the name the user gave that step (the first name, when one
        value is assigned to several names); variables and constants keep theirs."""
        labels: dict[int, str] = {}
        for name, node in self.steps.items():
            if node.kind == APPLY and node.id not in labels:
                labels[node.id] = name
        return labels


def normalize_name(name: str) -> str:
    """NFKC, as Python itself does to identifiers (so ``ﬁ`` is ``fi``)."""
    return unicodedata.normalize("NFKC", name)


Shape = tuple[int, ...]


def element_name(array: str, index: tuple[int, ...]) -> str:
    """The graph variable of one element of an array argument: ``x[2]``, ``W[1, 0]``."""
    return f"{array}[{', '.join(str(i) for i in index)}]"


def element_indices(shape: Shape) -> list[tuple[int, ...]]:
    """Every index of an array of ``shape``, in row-major (C) order."""
    return list(itertools.product(*(range(n) for n in shape)))


def element_count(shape: Shape | None) -> int:
    """How many scalars an argument of ``shape`` is (1 for a scalar, ``None``)."""
    return math.prod(shape or ())


def nest(flat: list, shape: Shape, row=list) -> list:
    """Row-major ``flat`` nested as ``shape``: rows made by ``row`` (lists by default),
    without recursion over the rank."""
    items = list(flat)
    for n in reversed(shape[1:]):
        items = [row(items[k: k + n]) for k in range(0, len(items), n)]
    return row(items)
