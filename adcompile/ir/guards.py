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

A guard is the common part of a node's *paths*, the guards of its uses
(``need_paths``).  Where those diverge below it, as for ``log(x)`` in
``where(x > 0, log(x), 0) + where(x > 1, log(x), 0)``, the node is needed only
where one of them holds: the numpy backend makes its arguments safe where none
does (``ir/safe_branches.py``); the math backend computes it before the blocks.
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

    def need(node: Node, own: Guard, step: tuple[int, bool] | None) -> None:
        under = own + (step,) if step else own
        guard[node.id] = under if node.id not in guard else _common_prefix(guard[node.id], under)

    _from_users(order, is_choice, guard, need)
    return guard


def _from_users(order: list[Node], is_choice: Callable[[Node], bool], table: dict,
                need: Callable) -> None:
    """Visit each needed node before its arguments (``order`` is topological), calling
    ``need(arg, table[node.id], step)``: step is (condition id, branch) for a branch of a
    choice, None for any other argument."""
    for node in reversed(order):
        if node.kind != APPLY or node.id not in table:
            continue
        own = table[node.id]
        if is_choice(node):
            c, a, b = node.args
            need(c, own, None)
            need(a, own, (c.id, True))
            need(b, own, (c.id, False))
        else:
            for arg in node.args:
                need(arg, own, None)


PATH_LIMIT = 4  # more paths than this: the node is needed under their common guard


def simplify(paths: set[Guard]) -> set[Guard]:
    """The same condition, in fewest paths: a path under another is dropped (the shorter
    one already needs the node), and the two branches of one where merge into its guard."""
    paths = set(paths)
    changed = True
    while changed:
        changed = False
        for path in sorted(paths, key=len, reverse=True):
            if not path:
                return {()}
            shorter = any(len(q) < len(path) and path[:len(q)] == q for q in paths)
            sibling = path[:-1] + ((path[-1][0], not path[-1][1]),)
            if shorter or sibling in paths:
                paths.discard(path)
                if not shorter:
                    paths.discard(sibling)
                    paths.add(path[:-1])
                changed = True
                break
    return paths


def common(paths) -> Guard:
    """The longest guard every path starts with."""
    paths = list(paths)
    prefix = paths[0]
    for path in paths[1:]:
        prefix = _common_prefix(prefix, path)
    return prefix


def need_paths(order: list[Node], returned: list[Node],
               is_choice: Callable[[Node], bool] = is_where) -> dict[int, tuple[Guard, ...]]:
    """The nodes needed only under branches that diverge below their guard, each with the
    paths it is needed under (at most ``PATH_LIMIT``; see the module docstring)."""
    paths: dict[int, set[Guard]] = {n.id: {()} for n in returned}

    def need(node: Node, own: set[Guard], step: tuple[int, bool] | None) -> None:
        under = {g + (step,) for g in own} if step else own
        merged = simplify(paths.get(node.id, set()) | under)
        paths[node.id] = merged if len(merged) <= PATH_LIMIT else {common(merged)}

    _from_users(order, is_choice, paths, need)
    return {k: tuple(sorted(v)) for k, v in paths.items() if len(v) > 1}
