"""Sparse second derivatives: only the Hessian entries that are not structurally zero.

The dense Hessian pushes the whole gradient graph forward along every unit
vector e_j, which costs n sweeps of the gradient graph and prints n^2 entries,
nearly all literal zeros for a model like Rosenbrock's.  Here column j is
pushed forward only from the gradient entries that depend on ``wrt[j]`` at
all: those whose nodes lie in the forward cone of ``wrt[j]`` within the
gradient graph (found by walking the graph's consumer lists, iteratively).
The cost is the sum of the cones' sizes, O(n) for a banded model, and the
code has one line per nonzero entry.

Entries come out in COO form over the flat WRT scalars, both triangles,
row-major: ``(rows, cols, values)``, which is what
``scipy.sparse.coo_matrix((values, (rows, cols)))`` takes.
"""

from __future__ import annotations

from adcompile.ad.modes import forward
from adcompile.ir.graph import Graph, Node, reachable


def _consumers(nodes: list[Node]) -> dict[int, list[Node]]:
    users: dict[int, list[Node]] = {}
    for node in nodes:
        for arg in node.args:
            users.setdefault(arg.id, []).append(node)
    return users


def _cone(start: Node, users: dict[int, list[Node]]) -> set[int]:
    """The ids of the nodes that depend on ``start`` (itself included)."""
    seen, stack = {start.id}, [start]
    while stack:
        for user in users.get(stack.pop().id, ()):
            if user.id not in seen:
                seen.add(user.id)
                stack.append(user)
    return seen


def sparse_hessian(graph: Graph, grads: list[Node | None],
                   wrt: list[Node]) -> list[tuple[int, int, Node]]:
    """(i, j, d grad_i / d wrt_j) for every entry that is not structurally zero, both
    triangles, row-major; H[j][i] is the same node as H[i][j]."""
    users = _consumers(reachable([g for g in grads if g is not None]))
    rows_of: dict[int, list[int]] = {}
    for i, g in enumerate(grads):
        if g is not None:
            rows_of.setdefault(g.id, []).append(i)
    entries: dict[tuple[int, int], Node] = {}
    for j, w in enumerate(wrt):
        rows = sorted(i for node_id in _cone(w, users) for i in rows_of.get(node_id, ()) if i <= j)
        if not rows:
            continue
        column, _ = forward(graph, [grads[i] for i in rows], {w.id: graph.const(1.0)}, prefix=None)
        for i, entry in zip(rows, column):
            if entry is not None:
                entries[i, j] = entries[j, i] = entry
    return [(i, j, entries[i, j]) for i, j in sorted(entries)]


def coo(entries: list[tuple[int, int, Node]]) -> tuple[tuple[int, ...], tuple[int, ...], list[Node]]:
    """Entries as COO: the row indices, the column indices, the values."""
    return (tuple(i for i, _, _ in entries), tuple(j for _, j, _ in entries),
            [node for _, _, node in entries])
