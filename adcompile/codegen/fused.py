"""One fused loop over the points: a program with ``sum``/``mean`` on the numba backend.

The numpy backend computes a data loss as array expressions, one array per
intermediate.  The numba backend computes the same function (the same graph,
with the numpy backend's ``sum_to`` and ``broadcast`` adjoints) as one
parallel loop over the points, each point in scalar code, and the sums as
per-thread partial sums: no intermediate arrays, so memory is the inputs and
outputs plus O(threads x sums).

Each function is two definitions: ``grad_loss`` (plain Python) turns the
arguments into flat arrays (``_points``), calls ``_grad_loss_loop`` (compiled
with ``numba.njit(parallel=True)``) and gives the results the arguments'
shape.  Which arguments are arrays is known only at the call, so each node
carries its *cone*, the arguments it varies with, and the loop tests their
steps (1 for an array, 0 for a scalar).  A scalar argument reaches the loop as
a float, so numba compiles one loop per pattern of arrays and scalars, in
which ``_step`` and ``_at`` are decided by type: each step is a constant,
every test of one is folded away, and a scalar is read once, not at every
point.  Per pattern:

* ``sum(e)`` / ``mean(e)`` add ``e`` over the points when ``e`` varies, and are
  ``e`` itself when it does not (NumPy's sum of a scalar);
* ``sum_to(d, x, like)`` (an adjoint summed to the shape of ``x``) is ``d`` at
  each point where ``x`` varies, and else the sum of ``d`` over the points
  where ``d`` or ``like`` vary;
* every other node is computed at each point, as the math backend writes it.

A node that needs a completed sum is computed in a later pass over the
points; a node that depends on nothing but sums and constants is computed
once, between the passes.  A loss needs one pass for value and gradient.

Summation order: the points are split into one contiguous chunk per thread,
each chunk is summed in order, and the chunks' sums are added in thread
order; for a given ``numba.get_num_threads()`` the result is the same on
every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import Callable

from adcompile.codegen.arrays import ArrayParam, definition_lines, leaves
from adcompile.codegen.layout import INDENT, LINE, layout_assignment, layout_collection
from adcompile.codegen.names import NameAllocator
from adcompile.ir.graph import APPLY, CONST, VAR, Node, reachable

SUMS = ("sum", "mean")


@dataclass
class FusedPlan:
    """Where each node of one function is computed (module docstring)."""

    order: list[Node]  # every node the returns need, topological
    cone: dict[int, frozenset] = field(default_factory=dict)  # node -> argument ids
    kind: dict[int, str] = field(default_factory=dict)  # point | scalar | sum | sum_to | size
    level: dict[int, int] = field(default_factory=dict)  # the pass computing it

    def ready(self, node: Node) -> int:
        """The first pass in which the node's value is known at every point."""
        if node.kind != APPLY:
            return 0
        bump = self.kind[node.id] in ("sum", "sum_to")
        return self.level[node.id] + (1 if bump else 0)


def plan(order: list[Node]) -> FusedPlan:
    """Each node's cone, kind and pass, in one topological sweep."""
    p = FusedPlan(order)
    for node in order:
        if node.kind == VAR:
            p.cone[node.id], p.kind[node.id], p.level[node.id] = frozenset([node.id]), "point", 0
            continue
        if node.kind == CONST:
            p.cone[node.id], p.kind[node.id], p.level[node.id] = frozenset(), "scalar", 0
            continue
        name = node.op.name
        cones = [p.cone[a.id] for a in node.args]
        level = max((p.ready(a) for a in node.args), default=0)
        if name in SUMS:
            cone, kind = frozenset(), "sum"
        elif name == "size":
            cone, kind, level = frozenset(), "size", 0
        elif name == "sum_to":
            cone = cones[1]
            kind = ("point" if cone else "scalar") if cone >= cones[0] | cones[2] else "sum_to"
            level = p.ready(node.args[0])
        elif name == "broadcast":
            cone, level = cones[0] | cones[1], p.ready(node.args[0])
            kind = "point" if cone else "scalar"
        else:
            cone = frozenset().union(*cones)
            kind = "point" if cone else "scalar"
        p.cone[node.id], p.kind[node.id], p.level[node.id] = cone, kind, level
    return p


class FusedNames:
    """The names the fused code uses besides the nodes', taken once per module."""

    def __init__(self, alloc: NameAllocator, names: dict[int, str]):
        self.alloc, self.names = alloc, names
        take = alloc.take
        self.n, self.points, self.shape = take("n"), take("points"), take("shape")
        self.threads, self.chunk, self.thread, self.i = take("threads"), take("chunk"), take("thread"), take("i")
        self.partial, self.results = take("partial"), take("results")
        self._per_node: dict[tuple[str, int], str] = {}

    def of(self, suffix: str, node: Node) -> str:
        """``x_step``, ``x_at``, ``t13_part``, ``d_x_out``: a name made from a node's."""
        key = (suffix, node.id)
        if key not in self._per_node:
            base = self.names.get(node.id, "constant")  # a returned constant has no name
            self._per_node[key] = self.alloc.take(f"{base}_{suffix}")
        return self._per_node[key]


class FusedFunction:
    """Prints one function as its Python entry point and its compiled loop."""

    def __init__(self, fn, spelling, names: FusedNames, refs: Callable[[str], str]):
        self.fn, self.spelling, self.n = fn, spelling, names
        self.ref = refs  # "np" / "numba" / a helper -> its global name
        self.returned = _unique([x for x in leaves(fn.returns)
                                 if isinstance(x, Node) and x.kind != CONST])
        self.plan = plan(reachable(self.returned))
        self.variables = [v for p in fn.params
                          for v in (p.elements if isinstance(p, ArrayParam) else (p,))]
        self.flags: dict[frozenset, str] = {}
        self.lines: list[str] = []
        self.out: dict[int, tuple[str, str]] = {}  # returned node -> (its array, its flag)
        self.parallel = False  # has the loop a pass over the points (a constant has none)?

    def definitions(self, return_lines) -> tuple[list[str], list[str]]:
        """The compiled loop's lines and the entry point's (``return_lines`` lays out the
        return statement, as for any function)."""
        loop = self.n.alloc.take(f"_{self.fn.name}_loop")
        return self.loop(loop), self.entry(loop, return_lines)

    # --- the Python entry point ---
    def entry(self, loop: str, return_lines) -> list[str]:
        n = self.n
        lines = definition_lines(self.fn, n.names)
        args = []
        for p in self.fn.params:
            if isinstance(p, ArrayParam):
                args.append(f"*{self.ref('_elements')}({p.name}, {len(p.shape)})")
            else:
                args.append(n.names[p.id])
        lines += layout_collection(f"{n.n}, {n.shape}, {n.points} = {self.ref('_points')}(",
                                   args, INDENT, ")", is_tuple=False)
        results = [n.names[r.id] for r in self.returned]
        threads = f"{self.ref('numba')}.get_num_threads()"
        lines += layout_assignment(f"{n.results} =", ("call", loop, [n.n, threads, f"*{n.points}"]),
                                   INDENT)
        shaped = f"{self.ref('_shaped')}({n.results}, {n.shape})"
        lines += unpack(results, shaped, INDENT)
        # results in the arguments' shapes, as on the numpy backend (not lists, as on math)
        returned = self.spelling.value_text(self.fn.returns, array_wrap=f"{self.ref('np')}.array")
        return lines + return_lines(returned)

    # --- the compiled loop ---
    def loop(self, name: str) -> list[str]:
        n, p = self.n, self.plan
        params = [n.n, n.threads] + [n.of("at", v) for v in self.variables]
        head = layout_collection(f"def {name}(", params, "", "):", is_tuple=False)
        step = self.ref("_step")  # 1 for an array, 0 for a float: a constant, by type
        self.lines = [f"{INDENT}{n.of('step', v)} = {step}({n.of('at', v)})" for v in self.variables]
        self.lines.append(f"{INDENT}{n.chunk} = ({n.n} + {n.threads} - 1) // {n.threads}")
        self.prepare_flags()
        self.output_arrays()
        passes = 1 + max((p.level[x.id] for x in p.order
                          if x.kind == APPLY and p.kind[x.id] in ("point", "sum", "sum_to")), default=0)
        done: set[int] = set()
        for number in range(passes):
            self.scalars(number, done)
            self.one_pass(number)
        self.scalars(passes, done)
        for node in self.returned:
            if p.kind[node.id] in ("sum", "scalar", "size"):
                self.lines.append(f"{INDENT}{self.out[node.id][0]}[0] = {self.spelling.operand(node)}")
        arrays = [self.out[r.id][0] for r in self.returned]
        flags = [self.out[r.id][1] for r in self.returned]  # which results are arrays
        return head + self.lines + layout_collection("return (", arrays + [flags], INDENT, ")")

    def flag(self, cone: frozenset) -> str:
        """The name of "does a value with this cone vary over the points?" (0 or 1)."""
        if not cone:
            return "0"
        if cone not in self.flags:
            steps = sorted(self.n.of("step", v) for v in self.plan.order if v.id in cone)
            if len(steps) == 1:
                self.flags[cone] = steps[0]
            else:
                name = self.n.alloc.take("varies")
                self.lines += layout_assignment(f"{name} =", ("call", "max", steps), INDENT)
                self.flags[cone] = name
        return self.flags[cone]

    def prepare_flags(self) -> None:
        """Name every flag the loop tests before the loop (``varies = max(x_step, y_step)``)."""
        for node in self.plan.order:
            kind = self.plan.kind[node.id]
            if kind in ("sum", "sum_to"):
                self.region(node)
            if kind == "size":
                self.flag(self.plan.cone[node.args[0].id])
            if kind == "sum_to" or node.id in {r.id for r in self.returned}:
                self.flag(self.plan.cone[node.id])
        summed = [r for r in self.returned if self.plan.kind[r.id] == "sum_to"]
        if len(summed) > 1:  # the test of all the stores of derivatives summed to arguments
            self.flag(frozenset().union(*(self.plan.cone[r.id] for r in summed)))

    def region(self, node: Node) -> str:
        """For a sum or a ``sum_to``: does what it adds up vary over the points?"""
        cones = [self.plan.cone[a.id] for a in node.args]
        return self.flag(cones[0] | cones[2] if node.op.name == "sum_to" else cones[0])

    def output_arrays(self) -> None:
        np_ = self.ref("np")
        for node in self.returned:
            kind = self.plan.kind[node.id]
            flag = "0" if kind in ("sum", "scalar", "size") else self.flag(self.plan.cone[node.id])
            array = self.n.of("out", node)
            size = "1" if flag == "0" else f"{self.n.n} if {flag} else 1"
            self.lines.append(f"{INDENT}{array} = {np_}.empty({size})")
            self.out[node.id] = (array, flag)

    def scalars(self, number: int, done: set[int]) -> None:
        """The nodes computed once, whose sums are complete before pass ``number``."""
        for node in self.plan.order:
            kind = self.plan.kind[node.id]
            if node.kind != APPLY or node.id in done or kind not in ("scalar", "size"):
                continue
            if self.plan.level[node.id] <= number:
                done.add(node.id)
                if kind == "size":
                    flag = self.flag(self.plan.cone[node.args[0].id])
                    text = f"float({self.n.n}) if {flag} else 1.0" if flag != "0" else "1.0"
                    self.lines.append(f"{INDENT}{self.n.names[node.id]} = {text}")
                else:
                    self.lines += self.point_lines(node, INDENT)

    def statement(self, node: Node, indent: str) -> list[str]:
        if node.op.name == "where":
            return self.spelling.choice_lines(node, indent, False, True)
        return self.spelling.statement(node, indent)

    # --- one pass over the points ---
    def one_pass(self, number: int) -> None:
        p, n = self.plan, self.n
        sums = [x for x in p.order if x.kind == APPLY and p.kind[x.id] in ("sum", "sum_to")
                and p.level[x.id] == number]
        stores = [x for x in self.returned if p.kind[x.id] in ("point", "sum_to")
                  and p.level[x.id] == number]
        if not sums and not stores:
            return
        body = self.body(sums, stores, number)
        deep = INDENT * 3
        if sums:
            self.lines.append(f"{INDENT}{n.partial} = {self.ref('np')}.zeros(({n.threads}, {len(sums)}))")
        self.lines.append(f"{INDENT}# pass {number + 1}: one chunk of the points per thread"
                          if number else f"{INDENT}# one chunk of the points per thread")
        self.parallel = True
        self.lines.append(f"{INDENT}for {n.thread} in {self.ref('numba')}.prange({n.threads}):")
        self.lines += [f"{INDENT * 2}{n.of('part', s)} = 0.0" for s in sums]
        start = f"{n.thread} * {n.chunk}"
        self.lines.append(f"{INDENT * 2}for {n.i} in range({start}, min({n.n}, {start} + {n.chunk})):")
        for node in body:
            self.lines += self.point_lines(node, deep)
        for s in sums:
            part, term, over = n.of("part", s), self.spelling.operand(s.args[0]), self.region(s)
            self.lines += layout_assignment(f"{part} =", ("text", f"{part} + {term} if {over} else {term}"), deep)
        self.stores(stores, deep)
        for k, s in enumerate(sums):
            self.lines.append(f"{INDENT * 2}{n.partial}[{n.thread}, {k}] = {n.of('part', s)}")
        for k, s in enumerate(sums):
            self.finish(s, k)

    def stores(self, stores: list[Node], deep: str) -> None:
        """Results at each point: an array result, element by element; a result that is one
        number, once.  A derivative summed to an argument that is a scalar at this call is
        stored after the pass (its total), so its stores sit under one test of all of them."""
        p, n = self.plan, self.n
        summed = [x for x in stores if p.kind[x.id] == "sum_to"]
        for node in [x for x in stores if p.kind[x.id] != "sum_to"]:
            array, flag = self.out[node.id]
            value = self.spelling.operand(node)
            if flag == "0":
                self.lines += [f"{deep}if {n.i} == 0:", f"{deep}{INDENT}{array}[0] = {value}"]
            else:
                self.lines += [f"{deep}if {flag} or {n.i} == 0:",
                               f"{deep}{INDENT}{array}[{n.i} * {flag}] = {value}"]
        if not summed:
            return
        inner = deep
        if len(summed) > 1:
            self.lines.append(f"{deep}if {self.flag(frozenset().union(*(p.cone[x.id] for x in summed)))}:")
            inner = deep + INDENT
        for node in summed:
            array, flag = self.out[node.id]
            value = self.spelling.operand(node.args[0])
            self.lines += [f"{inner}if {flag}:", f"{inner}{INDENT}{array}[{n.i}] = {value}"]

    def finish(self, node: Node, k: int) -> None:
        """A sum's total, after the pass that adds it up."""
        n, over = self.n, self.region(node)
        total = f"{self.ref('_total')}({n.partial}[:, {k}], {over})"
        if node.op.name == "mean":
            total += f" / (float({n.n}) if {over} else 1.0)"
        if node.op.name == "sum_to":
            self.lines += layout_assignment(f"{n.of('total', node)} =", ("text", total), INDENT)
            if node.id in self.out:
                array, flag = self.out[node.id]
                self.lines += [f"{INDENT}if not {flag}:", f"{INDENT * 2}{array}[0] = {n.of('total', node)}"]
            return
        self.lines += layout_assignment(f"{n.names[node.id]} =", ("text", total), INDENT)

    def body(self, sums: list[Node], stores: list[Node], number: int) -> list[Node]:
        """The nodes a pass computes at each point, topological."""
        p = self.plan
        stack = [s.args[0] for s in sums]
        stack += [x.args[0] if p.kind[x.id] == "sum_to" else x for x in stores]
        seen: dict[int, Node] = {}
        while stack:
            node = stack.pop()
            if node.id in seen or node.kind == CONST or p.kind[node.id] in ("scalar", "size", "sum"):
                continue
            seen[node.id] = node
            if node.kind == APPLY:
                stack += [node.args[0]] if node.op.name in ("sum_to", "broadcast") else list(node.args)
        return [seen[i] for i in sorted(seen)]

    def point_lines(self, node: Node, indent: str) -> list[str]:
        n, name = self.n, self.n.names[node.id]
        if node.kind == VAR:
            return [f"{indent}{name} = {self.ref('_at')}({n.of('at', node)}, {n.i})"]
        if node.op.name in ("sum_to", "broadcast"):
            d = self.spelling.operand(node.args[0])
            if self.plan.kind[node.id] == "sum_to":
                flag = self.flag(self.plan.cone[node.id])
                return layout_assignment(f"{name} =", ("text", f"{d} if {flag} else {n.of('total', node)}"), indent)
            return [f"{indent}{name} = {d}"]
        return self.statement(node, indent)


def unpack(names: list[str], source: str, indent: str) -> list[str]:
    """``a, b = source`` as black writes it: on one line if it fits, else one name per line
    in brackets (``(a,) = source`` for one name)."""
    one = f"{indent}{', '.join(names)} = {source}"
    if len(names) > 1 and len(one) <= LINE:
        return [one]
    return layout_collection("(", names, indent, f") = {source}")


def _unique(nodes: list[Node]) -> list[Node]:
    seen: set[int] = set()
    return [x for x in nodes if not (x.id in seen or seen.add(x.id))]
