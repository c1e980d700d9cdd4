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

from adcompile.ad.modes import NameHints, forward, reverse
from adcompile.codegen.printer import FunctionSpec, leaves
from adcompile.ir.graph import Graph, Node, reachable


@dataclass(frozen=True)
class Request:
    """What to generate, and the nodes it is generated from."""

    name: str
    graph: Graph
    outputs: tuple[Node, ...]
    params: tuple[Node, ...]  # the ARGS, as variable nodes
    wrt: tuple[Node, ...]
    hessian: bool = False
    jvp: bool = False
    hvp: bool = False
    reduced: bool = False  # numpy code whose output is reduced: adjoints take their node's shape
    elementwise: bool = False  # numpy code, not reduced: derivatives take the arguments' shape
    direction: tuple[Node, ...] = ()  # v_..., one per WRT (for jvp and hvp)
    cotangents: tuple[Node, ...] = ()  # c_..., one per output (several outputs)


@dataclass
class Derivatives:
    """What ``build_functions`` gives the printer: the functions, the module's
    constants (``HESSIAN_NONZERO`` ...), and which primal each derivative node
    is the derivative of (to name it ``d_x``, ``dot_t3``)."""

    functions: list[FunctionSpec] = field(default_factory=list)
    constants: list[tuple[str, tuple]] = field(default_factory=list)
    hints: NameHints = field(default_factory=dict)

    def sweep(self, result: tuple[list[Node | None], NameHints]) -> list[Node | None]:
        """The nodes of one forward or reverse sweep; its name hints are kept."""
        nodes, hints = result
        self.hints.update(hints)
        return nodes


FORWARD_PASS = "forward pass"


def _spec(request: Request, name: str, params: tuple[Node, ...], returns, doc: str,
          passes: tuple = (), derivatives: bool = True, **kwargs) -> FunctionSpec:
    """A function returning ``returns``: the value, then the derivative parts.

    With ``passes``, (comment, the derivative part that pass computes) each, the
    body is printed as the forward pass, then those passes; the last one also
    computes whatever else the returned parts need.
    """
    if request.elementwise and derivatives:
        value, *rest = returns
        returns = (value, *_broadcast_all(request.graph, tuple(rest), params))
        # an earlier pass computes its part as the function of ARGS alone returns it
        passes = tuple((comment, _broadcast_all(request.graph, part, request.params))
                       for comment, part in passes[:-1]) + passes[-1:]
    if not passes:
        return FunctionSpec(name, list(params), returns, doc, passes=[(None, leaves(returns))],
                            **kwargs)
    body = [(FORWARD_PASS, list(request.outputs))]
    body += [(comment, leaves(part)) for comment, part in passes[:-1]]
    body.append((passes[-1][0], leaves(returns[1:])))
    return FunctionSpec(name, list(params), returns, doc, passes=body, **kwargs)


def _broadcast_all(graph: Graph, structure: tuple, params: list[Node]) -> tuple:
    """Elementwise derivatives (numpy, no reduction) in the broadcast shape of all the
    parameters: each entry that does not depend on every parameter (a constant, or
    ``w`` for d/dx of ``x*w``) is broadcast against the parameters it misses."""
    entries = [graph.lift(x) for x in leaves(structure)]
    bit = {p.id: 1 << k for k, p in enumerate(params)}
    depends: dict[int, int] = {}
    for node in reachable(entries):
        depends[node.id] = bit.get(node.id, 0)
        for arg in node.args:
            depends[node.id] |= depends[arg.id]
    widened = {}
    for leaf in entries:
        node = leaf
        for param in params:
            if not depends[leaf.id] & bit[param.id]:
                node = graph("broadcast", node, param)
        widened[leaf.id] = node
    return _rebuild(structure, lambda x: widened[graph.lift(x).id])


def _rebuild(structure, leaf_map):
    if isinstance(structure, tuple):
        return tuple(_rebuild(item, leaf_map) for item in structure)
    return leaf_map(structure)


def _or_zero(nodes) -> tuple:
    return tuple(0.0 if n is None else n for n in nodes)


def _value(request: Request):
    return request.outputs[0] if len(request.outputs) == 1 else tuple(request.outputs)


def _along_v(request: Request) -> dict[int, Node]:
    """Forward-mode seeds: each WRT variable's tangent is its direction parameter."""
    return {w.id: v for w, v in zip(request.wrt, request.direction)}


def _push_forward(graph: Graph, nodes: list[Node | None], tangents: dict) -> list[Node | None]:
    """The tangents of ``nodes`` in one forward sweep; None (a structural zero) stays None.
    They are unnamed temporaries (no name hints)."""
    present = [n for n in nodes if n is not None]
    pushed, _ = forward(graph, present, tangents, prefix=None)
    by_id = dict(zip((n.id for n in present), pushed))
    return [None if n is None else by_id[n.id] for n in nodes]


def _nonzero(matrix: list[list]) -> tuple:
    return tuple((i, j) for i, row in enumerate(matrix) for j, x in enumerate(row) if x is not None)


def build_functions(request: Request, progress=None) -> Derivatives:
    """Every function the request asks for, with the constants and name hints they bring."""
    name = request.name
    docs = "Value of {}." if len(request.outputs) == 1 else "Values of {}'s outputs, in the order of OUTPUTS."
    built = Derivatives()
    built.functions.append(_spec(request, name, request.params, _value(request), docs.format(name),
                                 derivatives=False))
    if len(request.outputs) == 1:
        _single_output(request, built, progress)
    else:
        _several_outputs(request, built, progress)
    if request.jvp:
        built.functions.append(_jvp(request, built))
    return built


def _single_output(request: Request, built: Derivatives, progress) -> None:
    name, graph, out = request.name, request.graph, request.outputs[0]
    backward = "backward pass"
    step = (lambda done, total: progress("differentiating", done, total)) if progress else None
    grads = built.sweep(reverse(graph, [out], [1.0], list(request.wrt), on_step=step,
                                reduced=request.reduced))
    if request.reduced:  # a structural zero still has its argument's shape
        grads = [graph("sum_to", 0.0, w, w) if g is None else g for g, w in zip(grads, request.wrt)]
    gradient = _or_zero(grads)
    built.functions.append(_spec(request, f"grad_{name}", request.params, (out, gradient),
                                 f"Value of {name} and its gradient, in the order of WRT.",
                                 passes=((backward, gradient),)))
    if request.hessian:
        matrix = hessian(graph, grads, list(request.wrt))
        built.constants.append(("HESSIAN_NONZERO", _nonzero(matrix)))
        h = tuple(_or_zero(r) for r in matrix)
        built.functions.append(_spec(
            request, f"hessian_{name}", request.params,
            (out, gradient, h),
            f"Value of {name}, its gradient and its Hessian (rows and columns in the order of WRT).",
            passes=((backward, gradient),
                    ("second order: the gradient pushed forward along each WRT", h))))
    if request.hvp:
        # with the Hessian computed first, what hvp shares with it comes with the backward pass
        before = (gradient, h) if request.hessian else gradient
        hv = _or_zero(_push_forward(graph, grads, _along_v(request)))
        built.functions.append(_spec(
            request, f"hvp_{name}", request.params + request.direction, (out, gradient, hv),
            f"Value of {name}, its gradient, and the Hessian times v (v in the order of WRT).",
            passes=((backward, before), ("second order: the gradient pushed forward along v", hv)),
            return_names=("value", "gradient", "hvp")))


def hessian(graph: Graph, grads: list[Node | None], wrt: list[Node]) -> list[list[Node | None]]:
    """H[i][j] = d grad_i / d wrt_j, forward over reverse, symmetric by construction."""
    n = len(wrt)
    matrix: list[list[Node | None]] = [[None] * n for _ in range(n)]
    for j in range(n):
        column = _push_forward(graph, grads[: j + 1], {wrt[j].id: graph.const(1.0)})
        for i in range(j + 1):
            matrix[i][j] = matrix[j][i] = column[i]
    return matrix


def _several_outputs(request: Request, built: Derivatives, progress) -> None:
    name, graph, wrt = request.name, request.graph, list(request.wrt)
    rows = []
    for k, out in enumerate(request.outputs):
        if progress:
            progress("differentiating", k, len(request.outputs))
        rows.append(built.sweep(reverse(graph, [out], [1.0], wrt, reduced=request.reduced)))
    built.constants.append(("JACOBIAN_NONZERO", _nonzero(rows)))
    values, jacobian = tuple(request.outputs), tuple(_or_zero(r) for r in rows)
    built.functions.append(_spec(
        request, f"jacobian_{name}", request.params, (values, jacobian),
        f"Values of {name} and its Jacobian: a row per output (OUTPUTS), a column per WRT.",
        passes=(("backward pass, one sweep per output", jacobian),),
        return_names=("values", "jacobian")))
    vjp = _or_zero(built.sweep(reverse(graph, list(request.outputs), list(request.cotangents), wrt,
                                        reduced=request.reduced)))
    built.functions.append(_spec(
        request, f"vjp_{name}", request.params + request.cotangents, (values, vjp),
        f"Values of {name} and c times its Jacobian (c per OUTPUTS; result per WRT).",
        passes=(("backward pass from the cotangents c", vjp),), return_names=("values", "vjp")))


def _jvp(request: Request, built: Derivatives) -> FunctionSpec:
    name, graph = request.name, request.graph
    dots = built.sweep(forward(graph, list(request.outputs), _along_v(request)))
    if len(request.outputs) == 1:
        returns, doc = (request.outputs[0], _or_zero(dots)[0]), "Value of {} and its derivative along v."
    else:
        returns, doc = (tuple(request.outputs), _or_zero(dots)), "Values of {} and J times v."
    return _spec(request, f"jvp_{name}", request.params + request.direction, returns,
                 doc.format(name), passes=(("forward-mode tangents along v", returns[1]),),
                 return_names=("values", "jvp"))
