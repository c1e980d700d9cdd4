"""Graph -> Python source: straight-line code.

Each function of a module is a list of output nodes.  Its body is every node
those outputs need, in topological (creation) order, one assignment each;
constants are written inline, and so (unless ``one_step_per_line``) is a step
used only once, inside its user's line or the return (``inline.py`` chooses
them for the whole module before anything is named; a line that still comes
out too long has its operands written apart, and the module is printed
again).  The body is printed pass by pass (the forward pass, then e.g. the
backward pass), each node in the first pass whose outputs need it.  Names are chosen once for the whole module (``names.NodeNamer``), so
``t3`` means the same value in ``f`` and in ``grad_f``.

The pieces, in the order ``generate`` uses them: ``_Globals`` names what the
code refers to at module level (the backend's functions and constants, and
helpers); ``_Spelling`` writes one node as an operand, an expression or a
statement; ``split_passes`` and ``dead_after`` lay out one function's body;
``return_lines`` its return; ``_assemble`` the module.  ``layout.py`` writes
black's layout itself, so running black on the output changes nothing.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from adcompile.codegen.arrays import (
    ArrayParam,
    ArrayValue,
    ModuleConstant,
    definition_lines,
    element_check,
    hoist_lists,
    leaves,
    length_check,
    unpack_lines,
)
from adcompile.codegen.backends import Backend
from adcompile.codegen.layout import (
    ListText,
    INDENT,
    LINE,
    layout_assignment,
    layout_collection,
    flat_text,
    layout_del,
    literal,
    tuple_text,
)
from adcompile.codegen.inline import (
    ATOM,
    POWER,
    Expr,
    composed,
    Inliner,
    infix,
    operand_expr,
    power,
    prefix,
)
from adcompile.codegen.names import NameAllocator, NameHints, NodeNamer, NodeNames
from adcompile.codegen.branches import BlockPrinter
from adcompile.ir.guards import guards
from adcompile.codegen.spellings import Call, Choice, Helper, Infix, Power, Prefix
from adcompile.ir.graph import APPLY, CONST, Node, reachable, use_counts


@dataclass
class FunctionSpec:
    name: str
    params: list[Node]
    returns: Any  # a Node, a float, or nested tuples of them
    doc: str
    # the body, pass by pass: (a comment or None, the nodes (or numbers) the pass
    # computes); each node is printed in the first pass whose nodes need it
    passes: list[tuple[str | None, list]] = field(default_factory=list)
    return_names: tuple[str, ...] = ("value", "gradient", "hessian")
    fused: bool = False  # printed as one fused loop over the points (codegen/fused.py)


@dataclass
class ModuleSpec:
    backend: Backend
    header: list[str]
    constants: list[tuple[str, tuple]]
    functions: list[FunctionSpec]
    param_names: dict[int, str]  # variable node id -> its Python name
    labels: dict[int, str] = field(default_factory=dict)  # step node id -> the user's name
    hints: NameHints = field(default_factory=dict)  # derivative node id -> what it derives
    taken: set[str] = field(default_factory=set)  # further names to avoid
    # the seed's reading: every operation a line of its own (else single-use steps are
    # written inside the step that uses them, ``inline.py``)
    one_step_per_line: bool = False
    fused: bool = False  # some function is a fused loop over the points (codegen/fused.py)


def _returned_nodes(fn: FunctionSpec) -> list[Node]:
    return [x for x in leaves(fn.returns) if isinstance(x, Node)]


def float_literal(value: float) -> str:
    """Shortest round-trip repr, in black's spelling (``1e300``, not ``1e+300``)."""
    return repr(float(value)).replace("e+", "e")


class _Globals:
    """The module-level names the code refers to: the backend's functions and
    constants (imported by name, or through the module's alias) and helpers
    (copied into the module)."""

    def __init__(self, backend: Backend, alloc: NameAllocator):
        self.backend = backend
        self.alloc = alloc
        self.imports: dict[str, str] = {}  # function or constant -> its global name
        self.helpers: dict[str, str] = {}  # helper -> its global name
        self.module_alias: str | None = None
        self.modules: dict[str, str] = {}  # a further module imported whole -> its name

    def module(self, module: str, alias: str) -> str:
        """A module imported whole (``import numba``, ``import numpy as np``), by its name."""
        if module not in self.modules:
            self.modules[module] = self.alloc.take(alias)
        return self.modules[module]

    def fork(self, alloc: NameAllocator) -> _Globals:
        """A copy that takes further names from ``alloc`` and leaves this one as it is."""
        other = copy.copy(self)
        for key, value in vars(self).items():
            if isinstance(value, dict):
                setattr(other, key, dict(value))
        other.alloc = alloc
        return other

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

    def import_lines(self) -> list[str]:
        lines = []
        if self.helpers:
            lines += self.backend.helper_imports(sorted(self.helpers), self.module_alias)
        if self.module_alias is not None:
            lines.append(f"import {self.backend.module} as {self.module_alias}")
        for module, alias in sorted(self.modules.items()):
            line = f"import {module}" if module == alias else f"import {module} as {alias}"
            lines += [] if line in lines else [line]
        if self.imports:
            items = [f if f == alias else f"{f} as {alias}" for f, alias in sorted(self.imports.items())]
            head = f"from {self.backend.module} import "
            one = head + ", ".join(items)
            lines += [one] if len(one) <= LINE else layout_collection(head + "(", items, "", ")", False)
        return lines

    def reserve_for(self, node: Node) -> None:
        """Name the globals the node's spelling refers to: its function or helper,
        or its constant (inf, nan, pi)."""
        if node.kind == CONST:
            special = self.backend.constant(node.value)
            if special is not None:
                self.ref(special)
            return
        if node.kind != APPLY:
            return
        spelling = self.backend.spelling(node.op)
        if isinstance(spelling, Helper):
            self.helper(spelling.name)
        elif isinstance(spelling, Call):
            self.ref(spelling.function)
        elif isinstance(spelling, Power):
            exponent = node.args[1]
            if spelling.small_exponent(exponent.value if exponent.kind == CONST else None) is None:
                self.ref(spelling.function)

    def decorators(self, helper: str | None = None, parallel: bool = False) -> list[str]:
        """The line above a compiled function or helper (none for a Python-level helper)."""
        decorator = self.backend.decorator
        if decorator is None or helper in getattr(self.backend.runtime, "PYTHON_LEVEL", ()):
            return []
        self.module(self.backend.decorator_module, self.backend.decorator_module)
        return ["@" + (self.backend.parallel_decorator if parallel else decorator)]

    def helper_lines(self) -> list[str]:
        """Each helper's source, renamed to its global name, two blank lines before it."""
        lines = []
        for helper, alias in sorted(self.helpers.items()):
            source = self.backend.helper_source(helper).rstrip("\n")
            lines += ["", ""] + self.decorators(helper)
            lines += source.replace(f"def {helper}(", f"def {alias}(", 1).split("\n")
        return lines


class _Spelling:
    """How one node is written: as an operand, an expression, a statement."""

    def __init__(self, globals_: _Globals, naming: NodeNames, uses: dict[int, int],
                 inlined: set[int] | frozenset[int] = frozenset()):
        self.globals = globals_
        self.backend = globals_.backend
        self.names = naming.names
        self.accumulate = naming.accumulate
        self.uses = uses  # each node's uses (a returned node counts twice more)
        self.inlined = inlined  # nodes written inside their user's line (``inline.py``)
        self.overlong: set[int] = set()  # statements with inlined operands that did not fit
        self._spellings: dict[str, Any] = {}  # op name -> the backend's spelling
        self._inlined_exprs: dict[int, Expr] = {}  # an inlined node's text, once per module
        self._plain: dict[int, Expr] = {}  # a node's name (or value) as an operand

    def spelling_of(self, node: Node):
        spelling = self._spellings.get(node.op.name)
        if spelling is None:
            spelling = self._spellings[node.op.name] = self.backend.spelling(node.op)
        return spelling

    def operand(self, node: Node) -> str:
        if node.kind != CONST:
            return self.names[node.id]
        special = self.backend.constant(node.value)
        if special is None:
            return float_literal(node.value)
        sign = "-" if node.value == -math.inf else ""
        return sign + self.globals.ref(special)

    def plain(self, node: Node) -> Expr:
        """A node by its name (or a constant by its value), as an operand."""
        expr = self._plain.get(node.id)
        if expr is None:
            expr = self._plain[node.id] = operand_expr(self.operand(node))
        return expr

    def form_of(self, node: Node) -> str | None:
        """How the node is spelled, for ``inline.py``: an infix operator's symbol, ``""``
        for any other expression, None for what is no expression (a ``where`` printed
        as a choice, a variable, a constant)."""
        if node.kind != APPLY:
            return None
        spelling = self.spelling_of(node)
        if isinstance(spelling, Infix):
            return spelling.symbol
        return "" if isinstance(spelling, (Call, Helper, Prefix, Power)) else None

    def accumulates_onto(self, node: Node, operand: Node) -> bool:
        """Is ``operand`` the partial sum that ``node`` adds to in place (``d_x += t``)?"""
        return node.id in self.accumulate and operand is not self.accumulate[node.id][1]

    def compose(self, node: Node, args: list[Expr]) -> tuple[tuple, int]:
        """The node's expression from its operands' (``Expr``): the form (("call", f,
        [args]) | ("infix", left, symbol, right) | ("text", s)) and its precedence."""
        spelling = self.spelling_of(node)
        texts = [a.text for a in args]
        if isinstance(spelling, Call):
            return ("call", self.globals.ref(spelling.function), texts), ATOM
        if isinstance(spelling, Helper):
            return ("call", self.globals.helper(spelling.name), texts), ATOM
        if isinstance(spelling, Infix):
            left, right, level = infix(args[0], spelling.symbol, args[1])
            return ("infix", left, spelling.symbol, right), level
        if isinstance(spelling, Prefix):
            expr = prefix(spelling.symbol, args[0])
            return ("text", expr.text), expr.precedence
        if isinstance(spelling, Power):
            exponent = node.args[1]
            small = spelling.small_exponent(exponent.value if exponent.kind == CONST else None)
            if small is None:
                return ("call", self.globals.ref(spelling.function), texts), ATOM
            return ("text", power(args[0], small, spelling.symbol).text), POWER
        raise ValueError(f"the {self.backend.name} backend cannot print {node.op.name}()")

    def operand_exprs(self, node: Node) -> list[Expr]:
        """The node's operands, each an inlined expression or a name; the inlined
        ones are composed bottom-up with an explicit stack (each once per module)."""
        done = self._inlined_exprs
        stack = [(a, False) for a in node.args if a.id in self.inlined]
        while stack:
            current, ready = stack.pop()
            if current.id in done:
                continue
            if ready:
                args = [done.get(a.id) or self.plain(a) for a in current.args]
                form, level = self.compose(current, args)
                done[current.id] = composed(flat_text(form), level)
                continue
            stack.append((current, True))
            stack.extend((a, False) for a in current.args
                         if a.id in self.inlined and a.id not in done)
        return [done.get(a.id) or self.plain(a) for a in node.args]

    def references(self, node: Node) -> list[Node]:
        """The op nodes a statement refers to by name, through its inlined operands."""
        out, stack = [], list(reversed(node.args))
        while stack:
            current = stack.pop()
            if current.id in self.inlined:
                stack.extend(reversed(current.args))
            elif current.kind == APPLY:
                out.append(current)
        return out

    def expression(self, node: Node) -> tuple:
        """("call", f, [args]) | ("infix", left, symbol, right) | ("text", s)."""
        return self.compose(node, self.operand_exprs(node))[0]

    def assignment(self, node: Node, args: list[Expr]) -> tuple[str, tuple, int]:
        """The node's statement from its operands: the left-hand side (``t3 =``,
        ``d_x +=``), the right-hand side's form and its precedence."""
        name = self.names[node.id]
        if node.id in self.accumulate:
            symbol, term = self.accumulate[node.id]
            term_expr = next(e for a, e in zip(node.args, args) if a is term)
            if self.backend.augmented_assign:
                return f"{name} {symbol}=", ("text", term_expr.text), term_expr.precedence
            left, right, level = infix(Expr(name, ATOM, True), symbol, term_expr)
            return f"{name} =", ("infix", left, symbol, right), level
        form, level = self.compose(node, args)
        return f"{name} =", form, level

    def statement(self, node: Node, indent: str) -> list[str]:
        lhs, form, _ = self.assignment(node, self.operand_exprs(node))
        return self._laid_out(node, lhs, form, indent)

    def _laid_out(self, node: Node, lhs: str, form: tuple, indent: str) -> list[str]:
        """The assignment's lines; one with inlined operands must fit on one line (else
        it is noted in ``overlong``, and the printer writes those operands apart)."""
        lines = layout_assignment(lhs, form, indent)
        if len(lines) > 1 and any(a.id in self.inlined for a in node.args):
            self.overlong.add(node.id)
        return lines

    def choice_lines(self, node: Node, indent: str, block: bool, taken: bool) -> list[str]:
        """``where(c, a, b)`` printed as a choice: ``w = a if c else b`` (not a block), or
        a block's header and its assignment for the branch ``taken``."""
        name = self.names[node.id]
        c, a, b = (self.operand(x) for x in node.args)
        if not block:
            return layout_assignment(f"{name} =", ("text", f"{a} if {c} else {b}"), indent)
        header = f"{indent}if {c}:" if taken else f"{indent}else:"
        return [header] + layout_assignment(f"{name} =", ("text", a if taken else b),
                                            indent + INDENT)

    def assign_as(self, node: Node, choice: Node, indent: str) -> list[str]:
        """``node``'s expression assigned to the where ``choice``'s name, in its branch."""
        return self._laid_out(node, f"{self.names[choice.id]} =", self.expression(node), indent)

    def array_source(self, param: str) -> str:
        """What an array parameter's elements are unpacked from: ``_as_floats(x)`` or ``x``."""
        helper = self.backend.unpack_helper
        return f"{self.globals.helper(helper)}({param})" if helper else param

    def value_text(self, item, in_array: bool = False, array_wrap: str | None = None) -> str | list:
        """A returned structure as text: nested lists for tuples, a ``ListText`` for an array
        (wrapped in the backend's array function, or in ``array_wrap`` where given)."""
        if isinstance(item, ArrayValue):
            function = self.backend.array_function
            wrap = array_wrap or (self.globals.ref(function) if function else None)
            return ListText([self.value_text(x, True, array_wrap) for x in item],
                            None if in_array else wrap, item.title)
        if isinstance(item, tuple):
            return [self.value_text(x, False, array_wrap) for x in item]
        if isinstance(item, Node):
            if item.id in self.inlined:  # a value returned and used nowhere else
                return flat_text(self.expression(item))
            return self.operand(item)
        if isinstance(item, ModuleConstant):
            return item.name
        return float_literal(item)


def _reserve_globals(globals_: _Globals, nodes: list[Node], functions: list[FunctionSpec]) -> None:
    """Name every global the nodes refer to before any node is named, so a
    global keeps its own name (``sin``) and a node gives way (``sin_1``)."""
    for node in nodes:
        for operand in (*node.args, node):
            globals_.reserve_for(operand)
    for fn in functions:
        for leaf in _returned_nodes(fn):
            globals_.reserve_for(leaf)
        backend = globals_.backend
        if backend.unpack_helper and any(isinstance(p, ArrayParam) for p in fn.params):
            globals_.helper(backend.unpack_helper)
        if backend.array_function and _returns_array(fn.returns):
            globals_.ref(backend.array_function)


def _returns_array(returns) -> bool:
    return isinstance(returns, tuple) and any(
        isinstance(part, ArrayValue) or _returns_array(part) for part in returns)


def _use_counts(nodes: list[Node], functions: list[FunctionSpec]) -> dict[int, int]:
    """Each node's uses as an argument, a returned node counting twice more
    (it must keep its own name: nothing accumulates onto it)."""
    uses = use_counts(nodes)
    for fn in functions:
        for leaf in _returned_nodes(fn):
            uses[leaf.id] = uses.get(leaf.id, 0) + 2
    return uses


def split_passes(fn: FunctionSpec) -> list[tuple[str | None, list[Node]]]:
    """The op nodes the returns need, pass by pass: each node in the first pass
    whose nodes need it.  The forward pass comes first and needs nothing later,
    so the order stays topological.  A pass may list nodes the function does
    not return (to place the nodes it shares with them); they are not printed."""
    body = {n.id for n in reachable(_returned_nodes(fn)) if n.kind == APPLY}
    passes = []
    for comment, outputs in fn.passes:
        needed = reachable([x for x in outputs if isinstance(x, Node)])
        part = [n for n in needed if n.id in body]
        body.difference_update(n.id for n in part)
        if part:
            passes.append((comment, part))
    return passes


def dead_after(fn: FunctionSpec, order: list[Node], names: dict[int, str],
               references=lambda node: node.args,
               inlined: set[int] | frozenset[int] = frozenset()) -> dict[int, list[str]]:
    """For array backends: the temporaries each statement uses for the last
    time, to ``del`` at once, so that an intermediate array is freed (and its
    memory reused) as soon as nothing needs it, as NumPy expressions do.
    ``order`` lists the statements; ``references`` gives the nodes each one
    refers to by name (through the operands written inline); a returned value in
    ``inlined`` keeps what it refers to until the return."""
    kept = {x.id for x in _returned_nodes(fn)}
    kept.update(n.id for x in _returned_nodes(fn) if x.id in inlined for n in references(x))
    last: dict[int, Node] = {}
    for node in order:
        for arg in references(node):
            if arg.kind == APPLY and arg.id not in kept:
                last[arg.id] = node
    dead: dict[int, list[str]] = {}
    for arg_id, node in last.items():
        name = names[arg_id]
        if name != names[node.id] and name not in dead.get(node.id, []):
            dead.setdefault(node.id, []).append(name)
    return dead


def return_lines(text: str | list, return_names: tuple[str, ...],
                 alloc: NameAllocator) -> list[str]:
    """``return a, (b, c)`` on one line if it fits, else each tuple named first
    (``gradient = (...)``) and the names returned."""
    if not isinstance(text, list):
        return [f"{INDENT}return {text}"]
    one_line = f"{INDENT}return {', '.join(tuple_text(t) for t in text)}"
    if len(one_line) <= LINE:
        return [one_line]
    lines, parts = [], []
    for k, part in enumerate(text):  # arrays first, each a named list
        hoisted, text[k] = hoist_lists(part, lambda title: alloc.take(title or return_names[k]))
        lines += hoisted
    one_line = f"{INDENT}return {', '.join(tuple_text(t) for t in text)}"
    if lines and len(one_line) <= LINE:
        return lines + [one_line]
    for part, title in zip(text, return_names):
        if isinstance(part, list):
            name = alloc.take(title)
            lines += layout_collection(f"{name} = (", part, INDENT, ")")
            parts.append(name)
        else:
            parts.append(part)
    return lines + [f"{INDENT}return {', '.join(parts)}"]


def _function_lines(fn: FunctionSpec, spelling: _Spelling, alloc: NameAllocator) -> list[str]:
    lines = definition_lines(fn, spelling.names)
    for param in fn.params:
        if isinstance(param, ArrayParam):
            compiled = spelling.backend.decorator is not None  # numba's unpack error is blank
            lines += length_check(param) if compiled else []
            elements = [spelling.names[n.id] for n in param.elements]
            lines += unpack_lines(param, elements, spelling.array_source(param.name))
            lines += element_check(param, elements[0]) if compiled else []
    passes = split_passes(fn)
    dead: dict[int, list[str]] = {}
    if spelling.backend.free_dead:
        printed = [n for _, part in passes for n in part if n.id not in spelling.inlined]
        dead = dead_after(fn, printed, spelling.names, spelling.references, spelling.inlined)
    blocks = _block_printer(fn, passes, spelling)
    for comment, part in passes:
        if comment:
            lines.append(f"{INDENT}# {comment}")
        if blocks is not None:
            lines.extend(blocks.lines(part))
            continue
        for node in part:
            if node.id in spelling.inlined:
                continue
            lines.extend(spelling.statement(node, INDENT))
            if dead.get(node.id):
                lines.extend(layout_del(dead[node.id], INDENT))
    returned = return_lines(spelling.value_text(fn.returns), fn.return_names, alloc)
    if any(len(line) > LINE for line in returned):  # write the inlined values apart
        spelling.overlong.update(n.id for n in _returned_nodes(fn) if n.id in spelling.inlined)
    return lines + returned


def _block_printer(fn: FunctionSpec, passes: list, spelling: _Spelling) -> BlockPrinter | None:
    """Where the backend prints ``where`` as a choice and the function has one, the
    printer of its ``if``/``else`` blocks (``branches.py``); else None."""
    order = [n for _, part in passes for n in part]
    is_choice = _choice_test(spelling.backend)
    if not any(is_choice(n) for n in order):
        return None
    guard = guards(order, _returned_nodes(fn), is_choice)
    position = {n.id: k for k, n in enumerate(order)}
    return BlockPrinter(guard, spelling, is_choice, position, spelling.uses)


def _choice_test(backend: Backend):
    choice: dict[str, bool] = {}  # op name -> is it printed as a choice?

    def is_choice(node: Node) -> bool:
        if node.kind != APPLY:
            return False
        known = choice.get(node.op.name)
        if known is None:
            known = choice[node.op.name] = isinstance(backend.spelling(node.op), Choice)
        return known

    return is_choice


def _choose_inlined(spec: ModuleSpec, globals_: _Globals, alloc: NameAllocator,
                    nodes: list[Node], uses: dict[int, int]) -> dict[int, int]:
    """The nodes written inside their user's line (``inline.py``), each with its user;
    none with ``one_step_per_line``.  Lines are measured with every node named."""
    if spec.one_step_per_line or spec.fused:
        return {}
    namer = NodeNamer(alloc.copy(), spec.labels, spec.hints)
    naming = namer.name(nodes, spec.param_names, uses)
    kept = set(spec.labels)  # the user's steps, and the adjoints named after them
    kept |= {k for k, (_, primal) in namer.derivative_of.items() if primal.id in spec.labels}
    spelling = _Spelling(globals_.fork(namer.alloc), naming, uses)
    node_uses = use_counts(nodes)
    # a value returned and used nowhere else is written into the return, but not on a
    # backend that frees arrays: it would keep its operands alive until the return
    returned_once = [] if spec.backend.free_dead else [
        n for n in nodes if n.kind == APPLY and uses.get(n.id) == 2 and n.id not in node_uses]
    parent = Inliner(spelling, uses, kept).choose(nodes, returned_once)
    is_choice = _choice_test(spec.backend)
    if any(is_choice(n) for n in nodes):  # never across an if/else block's boundary
        for fn in spec.functions:
            order = [n for _, part in split_passes(fn) for n in part]
            guard = guards(order, _returned_nodes(fn), is_choice)
            for node in order:
                user = parent.get(node.id)
                if user is not None and guard.get(node.id, ()) != guard.get(user, ()):
                    del parent[node.id]
    return parent


def _assemble(spec: ModuleSpec, globals_: _Globals, functions: list[list[str]]) -> str:
    out = ["# " + line if line else "#" for line in spec.header]
    imports = globals_.import_lines()
    out += imports + [""] if imports else []
    for name, value in spec.constants:
        if isinstance(value, dict):
            items = [f"{literal(k)}: {literal(v)}" for k, v in value.items()]
            out += layout_collection(f"{name} = {{", items, "", "}", is_tuple=False)
        else:
            out += layout_collection(f"{name} = (", [literal(v) for v in value], "", ")")
    out += globals_.helper_lines()
    for lines in functions:
        out += ["", ""] + lines
    return "\n".join(out) + "\n"


def generate(spec: ModuleSpec) -> str:
    """The module's source text, already in black's style.

    Names are taken in a fixed order, so the text is deterministic: the
    parameters, function and constant names first, then the globals the code
    refers to, then the nodes, then return tuples that need a name."""
    fixed = set(spec.param_names.values()) | {f.name for f in spec.functions}
    fixed |= {p.name for f in spec.functions for p in f.params if isinstance(p, ArrayParam)}
    fixed |= {name for name, _ in spec.constants} | spec.taken
    alloc = NameAllocator(fixed)
    globals_ = _Globals(spec.backend, alloc)
    nodes = reachable([n for fn in spec.functions for n in _returned_nodes(fn)])
    _reserve_globals(globals_, nodes, spec.functions)
    uses = _use_counts(nodes, spec.functions)
    if spec.fused:  # a loop reads its values afresh at each point: nothing accumulates in place
        uses = {node.id: uses.get(node.id, 0) + 2 for node in nodes}
    parent = _choose_inlined(spec, globals_, alloc, nodes, uses)
    base_alloc, base_globals = alloc, globals_
    while True:  # again only where a line with inlined operands came out too long
        alloc = base_alloc.copy()
        globals_ = base_globals.fork(alloc)
        inlined = set(parent)
        naming = NodeNamer(alloc, spec.labels, spec.hints, inlined).name(
            nodes, spec.param_names, uses)
        spelling = _Spelling(globals_, naming, uses, inlined)
        functions = _all_function_lines(spec.functions, spelling, alloc, globals_)
        if not spelling.overlong:
            return _assemble(spec, globals_, functions)
        overlong = spelling.overlong  # statements, and values inlined into a return
        parent = {k: user for k, user in parent.items() if user not in overlong and k not in overlong}


def _all_function_lines(functions: list[FunctionSpec], spelling: _Spelling, alloc: NameAllocator,
                        globals_: _Globals) -> list[list[str]]:
    """Each function's lines (and its decorator, on a compiled backend); a fused function
    as its compiled loop and its Python entry point (``fused.py``)."""
    names = None
    if any(fn.fused for fn in functions):  # imported here: a plain compile does not need it
        from adcompile.codegen.fused import FusedFunction, FusedNames

        names = FusedNames(alloc, spelling.names)

    def ref(name: str) -> str:
        if name in ("np", "numba"):
            return globals_.module({"np": "numpy"}.get(name, name), name)
        return globals_.helper(name)

    out = []
    for fn in functions:
        if not fn.fused:
            out.append(globals_.decorators() + _function_lines(fn, spelling, alloc))
            continue
        printer = FusedFunction(fn, spelling, names, ref)
        loop, entry = printer.definitions(lambda text: return_lines(text, fn.return_names, alloc))
        out += [globals_.decorators(parallel=printer.parallel) + loop, entry]
    return out
