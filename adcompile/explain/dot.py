"""``adcompile graph``: the Node/Op graph as Graphviz DOT, drawn like the seed's figures.

Each node shows its name and op, and, given a point, its forward value and
(in blue) its adjoint.  Forward edges are black, from argument to use;
backward edges are red, from a use back to its argument, labelled with the
contribution that flows back.  A node used twice appears once, with both
red edges.  A condition is a diamond, showing ``true`` or ``false`` and no
adjoint; a ``where`` is a hexagon whose incoming edges are labelled ``if``,
``then`` and ``else``; given a point, the branch not taken (its edge into the
``where``, and the nodes only it needs) is dashed and grey.  DOT is written
here; SVG and PNG are rendered by Graphviz's ``dot`` program when it is
installed.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap

from adcompile.errors import CompileError
from adcompile.explain.passes import SINGULAR_NOTE, Passes, definition, is_condition, names_of
from adcompile.ir.graph import APPLY, CONST, Node, reachable
from adcompile.explain.render import number, value_text

MAX_NODES = 200
ROLES = ("if", "then", "else")  # the arguments of where(c, a, b)
NOT_TAKEN_STYLE = "style=dashed, color=grey, fontcolor=grey"
INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew "
                "install graphviz; conda: conda install graphviz), or write .dot instead")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_dot(output: Node, output_name: str, passes: Passes | None = None, digits: int = 3,
           max_nodes: int = MAX_NODES, labels: dict[int, str] | None = None) -> str:
    order = [n for n in reachable([output]) if n.kind != CONST]
    if len(order) > max_nodes:
        raise CompileError(f"the graph has {len(order):,} nodes, more than --max-nodes {max_nodes} "
                           "draws readably; raise --max-nodes, or use explain for a table")
    names = names_of(reachable([output]), output, output_name, labels or {})
    forward = {s.name: s for s in passes.forward} if passes else {}
    backward = {s.name: s for s in passes.backward} if passes else {}
    lines = ["digraph adcompile {", "  rankdir=LR;",
             '  node [shape=box, style=rounded, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for node in order:
        label = _label(node, names, forward, backward, passes, digits)
        lines.append(f"  n{node.id} [label=<{label}>{_node_style(node, names, forward)}];")
    for node in order:
        if node.kind != APPLY:
            continue
        for k, arg in enumerate(node.args):
            if arg.kind == CONST:
                continue
            lines.append(f"  n{arg.id} -> n{node.id} [{_edge_style(node, k, names, forward)}];")
    if passes:
        lines += _backward_edges(order, names, backward, digits)
    if passes and passes.singular:
        note = "\\n".join(_quote(line)[1:-1] for line in textwrap.wrap(SINGULAR_NOTE, 80))
        lines.append(f'  label="{note}"; labelloc=b; fontsize=10;')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _not_taken(node: Node, names: dict[int, str], forward: dict) -> bool:
    step = forward.get(names[node.id])
    return step is not None and not step.taken


def _node_style(node: Node, names: dict[int, str], forward: dict) -> str:
    """Extra attributes: a condition's diamond, a where's hexagon, a node not taken in grey."""
    style = ""
    if is_condition(node):
        style += ", shape=diamond"
    elif node.kind == APPLY and node.op.name == "where":
        style += ", shape=hexagon"
    if _not_taken(node, names, forward):
        style += ", style=\"rounded,dashed\", color=grey, fontcolor=grey"
    return style


def _edge_style(node: Node, k: int, names: dict[int, str], forward: dict) -> str:
    """The attributes of the edge into argument k of ``node``: black, with a where's
    role label; dashed and grey if the edge is in a branch not taken."""
    label = f", label={_quote(ROLES[k])}" if node.op.name == "where" else ""
    step = forward.get(names[node.id])
    untaken_branch = step is not None and step.branch and k > 0 and ROLES[k] != step.branch
    if untaken_branch or _not_taken(node, names, forward):
        return NOT_TAKEN_STYLE + label
    return "color=black" + label


def _label(node, names, forward, backward, passes, digits) -> str:
    name = names[node.id]
    if node.kind == APPLY and (is_condition(node) or node.op.name == "where"):
        parts = [f"<b>{_html(name)}</b>", _html(definition(node, names))]
    elif node.kind == APPLY:
        consts = [repr(a.value) for a in node.args if a.kind == CONST]
        op = node.op.name + (f" ({', '.join(consts)})" if consts else "")
        parts = [f"<b>{_html(name)}</b>", _html(op)]
    else:
        parts = [f"<b>{_html(name)}</b>", "input"]
    if passes:
        value = forward[name].value if name in forward else passes.point[name]
        branch = forward[name].branch if name in forward else None
        parts.append(("= " if value is not None else "") + value_text(value, digits)
                     + (f" ({branch})" if branch else ""))
        if name in backward:  # conditions and nodes not taken have no adjoint
            parts.append(f'<font color="blue">d{_html(passes.output)}/d{_html(name)} = '
                         f"{number(backward[name].adjoint, digits)}</font>")
    return "<br/>".join(parts)


def _backward_edges(order, names, backward, digits) -> list[str]:
    lines = []
    by_name = {names[n.id]: n for n in order}
    for node in order:
        step = backward.get(names[node.id])
        for c in step.contributions if step else ():
            source = by_name[c.consumer]
            lines.append(f"  n{source.id} -> n{node.id} [color=red, fontcolor=red, constraint=false, "
                         f"label={_quote(number(c.value, digits))}];")
    return lines


def render(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT, by Graphviz's ``dot``."""
    program = shutil.which("dot")
    if program is None:
        raise CompileError(f"writing .{fmt} needs Graphviz's 'dot' program, which is not "
                           f"installed: {INSTALL_HINT}")
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          timeout=120)
    if done.returncode != 0:
        raise CompileError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
