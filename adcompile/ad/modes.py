"""Reverse mode (and forward mode) as graph -> graph transforms.

The derivative of a graph is built in the same graph, from each op's rule in
``ops.py``, so it is hash-consed and simplified like anything else, can be
printed by the same code generator, and can be differentiated again.

Reverse mode follows the seed: walk the nodes in reverse topological order;
each node's adjoint is final when it is reached, and sends one contribution to
each argument (the adjoint times the local derivative).  A node used twice
accumulates both contributions.  Only nodes that lie on a path from a
requested variable carry adjoints ("active" nodes), and a contribution that is
structurally zero is never built, so nothing is computed that the requested
gradient does not need.

Forward mode is the same rules read the other way: a node's tangent is the sum
of its arguments' tangents, each passed through the same linear map.

The graph's nodes are never written to.  Besides the derivatives, each sweep
returns its ``NameHints``: which primal each node it created is the derivative
of, so that the printer can call it ``d_x`` or ``dot_t3``.
"""

from __future__ import annotations

from typing import Callable, Iterable

from adcompile.ir.graph import APPLY, CONST, VAR, Graph, Node, reachable, use_counts
from adcompile.ir.guards import Guard  # the branches an adjoint term flows under


def _linear_maps(node: Node) -> list:
    """One entry per argument: None, or a function v -> v * (local derivative)."""
    g = node.graph
    entries = node.op.partials(g, node, *node.args)
    maps = []
    for entry in entries:
        if entry is None:
            maps.append(None)
        elif callable(entry):
            maps.append(entry)
        else:
            maps.append(lambda v, p=entry: g("mul", v, p))
    return maps


def active_nodes(order: list[Node], sources: Iterable[Node]) -> set[int]:
    """Ids of the nodes (in ``order``) that depend on any of ``sources``."""
    active = {n.id for n in sources}
    for node in order:
        if node.id not in active and any(a.id in active for a in node.args):
            active.add(node.id)
    return active


# What a derivative node is the derivative of, for naming it: node id -> (prefix,
# the primals it was found to be the derivative of, in the order the sweep met
# them).  ``d`` for an adjoint, ``dot`` for a tangent.  The printer picks the
# best-named primal; the graph's nodes themselves are never written to.
NameHints = dict[int, tuple[str, list[Node]]]


class _Hints:
    """Collects the ``NameHints`` of one sweep.

    Only nodes this sweep created are hinted: a node that existed before (a
    forward value that happens to equal a derivative, such as ``cos(t)`` for
    d/dw of ``w*cos(t)``) keeps its own name.
    """

    def __init__(self, prefix: str, fresh_from: int):
        self.prefix, self.fresh_from = prefix, fresh_from
        self.found: NameHints = {}

    def note(self, node: Node, primal: Node) -> None:
        """``node`` is the derivative of ``primal``."""
        if node.id < self.fresh_from or node.kind != APPLY:
            return
        entry = self.found.get(node.id)
        if entry is None:
            self.found[node.id] = (self.prefix, [primal])
        else:
            entry[1].append(primal)


def _peel(node: Node) -> tuple[Guard, Node]:
    """``where(c, p, 0)`` as ((c, True),) and p (``where(c, 0, q)`` as ((c, False),) and
    q), repeatedly: a contribution that flows only through one branch."""
    guard: list[tuple[int, bool]] = []
    while node.opname == "where":
        c, a, b = node.args
        if b.kind == CONST and b.value == 0.0:
            guard.append((c.id, True))
            node = a
        elif a.kind == CONST and a.value == 0.0:
            guard.append((c.id, False))
            node = b
        else:
            break
    return tuple(guard), node


def _within(guard: Guard, inner: Guard) -> Guard | None:
    """``guard`` then ``inner``, without the branches ``guard`` is already in; None where
    ``inner`` needs the other branch of one of them (the term is structurally zero)."""
    taken = dict(guard)
    out = list(guard)
    for cond, branch in inner:
        if cond in taken:
            if taken[cond] != branch:
                return None
            continue
        taken[cond] = branch
        out.append((cond, branch))
    return tuple(out)


def _wrap(graph: Graph, guard: Guard, node: Node) -> Node:
    """``node`` inside the ``where``s of ``guard``: itself where the guard holds, else 0."""
    for cond_id, taken in reversed(guard):
        cond = graph.nodes[cond_id]
        node = graph("where", cond, node, 0.0) if taken else graph("where", cond, 0.0, node)
    return node


def _join(graph: Graph, terms: dict[Guard, Node]) -> Node:
    """One node for adjoint terms kept apart by branch: each term inside the ``where``s
    of its guard, the branches of one condition joined in one ``where(c, p, q)``."""
    terms = dict(terms)
    while len(terms) > 1 or () not in terms:
        longest = max(len(g) for g in terms)
        guard = next(g for g in terms if len(g) == longest)
        (c_id, taken), outer = guard[-1], guard[:-1]
        sibling = outer + ((c_id, not taken),)
        this, other = terms.pop(guard), terms.pop(sibling, None)
        zero = graph.const(0.0)
        other = zero if other is None else other
        if_true, if_false = (this, other) if taken else (other, this)
        joined = graph("where", graph.nodes[c_id], if_true, if_false)
        terms[outer] = joined if outer not in terms else graph("add", terms[outer], joined)
    return terms[()]


def reverse(
    graph: Graph,
    outputs: list[Node],
    cotangents: list,
    wrt: list[Node],
    on_step: Callable[[int, int], None] | None = None,
    reduced: bool = False,
) -> tuple[list[Node | None], NameHints]:
    """Adjoints of ``sum(c_i * output_i)`` with respect to ``wrt``, and their name hints.

    Returns one entry per ``wrt`` node: its adjoint, or None where it is
    structurally zero; and which primal each new node is the adjoint of.
    ``cotangents`` are nodes or numbers (1.0 for a gradient).

    A node's adjoint is kept as terms by branch (``Guard``): what flows back
    through the branch of a ``where`` that is taken where c holds stays apart from
    the rest, so every derivative computed from it is computed only in that branch
    (its local derivatives may be undefined elsewhere: d log(x) at x = 0), and
    the terms are joined into ``where``s only where they reach a variable.

    ``reduced`` is for array code whose output is reduced to a scalar.
    An adjoint may be smaller than the array it stands for (a reduction's
    scalar adjoint stands for that scalar at every element), so each
    contribution to a variable, or to a node used more than once, is summed
    to that node's shape over the shape it stands for: its own broadcast with
    the consumer's value (``sum_to``).  A node used once passes its adjoint on
    unsummed; the chain rule is linear, so summing where it lands gives the
    same total, and same-shaped arrays pay only a shape comparison.
    """
    order = reachable(outputs)
    active = active_nodes(order, wrt)
    shared = {k for k, n in use_counts(order).items() if n > 1} if reduced else set()
    adjoint: dict[int, dict[Guard, Node]] = {}
    hints = _Hints("d", len(graph.nodes))

    wrt_ids = {w.id for w in wrt}

    def accumulate(target: Node, guard: Guard, contribution: Node) -> None:
        terms = adjoint.setdefault(target.id, {})
        previous = terms.get(guard)
        total = contribution if previous is None else graph("add", previous, contribution)
        if not (guard and target.id in wrt_ids):  # a branch's share of d_x: d_x is the join
            hints.note(total, target)
        terms[guard] = total

    for out, c in zip(outputs, cotangents):
        if out.id in active:
            accumulate(out, (), graph.lift(c))
    for step, node in enumerate(reversed(order)):
        if on_step is not None and step % 4096 == 0:
            on_step(step, len(order))
        if node.id not in adjoint or node.kind != APPLY:
            continue
        maps = _linear_maps(node)
        for guard, v in adjoint[node.id].items():
            hints.note(v, node)
            for arg, linear in zip(node.args, maps):
                if linear is None or arg.id not in active:
                    continue
                inner, contribution = _peel(linear(v))
                under = _within(guard, inner)
                if under is None:  # flows only where a condition both holds and does not
                    continue
                if reduced and (arg.kind == VAR or arg.id in shared):
                    # pick the branch at each element before summing over the elements
                    like = arg if node.op.reduction else node
                    contribution = graph("sum_to", _wrap(graph, under, contribution), arg, like)
                    under = ()
                accumulate(arg, under, contribution)
    result = [_join(graph, adjoint[w.id]) if w.id in adjoint else None for w in wrt]
    for w, r in zip(wrt, result):
        if r is not None:
            hints.note(r, w)
    return result, hints.found


def forward(
    graph: Graph,
    outputs: list[Node],
    tangents: dict[int, Node],
    prefix: str | None = "dot",
) -> tuple[list[Node | None], NameHints]:
    """Tangents of ``outputs`` given the tangents of some variables (by node id).

    Returns one entry per output, None where structurally zero, and the name
    hints: ``prefix`` names tangent nodes after their primal (``dot_t3``);
    None leaves them as temporaries (no hints).
    """
    order = reachable(outputs)
    hints = _Hints(prefix or "", len(graph.nodes))
    tangent: dict[int, Node] = {k: graph.lift(v) for k, v in tangents.items()}
    for node in order:
        if node.kind != APPLY or not any(a.id in tangent for a in node.args):
            continue
        total = None
        for arg, linear in zip(node.args, _linear_maps(node)):
            if linear is not None and arg.id in tangent:
                term = linear(tangent[arg.id])
                if node.op.reduction:
                    term = _reduce_tangent(graph, term, arg)
                total = term if total is None else graph("add", total, term)
        if total is not None:
            if prefix:
                hints.note(total, node)
            tangent[node.id] = total
    return [tangent.get(out.id) for out in outputs], hints.found


def _reduce_tangent(graph: Graph, term: Node, arg: Node) -> Node:
    """A reduction's tangent (numpy backend): its linear map spreads one number over
    every element of ``arg`` (``v`` for sum, ``v / n`` for mean), so the tangent is the
    sum, over ``arg``'s shape, of the mapped tangent of ``arg``."""
    return graph("sum", graph("broadcast", term, arg))
