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
"""

from __future__ import annotations

from typing import Callable, Iterable

from adcompile.ir.graph import VAR, Graph, Node, reachable, use_counts


def _linear_maps(node: Node) -> list:
    """One entry per argument: None, or a function v -> v * (local derivative)."""
    g = node.graph
    entries = node.op.d(g, node, *node.args)
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


def _rank(primal: Node) -> int:
    """How well a primal names its adjoint: a user's step (as the seed's dl/df3),
    then a variable, then a temporary."""
    return 2 if primal.label is not None else 1 if primal.kind == VAR else 0


def _hint(node: Node, prefix: str, primal: Node, fresh_from: int) -> None:
    """Name ``node`` after ``primal`` (``d_x``) if this transform created it.

    A node that existed before (a forward value that happens to equal a
    derivative, such as ``cos(t)`` for d/dw of ``w*cos(t)``) keeps its own name.
    One adjoint shared by several primals (``d_f3`` is also ``d_t4`` when the
    output is ``f3 - y``) is named after the best-named of them.
    """
    if node.id < fresh_from or node.op is None or node.label is not None:
        return
    if node.hint is None or (node.hint[0] == prefix and _rank(primal) > _rank(node.hint[1])):
        node.hint = (prefix, primal)


def reverse(
    graph: Graph,
    outputs: list[Node],
    cotangents: list,
    wrt: list[Node],
    on_step: Callable[[int, int], None] | None = None,
    unbroadcast: bool = False,
) -> list[Node | None]:
    """Adjoints of ``sum(c_i * output_i)`` with respect to ``wrt``.

    Returns one entry per ``wrt`` node: its adjoint, or None where it is
    structurally zero.  ``cotangents`` are nodes or numbers (1.0 for a
    gradient).

    ``unbroadcast`` is for array code whose output is reduced to a scalar.
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
    shared = {k for k, n in use_counts(order).items() if n > 1} if unbroadcast else set()
    adjoint: dict[int, Node] = {}
    fresh = len(graph.nodes)
    for out, c in zip(outputs, cotangents):
        if out.id in active:
            _accumulate(graph, adjoint, out, graph.lift(c), fresh)
    for step, node in enumerate(reversed(order)):
        if on_step is not None and step % 4096 == 0:
            on_step(step, len(order))
        v = adjoint.get(node.id)
        if v is None or node.op is None:
            continue
        _hint(v, "d", node, fresh)
        for arg, linear in zip(node.args, _linear_maps(node)):
            if linear is not None and arg.id in active:
                contribution = linear(v)
                if unbroadcast and (arg.kind == VAR or arg.id in shared):
                    like = arg if node.op.reduction else node
                    contribution = graph("sum_to", contribution, arg, like)
                _accumulate(graph, adjoint, arg, contribution, fresh)
    for w in wrt:
        if w.id in adjoint:
            _hint(adjoint[w.id], "d", w, fresh)
    return [adjoint.get(w.id) for w in wrt]


def _accumulate(graph: Graph, adjoint: dict, target: Node, contribution: Node, fresh: int) -> None:
    previous = adjoint.get(target.id)
    total = contribution if previous is None else graph("add", previous, contribution)
    _hint(total, "d", target, fresh)
    adjoint[target.id] = total


def forward(
    graph: Graph,
    outputs: list[Node],
    tangents: dict[int, Node],
    prefix: str | None = "dot",
) -> list[Node | None]:
    """Tangents of ``outputs`` given the tangents of some variables (by node id).

    Returns one entry per output, None where structurally zero.  ``prefix``
    names tangent nodes after their primal (``dot_t3``); None leaves them as
    temporaries.
    """
    order = reachable(outputs)
    fresh = len(graph.nodes)
    tangent: dict[int, Node] = {k: graph.lift(v) for k, v in tangents.items()}
    for node in order:
        if node.op is None or not any(a.id in tangent for a in node.args):
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
                _hint(total, prefix, node, fresh)
            tangent[node.id] = total
    return [tangent.get(out.id) for out in outputs]


def _reduce_tangent(graph: Graph, term: Node, arg: Node) -> Node:
    """A reduction's tangent (numpy backend): its linear map spreads one number over
    every element of ``arg`` (``v`` for sum, ``v / n`` for mean), so the tangent is the
    sum, over ``arg``'s shape, of the mapped tangent of ``arg``."""
    return graph("sum", graph("broadcast", term, arg))
