"""Graph -> Python source: straight-line code, one operation per line.

Each function of a module is a list of output nodes.  Its body is every node
those outputs need, in topological (creation) order, one assignment each;
constants are written inline.  Names are chosen once for the whole module, so
``t3`` means the same value in ``f`` and in ``grad_f``:

* variables keep the user's name (``lambda`` becomes ``lambda_``);
* a step the user named keeps that name (``f3``);
* the adjoint of a node ``n`` is ``d_n`` (``d_f3``, ``d_x``), and while it is
  being accumulated from several uses, later contributions add in place
  (``d_x2 += t5``), as in the seed's backward pass;
* everything else is a temporary ``t0, t1, ...``.

The printer writes black's layout itself (line length 88, trailing commas on
exploded collections), so running black on the output changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adcompile.codegen.backends import Backend
from adcompile.ir.graph import APPLY, CONST, Node, reachable
from adcompile.codegen.names import NameAllocator

LINE = 88
INDENT = "    "


@dataclass
class FunctionSpec:
    name: str
    params: list[Node]
    returns: Any  # a Node, a float, or nested tuples of them
    doc: str
    # (first node id, comment): where each pass after the forward pass begins
    sections: tuple[tuple[int, str], ...] = ()
    primal: tuple = ()  # the outputs of the forward pass, printed first
    return_names: tuple[str, ...] = ("value", "gradient", "hessian")


@dataclass
class ModuleSpec:
    backend: Backend
    header: list[str]
    constants: list[tuple[str, tuple]]
    functions: list[FunctionSpec]
    param_names: dict[int, str]  # variable node id -> its Python name
    taken: set[str] = field(default_factory=set)  # further names to avoid


def _leaves(structure) -> list:
    """The nodes and numbers of a nested tuple, left to right (depth <= 3)."""
    out, stack = [], [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _nodes_of(fn: FunctionSpec) -> list[Node]:
    return reachable([x for x in _leaves(fn.returns) if isinstance(x, Node)])


def float_literal(value: float) -> str:
    """Shortest round-trip repr, in black's spelling (``1e300``, not ``1e+300``)."""
    return repr(float(value)).replace("e+", "e")


class _Module:
    """Builds the source of one module from a ModuleSpec."""

    def __init__(self, spec: ModuleSpec):
        self.spec = spec
        self.backend = spec.backend
        fixed = set(spec.param_names.values()) | {f.name for f in spec.functions}
        fixed |= {name for name, _ in spec.constants} | spec.taken
        self.alloc = NameAllocator(fixed)
        self.imports: dict[str, str] = {}  # function or constant -> its global name
        self.helpers: dict[str, str] = {}  # helper -> its global name
        self.module_alias: str | None = None
        self.names: dict[int, str] = dict(spec.param_names)
        self.accumulate: dict[int, tuple[str, Node]] = {}
        self.node_sets = [_nodes_of(f) for f in spec.functions]

    # --- references to the backend module and helpers ---
    def ref(self, function: str) -> str:
        if self.backend.alias is not None:
            if self.module_alias is None:
                self.module_alias = self.alloc.take(self.backend.alias)
            return f"{self.module_alias}.{function}"
        if function not in self.imports:
            self.imports[function] = self.alloc.take(function)
        return self.imports[function]

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            self.helpers[name] = self.alloc.take(name)
        return self.helpers[name]

    def operand(self, node: Node) -> str:
        if node.kind != CONST:
            return self.names[node.id]
        special = self.backend.constant(node.value)
        if special is None:
            return float_literal(node.value)
        sign = "-" if special == "inf" and node.value < 0 else ""
        return sign + self.ref(special)

    # --- expressions ---
    def expression(self, node: Node) -> tuple:
        """("call", f, [args]) | ("infix", left, symbol, right) | ("text", s)."""
        spelling = self.backend.spelling(node.op)
        if callable(spelling):
            spelling = spelling(node.args)
        args = [self.operand(a) for a in node.args]
        if "{" not in spelling:
            fn = self.helper(spelling) if spelling.startswith("_") else self.ref(spelling)
            return ("call", fn, args)
        if spelling.startswith("{0}**") and args[0].startswith("-"):
            args[0] = f"({args[0]})"
        if spelling.count("{") == 2 and spelling.startswith("{0} ") and spelling.endswith(" {1}"):
            return ("infix", args[0], spelling[4:-4], args[1])
        return ("text", spelling.format(*args))

    # --- names ---
    def assign_names(self, nodes: list[Node]) -> None:
        uses = self._uses(nodes)
        for node in nodes:
            if node.kind != APPLY:
                continue
            if node.label is not None:
                self.names[node.id] = self.alloc.take(node.label)
                continue
            primal = node.hint[1] if node.hint else None
            if primal is None or primal.id not in self.names:
                self.names[node.id] = self.alloc.fresh("t")
                continue
            chain = self._accumulates_onto(node, uses)
            if chain is not None:
                self.names[node.id] = self.names[chain[0].id]
                self.accumulate[node.id] = (chain[1], chain[2])
            else:
                self.names[node.id] = self.alloc.take(f"{node.hint[0]}_{self.names[primal.id]}")

    def _uses(self, nodes: list[Node]) -> dict[int, int]:
        uses: dict[int, int] = {}
        for node in nodes:
            for arg in node.args:
                uses[arg.id] = uses.get(arg.id, 0) + 1
        for fn in self.spec.functions:
            for leaf in _leaves(fn.returns):
                if isinstance(leaf, Node):
                    uses[leaf.id] = uses.get(leaf.id, 0) + 2
        return uses

    def _accumulates_onto(self, node: Node, uses) -> tuple | None:
        """(previous partial sum, '+' or '-', the term) when ``d += term`` fits."""
        if node.op.name not in ("add", "sub"):
            return None
        a, b = node.args
        candidates = [(a, b)] if node.op.name == "sub" else [(a, b), (b, a)]
        for prev, term in candidates:
            if (
                prev.kind == APPLY
                and prev.hint is not None
                and prev.hint[0] == node.hint[0]
                and prev.hint[1] is node.hint[1]
                and prev.label is None
                and uses.get(prev.id, 0) == 1
                and prev is not term
            ):
                return prev, "+" if node.op.name == "add" else "-", term
        return None

    # --- lines ---
    def statement(self, node: Node, indent: str) -> list[str]:
        name = self.names[node.id]
        if node.id in self.accumulate:
            symbol, term = self.accumulate[node.id]
            if self.backend.augmented_assign:
                return layout_assignment(f"{name} {symbol}=", ("text", self.operand(term)), indent)
            return layout_assignment(f"{name} =", ("infix", name, symbol, self.operand(term)), indent)
        return layout_assignment(f"{name} =", self.expression(node), indent)

    def function(self, fn: FunctionSpec, nodes: list[Node]) -> list[str]:
        params = [self.names[p.id] for p in fn.params]
        lines = layout_collection(f"def {fn.name}(", params, "", "):", is_tuple=False)
        lines.append(f'{INDENT}"""{fn.doc}"""')
        passes = self.passes(fn, [n for n in nodes if n.kind == APPLY])
        dead = self.dead_after(fn, [n for _, part in passes for n in part])
        for comment, part in passes:
            if comment:
                lines.append(f"{INDENT}# {comment}")
            for node in part:
                lines.extend(self.statement(node, INDENT))
                if dead.get(node.id):
                    lines.extend(layout_del(dead[node.id], INDENT))
        lines.extend(self.return_lines(fn.returns, fn.return_names))
        return lines

    def dead_after(self, fn: FunctionSpec, order: list[Node]) -> dict[int, list[str]]:
        """For array backends: the temporaries each statement uses for the last
        time, to ``del`` at once, so that an intermediate array is freed (and its
        memory reused) as soon as nothing needs it, as NumPy expressions do."""
        if not self.backend.free_dead:
            return {}
        kept = {x.id for x in _leaves(fn.returns) if isinstance(x, Node)}
        last: dict[int, Node] = {}
        for node in order:
            for arg in node.args:
                if arg.kind == APPLY and arg.id not in kept:
                    last[arg.id] = node
        dead: dict[int, list[str]] = {}
        for arg_id, node in last.items():
            name = self.names[arg_id]
            if name != self.names[node.id] and name not in dead.get(node.id, []):
                dead.setdefault(node.id, []).append(name)
        return dead

    @staticmethod
    def passes(fn: FunctionSpec, body: list[Node]) -> list[tuple[str | None, list[Node]]]:
        """The body split into passes: the forward pass (everything the primal
        outputs need), then each later section, a node going to the last
        section that began at or before it was built.  Printing the forward
        pass first keeps the order topological: it needs nothing later."""
        if not fn.sections:
            return [(None, body)]
        primal = {n.id for n in reachable([p for p in fn.primal if isinstance(p, Node)])}
        passes = [("forward pass", [n for n in body if n.id in primal])]
        current = None
        for node in body:
            if node.id in primal:
                continue
            section = max((s for s in fn.sections if s[0] <= node.id), default=fn.sections[0])
            if section is not current:
                passes.append((section[1], []))
                current = section
            passes[-1][1].append(node)
        return [p for p in passes if p[1]]

    def value_text(self, item) -> str | list:
        if isinstance(item, tuple):
            return [self.value_text(x) for x in item]
        if isinstance(item, Node):
            return self.operand(item)
        return float_literal(item)

    def return_lines(self, returns, return_names) -> list[str]:
        text = self.value_text(returns)
        if not isinstance(text, list):
            return [f"{INDENT}return {text}"]
        one_line = f"{INDENT}return {', '.join(_flat(t) for t in text)}"
        if len(one_line) <= LINE:
            return [one_line]
        lines, parts = [], []
        for part, title in zip(text, return_names):
            if isinstance(part, list):
                name = self.alloc.take(title)
                lines += layout_collection(f"{name} = (", part, INDENT, ")")
                parts.append(name)
            else:
                parts.append(part)
        return lines + [f"{INDENT}return {', '.join(parts)}"]

    # --- the whole module ---
    def source(self) -> str:
        union = reachable([n for nodes in self.node_sets for n in nodes])
        for node in union:
            if node.kind == APPLY:
                self.expression_refs(node)
            elif node.kind == CONST:
                self.operand(node)
        for fn in self.spec.functions:
            for leaf in _leaves(fn.returns):
                if isinstance(leaf, Node) and leaf.kind == CONST:
                    self.operand(leaf)
        self.assign_names(union)
        functions = [self.function(f, nodes) for f, nodes in zip(self.spec.functions, self.node_sets)]
        return self.assemble(functions)

    def expression_refs(self, node: Node) -> None:
        """Reserve the global names a node's expression refers to."""
        saved = self.names
        self.names = _AnyName()
        try:
            self.expression(node)
        finally:
            self.names = saved

    def assemble(self, functions: list[list[str]]) -> str:
        out = ["# " + line if line else "#" for line in self.spec.header]
        imports = self.import_lines()
        out += imports + [""] if imports else []
        for name, value in self.spec.constants:
            out += layout_collection(f"{name} = (", [_literal(v) for v in value], "", ")")
        for helper, alias in sorted(self.helpers.items()):
            source = self.backend.helper_source(helper).rstrip("\n")
            out += ["", ""] + source.replace(f"def {helper}(", f"def {alias}(", 1).split("\n")
        for lines in functions:
            out += ["", ""] + lines
        return "\n".join(out) + "\n"

    def import_lines(self) -> list[str]:
        lines = []
        if self.helpers:
            lines += self.backend.helper_imports(sorted(self.helpers), self.module_alias)
        if self.module_alias is not None:
            module = self.backend.module
            lines.append(f"import {module} as {self.module_alias}")
        if self.imports:
            items = [f if f == alias else f"{f} as {alias}" for f, alias in sorted(self.imports.items())]
            head = f"from {self.backend.module} import "
            one = head + ", ".join(items)
            lines += [one] if len(one) <= LINE else layout_collection(head + "(", items, "", ")", False)
        return lines


class _AnyName(dict):
    """Stands in for the name table while only global references are wanted."""

    def __getitem__(self, key):
        return "_"


def _flat(text) -> str:
    if isinstance(text, list):
        inner = ", ".join(_flat(t) for t in text)
        return f"({inner},)" if len(text) == 1 else f"({inner})"
    return text


def _literal(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return _flat([_literal(v) for v in value])
    return str(value)


def layout_collection(open_: str, items: list, indent: str, close: str,
                      is_tuple: bool = True) -> list[str]:
    """``open_ a, b close`` on one line if it fits, else one item per line.

    ``open_`` ends with a bracket and ``close`` starts with its partner.  Items
    may be lists (nested tuples), each laid out the same way one level deeper,
    with the trailing commas black calls magic, so black keeps the layout.
    """
    flat = ", ".join(_flat(i) for i in items)
    if is_tuple and len(items) == 1:
        flat += ","
    one = f"{indent}{open_}{flat}{close}"
    if len(one) <= LINE or not items:
        return [one]
    inner = indent + INDENT
    lines = [indent + open_]
    for item in items:
        if isinstance(item, list):
            lines += layout_collection("(", item, inner, "),")
        else:
            lines.append(f"{inner}{item},")
    return lines + [indent + close]


def layout_del(names: list[str], indent: str) -> list[str]:
    """``del a, b`` on one line if it fits, else one ``del`` per name (black leaves both)."""
    line = f"{indent}del {', '.join(names)}"
    return [line] if len(line) <= LINE else [f"{indent}del {n}" for n in names]


def layout_assignment(lhs: str, expr: tuple, indent: str) -> list[str]:
    """One assignment, split the way black splits a line that is too long."""
    kind = expr[0]
    if kind == "call":
        rhs = f"{expr[1]}({', '.join(expr[2])})"
    elif kind == "infix":
        rhs = f"{expr[1]} {expr[2]} {expr[3]}"
    else:
        rhs = expr[1]
    line = f"{indent}{lhs} {rhs}"
    if len(line) <= LINE:
        return [line]
    inner = indent + INDENT
    if kind == "call":
        body = f"{inner}{', '.join(expr[2])}"
        if len(body) <= LINE or len(expr[2]) == 1:
            return [f"{indent}{lhs} {expr[1]}(", body, f"{indent})"]
        return [f"{indent}{lhs} {expr[1]}("] + [f"{inner}{a}," for a in expr[2]] + [f"{indent})"]
    body = f"{inner}{rhs}"
    if kind == "infix" and len(body) > LINE:
        return [f"{indent}{lhs} (", f"{inner}{expr[1]}", f"{inner}{expr[2]} {expr[3]}", f"{indent})"]
    return [f"{indent}{lhs} (", body, f"{indent})"]


def generate(spec: ModuleSpec) -> str:
    """The module's source text, already in black's style."""
    return _Module(spec).source()
