"""Safe branches on arrays: the "double where", done by the compiler.

On arrays, ``np.where(c, a, b)`` computes both branches everywhere and picks
elementwise, so ``where(x > 0, log(x), -x)`` would call ``log`` on the
negative elements too: a RuntimeWarning, and a nan or inf that a naive adjoint
(0 times inf) turns into a nan gradient, as JAX's ``where`` does.  Here every
op under a guard (``ir/guards.py``) that is not finite everywhere (``Op.total``
false: ``log``, ``sqrt``, ``/``, ``exp``, ...) gets its arguments replaced, where
its guard does not hold, by a point of its own domain (the middle of its
``domain`` box, where it and its derivatives are ordinary numbers):

    log(x)  ->  log(where(x > 0, x, 1.6))

so nothing not taken warns or overflows, and its derivatives there are finite
numbers that the adjoint's own ``where`` (see ``ad/modes.py``) then discards.
Where the guard holds, every value is exactly what it was.  A node needed only
by branches of different ``where``s (``need_paths``) is made safe where none of
them is taken: ``log(where((x > 0) | (x > 1), x, 1.6))``.
"""

from __future__ import annotations

from adcompile.ir.graph import APPLY, CONST, Graph, Node, reachable
from adcompile.ir.guards import Guard, guards, need_paths


def _midpoint(box: tuple[float, float]) -> float:
    return (box[0] + box[1]) / 2.0


class _Masks:
    """One condition node per guard: where it holds (``c1 and not c2``)."""

    def __init__(self, graph: Graph, rebuilt: dict[int, Node]):
        self.graph, self.rebuilt = graph, rebuilt
        self.cache: dict[Guard, Node] = {}

    def holds(self, guard: Guard) -> Node:
        if guard not in self.cache:
            mask = None
            for cond_id, taken in guard:
                cond = self.rebuilt[cond_id]
                term = cond if taken else self.graph("logical_not", cond)
                mask = term if mask is None else self.graph("logical_and", mask, term)
            self.cache[guard] = mask
        return self.cache[guard]

    def any_of(self, paths: tuple[Guard, ...]) -> Node:
        """Where one of the paths holds (``c1 or c2``)."""
        mask = self.holds(paths[0])
        for path in paths[1:]:
            mask = self.graph("logical_or", mask, self.holds(path))
        return mask


def _conditions_first(graph: Graph, order: list[Node], guard: dict, paths: dict) -> list[Node]:
    """``order`` re-sorted so that each node also comes after the conditions of its guard
    and paths (``a if c else b`` builds ``a`` before ``c``): Kahn's algorithm, iteratively."""
    ids = {n.id for n in order}

    def conditions(node_id: int) -> set[int]:
        tested = guard.get(node_id, ()) + tuple(step for p in paths.get(node_id, ()) for step in p)
        return {c for c, _ in tested if c in ids}

    needs = {n.id: {a.id for a in n.args} | conditions(n.id) for n in order}
    users: dict[int, list[int]] = {}
    for node_id, deps in needs.items():
        for dep in deps:
            users.setdefault(dep, []).append(node_id)
    waiting = {k: len(v) for k, v in needs.items()}
    ready = [n.id for n in reversed(order) if not waiting[n.id]]
    out = []
    while ready:
        node_id = ready.pop()
        out.append(graph.nodes[node_id])
        for user in users.get(node_id, ()):
            waiting[user] -= 1
            if not waiting[user]:
                ready.append(user)
    return out


def safe_branches(graph: Graph, outputs: list[Node]) -> list[Node]:
    """``outputs`` rebuilt with every op that could fail in a branch not taken fed a safe
    argument there; unchanged (the same nodes) where there are no ``where``s."""
    order = reachable(outputs)
    if not any(n.kind == APPLY and n.op.name == "where" for n in order):
        return list(outputs)
    guard, paths = guards(order, outputs), need_paths(order, outputs)
    ordered = _conditions_first(graph, order, guard, paths)
    while len(ordered) < len(order):  # a condition of a node's paths needs the node itself
        done = {n.id for n in ordered}
        paths = {k: v for k, v in paths.items() if k in done}  # the rest: by its guard alone
        ordered = _conditions_first(graph, order, guard, paths)
    rebuilt: dict[int, Node] = {}
    masks = _Masks(graph, rebuilt)
    for node in ordered:
        if node.kind != APPLY:
            rebuilt[node.id] = node
            continue
        args = [rebuilt[a.id] for a in node.args]
        under = guard.get(node.id, ())
        needed = paths.get(node.id) or ((under,) if under else ())  # where it is needed
        if needed and not node.op.total:
            holds = masks.any_of(needed)
            args = [a if a.kind == CONST else graph("where", holds, a, _midpoint(box))
                    for a, box in zip(args, node.op.domain)]
        rebuilt[node.id] = graph(node.op.name, *args)
    return [rebuilt[o.id] for o in outputs]
