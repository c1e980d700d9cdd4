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
from adcompile.ad.sparse import coo, sparse_hessian
from adcompile.codegen.arrays import ArrayParam, ArrayValue, ModuleConstant
from adcompile.codegen.printer import FunctionSpec, leaves
from adcompile.frontend.program import element_count, nest
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
    # array parameters (ARGS and directions): one name in the signature for their elements
    arrays: tuple[ArrayParam, ...] = ()
    wrt_shapes: tuple = ()  # per WRT argument: its shape, or None for a scalar
    wrt_names: tuple = ()  # per WRT argument: its Python name (names a long returned array)
    sparse_hessian: bool = False  # hessian_NAME returns COO (rows, cols, values)
    sparse_jacobian: bool = False  # jacobian_NAME returns COO (rows, cols, values)

    def signature(self, flat: tuple[Node, ...]) -> list:
        """The flat parameter nodes with each array's elements replaced by its ``ArrayParam``."""
        first = {a.elements[0].id: a for a in self.arrays}
        inside = {n.id for a in self.arrays for n in a.elements}
        return [first.get(n.id, n) for n in flat if n.id in first or n.id not in inside]

    def per_wrt(self, flat: tuple):
        """Entries per flat WRT scalar, in the WRT arguments' shapes: each array argument's
        entries as an ``ArrayValue``; the array itself when it is the only WRT argument."""
        if not any(self.wrt_shapes):
            return flat
        parts, at = [], 0
        for k, shape in enumerate(self.wrt_shapes):
            size = element_count(shape)
            chunk = flat[at: at + size]
            title = f"d_{self.wrt_names[k]}" if k < len(self.wrt_names) else None
            parts.append(chunk[0] if shape is None else ArrayValue(nest(chunk, shape, ArrayValue), title))
            at += size
        return parts[0] if len(parts) == 1 else tuple(parts)

    def matrix(self, rows: tuple) -> tuple:
        """A Hessian or Jacobian: as it is for scalar arguments, else an ``ArrayValue`` of
        rows over the flat WRT scalars (an ndarray on numpy, nested lists on math)."""
        if not any(self.wrt_shapes):
            return rows
        return ArrayValue(ArrayValue(row) for row in rows)


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
    signature = request.signature(params)
    if request.elementwise and derivatives:
        value, *rest = returns
        returns = (value, *_broadcast_all(request.graph, tuple(rest), params))
        # an earlier pass computes its part as the function of ARGS alone returns it
        passes = tuple((comment, _broadcast_all(request.graph, part, request.params))
                       for comment, part in passes[:-1]) + passes[-1:]
    if not passes:
        return FunctionSpec(name, signature, returns, doc, passes=[(None, leaves(returns))],
                            **kwargs)
    body = [(FORWARD_PASS, list(request.outputs))]
    body += [(comment, leaves(part)) for comment, part in passes[:-1]]
    body.append((passes[-1][0], leaves(returns[1:])))
    return FunctionSpec(name, signature, returns, doc, passes=body, **kwargs)


def _broadcast_all(graph: Graph, structure: tuple, params: list[Node]) -> tuple:
    """Elementwise derivatives (numpy, no reduction) in the broadcast shape of all the
    parameters: each entry that does not depend on every parameter (a constant, or
    ``w`` for d/dx of ``x*w``) is broadcast against the parameter it misses, or, missing
    several, against one node with the shape of all of them (so that an array argument's
    many elements cost one node per entry, not one per entry and element)."""
    entries = [graph.lift(x) for x in leaves(structure) if not isinstance(x, ModuleConstant)]
    bit = {p.id: 1 << k for k, p in enumerate(params)}
    depends: dict[int, int] = {}
    for node in reachable(entries):
        depends[node.id] = bit.get(node.id, 0)
        for arg in node.args:
            depends[node.id] |= depends[arg.id]
    widened, everything = {}, None
    for leaf in entries:
        missing = [p for p in params if not depends[leaf.id] & bit[p.id]]
        if len(missing) <= 1:
            widened[leaf.id] = graph("broadcast", leaf, missing[0]) if missing else leaf
            continue
        if everything is None:  # one node with the shape of all the parameters together
            everything = params[0]
            for param in params[1:]:
                everything = graph("broadcast", everything, param)
        widened[leaf.id] = graph("broadcast", leaf, everything)
    return _rebuild(structure, lambda x: x if isinstance(x, ModuleConstant)
                    else widened[graph.lift(x).id])


def _rebuild(structure, leaf_map):
    if isinstance(structure, ArrayValue):
        return ArrayValue((_rebuild(item, leaf_map) for item in structure), structure.title)
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
    gradient = request.per_wrt(_or_zero(grads))
    built.functions.append(_spec(request, f"grad_{name}", request.params, (out, gradient),
                                 f"Value of {name} and its gradient, in the order of WRT.",
                                 passes=((backward, gradient),)))
    if request.hessian:
        h = _hessian_entries(request, built, grads)
        built.functions.append(_spec(
            request, f"hessian_{name}", request.params,
            (out, gradient, h),
            f"Value of {name}, its gradient and its Hessian "
            + ("as (rows, cols, values) over the flat WRT scalars." if request.sparse_hessian
               else "(rows and columns in the order of WRT)."),
            passes=((backward, gradient),
                    ("second order: the gradient pushed forward along each WRT", h))))
    if request.hvp:
        # with the Hessian computed first, what hvp shares with it comes with the backward pass
        before = (gradient, h) if request.hessian else gradient
        hv = request.per_wrt(_or_zero(_push_forward(graph, grads, _along_v(request))))
        built.functions.append(_spec(
            request, f"hvp_{name}", request.params + request.direction, (out, gradient, hv),
            f"Value of {name}, its gradient, and the Hessian times v (v in the order of WRT).",
            passes=((backward, before), ("second order: the gradient pushed forward along v", hv)),
            return_names=("value", "gradient", "hvp")))


def _hessian_entries(request: Request, built: Derivatives, grads: list[Node | None]):
    """The Hessian part of hessian_NAME's result, and its module constants: dense
    (``HESSIAN_NONZERO`` lists the entries not structurally zero), or COO."""
    wrt = list(request.wrt)
    if request.sparse_hessian:
        rows, cols, values = coo(sparse_hessian(request.graph, grads, wrt))
        built.constants += [("HESSIAN_ROWS", rows), ("HESSIAN_COLS", cols)]
        return (ModuleConstant("HESSIAN_ROWS"), ModuleConstant("HESSIAN_COLS"), ArrayValue(values))
    matrix = hessian(request.graph, grads, wrt)
    built.constants.append(("HESSIAN_NONZERO", _nonzero(matrix)))
    return request.matrix(tuple(_or_zero(r) for r in matrix))


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
    values, jacobian = tuple(request.outputs), _jacobian_entries(request, built, rows)
    built.functions.append(_spec(
        request, f"jacobian_{name}", request.params, (values, jacobian),
        f"Values of {name} and its Jacobian: a row per output (OUTPUTS), a column per WRT.",
        passes=(("backward pass, one sweep per output", jacobian),),
        return_names=("values", "jacobian")))
    vjp = request.per_wrt(_or_zero(built.sweep(reverse(
        graph, list(request.outputs), list(request.cotangents), wrt, reduced=request.reduced))))
    built.functions.append(_spec(
        request, f"vjp_{name}", request.params + request.cotangents, (values, vjp),
        f"Values of {name} and c times its Jacobian (c per OUTPUTS; result per WRT).",
        passes=(("backward pass from the cotangents c", vjp),), return_names=("values", "vjp")))


def _jacobian_entries(request: Request, built: Derivatives, rows: list[list[Node | None]]):
    """The Jacobian part of jacobian_NAME's result: dense (``JACOBIAN_NONZERO`` lists the
    entries not structurally zero), or COO over (output, flat WRT scalar)."""
    if not request.sparse_jacobian:
        built.constants.append(("JACOBIAN_NONZERO", _nonzero(rows)))
        return request.matrix(tuple(_or_zero(r) for r in rows))
    entries = [(k, j, x) for k, row in enumerate(rows) for j, x in enumerate(row) if x is not None]
    ks, js, values = coo(entries)
    built.constants += [("JACOBIAN_ROWS", ks), ("JACOBIAN_COLS", js)]
    return (ModuleConstant("JACOBIAN_ROWS"), ModuleConstant("JACOBIAN_COLS"), ArrayValue(values))


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
