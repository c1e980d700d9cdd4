"""What every front end produces: a ``Program`` (outputs, named steps, inputs) in a graph.

Expression text (``text.py``), a SymPy expression (``sympy_in.py``) and a
traced Python function (``trace.py``) all lower to this one structure, so the
rest of the pipeline never knows which front end it came from.  Names are
normalised here as Python normalises identifiers, so that every front end
spells a variable the same way.
"""

from __future__ import annotations

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
