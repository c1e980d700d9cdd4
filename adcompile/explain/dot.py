"""``adcompile graph``: the Node/Op graph as Graphviz DOT, drawn like the seed's figures.

Each node shows its name and op, and, given a point, its forward value and
(in blue) its adjoint.  Forward edges are black, from argument to use;
backward edges are red, from a use back to its argument, labelled with the
contribution that flows back.  A node used twice appears once, with both
red edges.  DOT is written here; SVG and PNG are rendered by Graphviz's
``dot`` program when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap

from adcompile.errors import CompileError
from adcompile.explain.passes import SINGULAR_NOTE, Passes, names_of
from adcompile.ir.graph import APPLY, CONST, Node, reachable
from adcompile.explain.render import number

MAX_NODES = 200
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
        lines.append(f"  n{node.id} [label=<{_label(node, names, forward, backward, passes, digits)}>];")
    for node in order:
        if node.kind != APPLY:
            continue
        for arg in node.args:
            if arg.kind == CONST:
                continue
            lines.append(f"  n{arg.id} -> n{node.id} [color=black];")
    if passes:
        lines += _backward_edges(order, names, backward, digits)
    if passes and passes.singular:
        note = "\\n".join(_quote(line)[1:-1] for line in textwrap.wrap(SINGULAR_NOTE, 80))
        lines.append(f'  label="{note}"; labelloc=b; fontsize=10;')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _label(node, names, forward, backward, passes, digits) -> str:
    name = names[node.id]
    if node.kind == APPLY:
        consts = [repr(a.value) for a in node.args if a.kind == CONST]
        op = node.op.name + (f" ({', '.join(consts)})" if consts else "")
        parts = [f"<b>{_html(name)}</b>", _html(op)]
    else:
        parts = [f"<b>{_html(name)}</b>", "input"]
    if passes:
        value = forward[name].value if name in forward else passes.point[name]
        parts.append(f"= {number(value, digits)}")
        adjoint = backward[name].adjoint
        parts.append(f'<font color="blue">d{_html(passes.output)}/d{_html(name)} = '
                     f"{number(adjoint, digits)}</font>")
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
