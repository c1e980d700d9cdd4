"""The generated functions, each built from the graph by the same two transforms.

Given the program's outputs, its argument and WRT nodes, this module asks
``autodiff`` for the derivative graphs each requested function needs and
describes the function (``FunctionSpec``) for the code generator:

* ``NAME`` - the value (a tuple for several outputs);
* ``grad_NAME`` - value and gradient, by reverse mode (one output);
* ``hessian_NAME`` - value, gradient and Hessian, forward over reverse: the
  gradient graph is pushed forward along each unit vector e_j, giving column j.
  Only the entries with i <= j are taken from column j, and H[j][i] is the
  same node, so H is exactly symmetric and each off-diagonal entry is computed
  once.  Forward over reverse costs n forward sweeps of the gradient graph,
  reverse over reverse n reverse sweeps of it with a second tape; both are
  O(n) times f, and forward mode needs no second tape, so it is chosen;
* ``hvp_NAME`` - value, gradient and H.v: one forward sweep of the gradient
  graph along v, a small constant times the cost of f, never forming H;
* ``jvp_NAME`` - value(s) and J.v: one forward sweep of the program;
* ``jacobian_NAME`` - values and J, one reverse sweep per output row;
* ``vjp_NAME`` - values and J^T.c: one reverse sweep with the cotangents c.

Structurally zero derivatives are the literal 0.0, and the module's
``HESSIAN_NONZERO`` / ``JACOBIAN_NONZERO`` list where the others are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adcompile.ad.modes import forward, reverse
from adcompile.codegen.printer import FunctionSpec
from adcompile.ir.graph import Graph, Node, reachable


@dataclass
class Request:
    """What to generate, and the nodes it is generated from."""

    name: str
    graph: Graph
    outputs: list[Node]
    params: list[Node]  # the ARGS, as variable nodes
    wrt: list[Node]
    hessian: bool = False
    jvp: bool = False
    hvp: bool = False
    arrays: bool = False  # numpy code whose output is reduced: adjoints take their node's shape
    elementwise: bool = False  # numpy code, not reduced: derivatives take the arguments' shape
    direction: list[Node] = field(default_factory=list)  # v_..., one per WRT
    cotangents: list[Node] = field(default_factory=list)  # c_..., one per output
    constants: list[tuple[str, tuple]] = field(default_factory=list)


def _spec(request: Request, name: str, params: list[Node], returns, *args,
          derivatives: bool = True, **kwargs) -> FunctionSpec:
    if request.elementwise and derivatives:
        value, *rest = returns
        returns = (value, *_broadcast_all(request.graph, tuple(rest), params))
    return FunctionSpec(name, params, returns, *args, primal=tuple(request.outputs), **kwargs)


def _broadcast_all(graph: Graph, structure: tuple, params: list[Node]) -> tuple:
    """Elementwise derivatives (numpy, no reduction) in the broadcast shape of all the
    parameters: each entry that does not depend on every parameter (a constant, or
    ``w`` for d/dx of ``x*w``) is broadcast against the parameters it misses."""
    leaves = [graph.lift(x) for x in _flatten(structure)]
    bit = {p.id: 1 << k for k, p in enumerate(params)}
    depends: dict[int, int] = {}
    for node in reachable(leaves):
        depends[node.id] = bit.get(node.id, 0)
        for arg in node.args:
            depends[node.id] |= depends[arg.id]
    widened = {}
    for leaf in leaves:
        node = leaf
        for param in params:
            if not depends[leaf.id] & bit[param.id]:
                node = graph("broadcast", node, param)
        widened[leaf.id] = node
    return _rebuild(structure, lambda x: widened[graph.lift(x).id])


def _flatten(structure) -> list:
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def _rebuild(structure, leaf_map):
    if isinstance(structure, tuple):
        return tuple(_rebuild(item, leaf_map) for item in structure)
    return leaf_map(structure)


def _or_zero(nodes) -> tuple:
    return tuple(0.0 if n is None else n for n in nodes)


def _value(request: Request):
    return request.outputs[0] if len(request.outputs) == 1 else tuple(request.outputs)


def _sweep(request: Request, label: str) -> tuple[int, str]:
    return (len(request.graph.nodes), label)


def _along_v(request: Request) -> dict[int, Node]:
    """Forward-mode seeds: each WRT variable's tangent is its direction parameter."""
    return {w.id: v for w, v in zip(request.wrt, request.direction)}


def _push_forward(graph: Graph, nodes: list[Node | None], tangents: dict) -> list[Node | None]:
    """The tangents of ``nodes`` in one forward sweep; None (a structural zero) stays None."""
    present = [n for n in nodes if n is not None]
    pushed = dict(zip((n.id for n in present), forward(graph, present, tangents, prefix=None)))
    return [None if n is None else pushed[n.id] for n in nodes]


def _nonzero(matrix: list[list]) -> tuple:
    return tuple((i, j) for i, row in enumerate(matrix) for j, x in enumerate(row) if x is not None)


def build_functions(request: Request, progress=None) -> list[FunctionSpec]:
    name = request.name
    docs = "Value of {}." if len(request.outputs) == 1 else "Values of {}'s outputs, in the order of OUTPUTS."
    functions = [_spec(request, name, request.params, _value(request), docs.format(name),
                       derivatives=False)]
    if len(request.outputs) == 1:
        functions += _single_output(request, progress)
    else:
        functions += _several_outputs(request, progress)
    if request.jvp:
        functions.append(_jvp(request))
    return functions


def _single_output(request: Request, progress) -> list[FunctionSpec]:
    name, graph, out = request.name, request.graph, request.outputs[0]
    backward = _sweep(request, "backward pass")
    step = (lambda done, total: progress("differentiating", done, total)) if progress else None
    grads = reverse(graph, [out], [1.0], request.wrt, on_step=step, unbroadcast=request.arrays)
    if request.arrays:  # a structural zero still has its argument's shape
        grads = [graph("sum_to", 0.0, w, w) if g is None else g for g, w in zip(grads, request.wrt)]
    gradient = _or_zero(grads)
    functions = [_spec(request, f"grad_{name}", request.params, (out, gradient),
                       f"Value of {name} and its gradient, in the order of WRT.",
                       sections=(backward,))]
    if request.hessian:
        second = _sweep(request, "second order: the gradient pushed forward along each WRT")
        matrix = hessian(graph, grads, request.wrt)
        request.constants.append(("HESSIAN_NONZERO", _nonzero(matrix)))
        functions.append(_spec(
            request, f"hessian_{name}", request.params,
            (out, gradient, tuple(_or_zero(r) for r in matrix)),
            f"Value of {name}, its gradient and its Hessian (rows and columns in the order of WRT).",
            sections=(backward, second)))
    if request.hvp:
        second = _sweep(request, "second order: the gradient pushed forward along v")
        hv = _or_zero(_push_forward(graph, grads, _along_v(request)))
        functions.append(_spec(
            request, f"hvp_{name}", request.params + request.direction, (out, gradient, hv),
            f"Value of {name}, its gradient, and the Hessian times v (v in the order of WRT).",
            sections=(backward, second), return_names=("value", "gradient", "hvp")))
    return functions


def hessian(graph: Graph, grads: list[Node | None], wrt: list[Node]) -> list[list[Node | None]]:
    """H[i][j] = d grad_i / d wrt_j, forward over reverse, symmetric by construction."""
    n = len(wrt)
    matrix: list[list[Node | None]] = [[None] * n for _ in range(n)]
    for j in range(n):
        column = _push_forward(graph, grads[: j + 1], {wrt[j].id: graph.const(1.0)})
        for i in range(j + 1):
            matrix[i][j] = matrix[j][i] = column[i]
    return matrix


def _several_outputs(request: Request, progress) -> list[FunctionSpec]:
    name, graph = request.name, request.graph
    backward = _sweep(request, "backward pass, one sweep per output")
    rows = []
    for k, out in enumerate(request.outputs):
        if progress:
            progress("differentiating", k, len(request.outputs))
        rows.append(reverse(graph, [out], [1.0], request.wrt, unbroadcast=request.arrays))
    request.constants.append(("JACOBIAN_NONZERO", _nonzero(rows)))
    values = tuple(request.outputs)
    jacobian = _spec(
        request, f"jacobian_{name}", request.params, (values, tuple(_or_zero(r) for r in rows)),
        f"Values of {name} and its Jacobian: a row per output (OUTPUTS), a column per WRT.",
        sections=(backward,), return_names=("values", "jacobian"))
    pullback = _sweep(request, "backward pass from the cotangents c")
    vjp = reverse(graph, request.outputs, request.cotangents, request.wrt, unbroadcast=request.arrays)
    vjp_fn = _spec(
        request, f"vjp_{name}", request.params + request.cotangents, (values, _or_zero(vjp)),
        f"Values of {name} and c times its Jacobian (c per OUTPUTS; result per WRT).",
        sections=(pullback,), return_names=("values", "vjp"))
    return [jacobian, vjp_fn]


def _jvp(request: Request) -> FunctionSpec:
    name, graph = request.name, request.graph
    tangent = _sweep(request, "forward-mode tangents along v")
    dots = forward(graph, request.outputs, _along_v(request))
    if len(request.outputs) == 1:
        returns, doc = (request.outputs[0], _or_zero(dots)[0]), "Value of {} and its derivative along v."
    else:
        returns, doc = (tuple(request.outputs), _or_zero(dots)), "Values of {} and J times v."
    return _spec(request, f"jvp_{name}", request.params + request.direction, returns,
                 doc.format(name), sections=(tangent,), return_names=("values", "jvp"))
