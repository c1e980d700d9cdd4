"""Guards: the branches of ``where``s under which each node of a graph is needed.

A returned node is needed unconditionally (guard ``()``); an argument of an
ordinary node is needed wherever that node is; the first branch of
``where(c, a, b)`` needs ``a`` under (c, true) within the where's own guard, the
second needs ``b`` under (c, false), and the condition is needed wherever the
where is.  A node needed under several guards gets their longest common prefix.
The math backend's printer computes a node inside the blocks of its guard
(``codegen/branches.py``); the numpy backend makes the arguments of the nodes
under a guard safe where it does not hold (``ir/safe_branches.py``); reverse
mode keeps adjoint terms apart by guard (``ad/modes.py``).
"""

from __future__ import annotations

from typing import Callable

from adcompile.ir.node import APPLY, Node

Guard = tuple[tuple[int, bool], ...]


def _common_prefix(a: Guard, b: Guard) -> Guard:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return a[:n]


def is_where(node: Node) -> bool:
    return node.kind == APPLY and node.op.name == "where"


def guards(order: list[Node], returned: list[Node],
           is_choice: Callable[[Node], bool] = is_where) -> dict[int, Guard]:
    """Each node's guard (see the module docstring); ``order`` is topological."""
    guard: dict[int, Guard] = {n.id: () for n in returned}

    def need(node: Node, under: Guard) -> None:
        guard[node.id] = under if node.id not in guard else _common_prefix(guard[node.id], under)

    for node in reversed(order):
        if node.kind != APPLY or node.id not in guard:
            continue
        own = guard[node.id]
        if is_choice(node):
            c, a, b = node.args
            need(c, own)
            need(a, own + ((c.id, True),))
            need(b, own + ((c.id, False),))
        else:
            for arg in node.args:
                need(arg, own)
    return guard
