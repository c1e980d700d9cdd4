"""See backpropagation: the forward and backward passes of an expression, as numbers.

``trace_passes`` evaluates a program at a point on the graph exactly as
written (shared nodes merged, nothing folded or rewritten), then runs the
seed's backward pass numerically: nodes in reverse order, each adjoint the sum
of its contributions, each contribution the consumer's adjoint times one local
derivative.  Local derivatives come from each op's own rule in ``ops.py``,
evaluated on constants, so there is no second copy of any derivative here.

``render.py`` prints the result (text, Markdown or JSON); the final gradient
has a central finite-difference column beside it, as the seed checks its own
numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from adcompile.errors import CompileError
from adcompile.ir.graph import APPLY, CONST, VAR, Node, reachable
from adcompile.codegen.backends import MATH
from adcompile.codegen.names import natural_key
from adcompile.codegen.spellings import Infix, Power
from adcompile.ir.numbers import evaluate_ieee, local_derivatives
from adcompile.frontend.program import Program, element_name

# the binary operators, as the math backend spells them (``pow`` as ``**``)
INFIX = {name: spelling.symbol for name, spelling in MATH.spellings.items()
         if isinstance(spelling, (Infix, Power))}


@dataclass
class Contribution:
    consumer: str  # the node whose adjoint flows back
    adjoint: float  # that node's adjoint
    local: float  # d consumer / d this node
    local_text: str  # the local derivative, in words
    value: float  # adjoint * local


@dataclass
class Step:
    name: str
    op: str
    definition: str
    value: float | bool | None  # a condition's is a bool; None where not taken
    adjoint: float = 0.0
    contributions: list[Contribution] = field(default_factory=list)
    branch: str | None = None  # a where: the branch this point takes, "then" or "else"
    taken: bool = True  # False: only a branch this point does not take needs it


@dataclass
class Passes:
    output: str
    forward: list[Step]  # topological order, op nodes only
    backward: list[Step]  # reverse order, op nodes then the variables
    point: dict[str, float]
    gradient: dict[str, float]
    finite_difference: dict[str, float]

    @property
    def singular(self) -> bool:
        """Whether some number in the tables is inf or nan (a singular point)."""
        numbers = [s.value for s in self.forward if s.value is not None]
        numbers += [s.adjoint for s in self.backward]
        numbers += [c.local for s in self.backward for c in s.contributions]
        numbers += list(self.gradient.values()) + list(self.finite_difference.values())
        return not all(math.isfinite(x) for x in numbers)


SINGULAR_NOTE = ("note: inf or nan marks a number that is not finite at this point: a step "
                 "divides by zero, leaves its function's domain or overflows, as doubles do "
                 "(the generated math-backend code raises there; numpy gives inf or nan).")
FINITE_DIFFERENCE_NOTE = "A finite difference is nan where a neighbouring point is outside the domain."


def _split_items(text: str) -> list[str]:
    """``a=1, W[0, 1]=2, x=[1, 2]`` split at the commas outside brackets."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            items.append(text[start:k])
            start = k + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CompileError(f"--at {name}={value.strip()!r} is not a number") from None


def _element_name(name: str) -> str:
    """``W[1][0]``, ``W[1,0]`` and ``W[1, 0]`` as the element variable ``W[1, 0]``."""
    base, bracket, rest = name.partition("[")
    if not bracket:
        return name
    indices = rest.replace("][", ",").rstrip("]").split(",")
    if not rest.endswith("]") or not all(i.strip().lstrip("-").isdigit() for i in indices):
        raise CompileError(f"--at names {name!r}: an element is written like x[0] or W[1, 0]")
    return element_name(base.strip(), tuple(int(i) for i in indices))


def _array_items(name: str, value: str) -> list[tuple[str, float]]:
    """``x=[1, 2]`` or ``W=[[1, 2], [3, 4]]``: one (element, number) per number, row-major."""
    index, out, token = [0], [], ""
    for ch in value[1:] + ",":
        if ch in "[],":
            if token.strip():
                out.append((element_name(name, tuple(index)), _number(name, token)))
            token = ""
            if ch == "[":
                index.append(0)
            elif ch == "]":
                index.pop()
                if not index:
                    break
            if ch == "," and index:
                index[-1] += 1
        else:
            token += ch
    return out


def parse_point(text: str, variables: list[str]) -> dict[str, float]:
    """``--at a=1,b=2.5`` as a dict; every variable must be given a number.  An array's
    elements are given one by one (``x[0]=1, W[1, 0]=2``) or whole (``x=[1, 2]``)."""
    point: dict[str, float] = {}
    for item in _split_items(text):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise CompileError(f"--at expects name=value pairs separated by commas; got {item!r}")
        pairs = (_array_items(name, value.strip()) if value.strip().startswith("[")
                 else [(_element_name(name), _number(name, value))])
        for key, number in pairs:
            if key in point:
                raise CompileError(f"--at gives {key} twice")
            point[key] = number
    missing = [v for v in variables if v not in point]
    if missing:
        raise CompileError(f"--at gives no value for {', '.join(missing)}")
    unknown = [k for k in point if k not in variables]
    if unknown:
        raise CompileError(f"--at names {', '.join(unknown)}, which the expression does not use "
                           f"(its variables are {', '.join(variables) or 'none'})")
    return point


def names_of(order: list[Node], output: Node, output_name: str,
             labels: dict[int, str]) -> dict[int, str]:
    """Each node's name in the tables: a variable's, a step's label, the output's,
    else ``t0, t1, ...`` in order."""
    names, count = {}, 0
    for node in order:
        if node.kind == VAR:
            names[node.id] = node.value
        elif node.kind == CONST:
            names[node.id] = repr(node.value)
        elif node.id in labels:
            names[node.id] = labels[node.id]
        elif node is output:
            names[node.id] = output_name
        else:
            names[node.id] = f"t{count}"
            count += 1
    return names


def definition(node: Node, names: dict[int, str]) -> str:
    args = [names[a.id] for a in node.args]
    if node.op.name in INFIX:
        return f"{args[0]} {INFIX[node.op.name]} {args[1]}"
    if node.op.name == "neg":
        return f"-{args[0]}"
    if node.op.name == "logical_not":
        return f"not {args[0]}"
    if node.op.name == "where":
        return f"{args[1]} if {args[0]} else {args[2]}"
    return f"{node.op.name}({', '.join(args)})"


def is_condition(node: Node) -> bool:
    return node.kind == APPLY and node.op.boolean


def taken_nodes(order: list[Node], output: Node, values: dict[int, float]) -> set[int]:
    """The ids of the nodes this point needs: the output, and the arguments of a
    needed node, except the branch that a needed ``where`` does not take."""
    needed = {output.id}
    for node in reversed(order):
        if node.kind != APPLY or node.id not in needed:
            continue
        args = node.args
        if node.op.name == "where":
            cond, then, otherwise = args
            args = (cond, then if values[cond.id] else otherwise)
        needed.update(a.id for a in args)
    return needed


def forward_step(node: Node, names: dict[int, str], values: dict[int, float], taken: bool) -> Step:
    """A node's row in the forward pass, as this point runs it."""
    value = values[node.id]
    step = Step(names[node.id], node.op.name, definition(node, names),
                bool(value) if is_condition(node) else value)
    if not taken:
        step.value, step.taken = None, False
    elif node.op.name == "where":
        step.branch = "then" if values[node.args[0].id] else "else"
    return step


def flows(node: Node, values: dict[int, float]) -> list[tuple[Node, float]]:
    """Where a node's adjoint flows: (argument, local derivative) pairs.  A condition
    sends none (it has no derivative), nor does anything send one to it; a where
    sends it all to the branch it takes."""
    if is_condition(node):
        return []
    if node.op.name == "where":
        cond, then, otherwise = node.args
        pairs = [(then if values[cond.id] else otherwise, 1.0)]
    else:
        locals_ = local_derivatives(node, [values[a.id] for a in node.args], values[node.id], ieee=True)
        pairs = list(zip(node.args, locals_))
    return [(arg, local) for arg, local in pairs if arg.kind != CONST and not is_condition(arg)]


def trace_passes(program: Program, point: dict[str, float], output_name: str) -> Passes:
    if len(program.outputs) != 1:
        raise CompileError("explain shows one output; this program has several")
    output = program.outputs[0]
    order = reachable([output])
    names = names_of(order, output, output_name, program.labels())
    values = evaluate_ieee([output], point)
    needed = taken_nodes(order, output, values)
    steps = {n.id: forward_step(n, names, values, n.id in needed) for n in order if n.kind == APPLY}
    adjoint = {output.id: 1.0}
    by_variable: dict[str, Step] = {}
    for node in reversed(order):
        if node.kind != APPLY or node.id not in adjoint:
            continue
        steps[node.id].adjoint = adjoint[node.id]
        for arg, local in flows(node, values):
            contribution = Contribution(names[node.id], adjoint[node.id], local,
                                        f"d{names[node.id]}/d{names[arg.id]}", adjoint[node.id] * local)
            adjoint[arg.id] = adjoint.get(arg.id, 0.0) + contribution.value
            if arg.kind == VAR:
                target = by_variable.setdefault(arg.id, Step(arg.value, "var", "input", values[arg.id]))
            else:
                target = steps[arg.id]
            target.contributions.append(contribution)
    variables = sorted((n for n in order if n.kind == VAR), key=lambda n: natural_key(n.value))
    for v in variables:
        by_variable.setdefault(v.id, Step(v.value, "var", "input", values[v.id])).adjoint = adjoint.get(v.id, 0.0)
    gradient = {v.value: adjoint.get(v.id, 0.0) for v in variables}
    fd = {v.value: finite_difference(output, point, v.value) for v in variables}
    # no rows for conditions, what only conditions use, or what a branch not taken needs
    backward = [steps[n.id] for n in reversed(order) if n.kind == APPLY and n.id in adjoint]
    backward += [by_variable[v.id] for v in reversed(variables)]
    return Passes(output_name, [steps[n.id] for n in order if n.kind == APPLY], backward,
                  dict(point), gradient, fd)


def finite_difference(output: Node, point: dict[str, float], name: str) -> float:
    h = 1e-6 * max(1.0, abs(point[name]))
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (evaluate_ieee([output], up)[output.id] - evaluate_ieee([output], down)[output.id]) / (2 * h)
