"""Only the branch taken: ``where`` as an ``if``/``else`` block in straight-line code.

On a backend that runs one point at a time (``Choice`` spelling), a node
that only one branch of a ``where`` needs is computed inside that branch, so
``where(x > 0, log(x), -x)`` never calls ``log`` at x = -1.  The scheduling
rule:

* Each node gets a *guard* (``ir/guards.py``): the branches it is needed under,
  from the outside in.  A node needed under several guards gets their longest
  common prefix: a node both branches share, or that something outside them
  uses, is computed once, before the block.
* A ``where`` is printed where it falls in topological order, as
  ``if c:`` (the nodes of its first branch not yet computed, in topological
  order, then ``w = a``) ``else:`` (the same for ``b``); nested wheres nest.
  With nothing of their own to compute, it is ``w = a if c else b``.
* A node in a branch that a later ``where`` on the same condition also needs
  is computed in the first block; the later block runs under the same
  condition, so it is there.
* A node needed only by branches of different ``where``s (``log(x)`` in
  ``where(x > 0, log(x), 0) + where(x > 1, log(x), 0)``) is computed once,
  under the test that one of them is taken: ``if t0 or t3:``.  Conditions that
  come later are computed first, at the node's level: one of its own level,
  or one nested deeper made only of ops that never raise (``x > 0``).  Any
  other condition is left out of the test (it then holds more often than
  needed, never less), and where no test can be written the node is computed
  before the blocks, as a shared node is.

Everything here is iterative (explicit stacks), whatever the nesting depth.
"""

from __future__ import annotations

from typing import Callable

from adcompile.codegen.layout import INDENT, LINE
from adcompile.ir.graph import APPLY, VAR, Node
from adcompile.ir.guards import Guard, simplify

# ops that raise no exception for any float arguments: computed before a test even where
# their own branch is not taken, as conditions of a test (``_cone``)
NEVER_RAISES = frozenset({"add", "sub", "mul", "neg", "abs", "lt", "le", "gt", "ge", "eq", "ne",
                          "logical_and", "logical_or", "logical_not"})


class BlockPrinter:
    """Prints one pass's nodes with each ``where`` as a block (module docstring)."""

    def __init__(self, guard: dict[int, Guard], spelling, is_choice: Callable[[Node], bool],
                 position: dict[int, int], uses: dict[int, int],
                 paths: dict[int, tuple[Guard, ...]] | None = None,
                 nodes: dict[int, Node] | None = None):
        self.guard = guard
        self.paths = paths or {}  # nodes needed under diverging branches (``need_paths``)
        self.nodes = nodes or {}  # node id -> node, for the conditions the paths name
        self.name = spelling.operand  # a node's name in the code
        self.statement = spelling.statement  # (node, indent) -> its assignment's lines
        self.choice_lines = spelling.choice_lines  # (where, indent, block?, branch) -> lines
        self.assign_as = spelling.assign_as  # (node, where, indent) -> "w = <node's expression>"
        self.is_choice = is_choice
        self.position = position  # node id -> topological position
        self.uses = uses  # node id -> its uses (a returned node counts more)
        self.done: set[int] = set()
        self.guarding: int | None = None  # the node whose test is being written
        self.accumulated = spelling.accumulate
        self.inlined = spelling.inlined  # written inside their user's line: no statement

    def inline(self, operand: Node) -> bool:
        """May a branch's operand be computed straight into the where's name?"""
        return (self.uses.get(operand.id, 0) == 1 and operand.id not in self.accumulated
                and not self.is_choice(operand))

    def lines(self, nodes: list[Node]) -> list[str]:
        """The pass's nodes: those needed unconditionally in order, branches in blocks."""
        work: list = [("node", n, INDENT) for n in reversed(nodes) if not self.guard.get(n.id)]
        out: list[str] = []
        block: tuple[str, int] | None = None  # the last if-test, and where its body ended
        while work:
            kind, *rest = work.pop()
            if kind == "text":
                out.extend(rest[0])
            elif kind == "test":  # nodes under one test, one after another: one block
                if block != (rest[0], len(out)):
                    out.append(rest[0])
            elif kind == "ended":
                block = (rest[0], len(out))
            elif kind == "as":
                node, indent, choice = rest
                self.done.add(node.id)
                out.extend(self.assign_as(node, choice, indent))
            else:
                work.extend(reversed(self._node_items(kind, *rest)))
        return out

    def _node_items(self, kind: str, node: Node, indent: str) -> list:
        """What printing a node takes: its statement, its where's blocks, or its test
        (``_guarded_items``); a ``body`` is a node inside its test, printed as it is."""
        if kind == "node":
            if node.id in self.done:
                return []
            self.done.add(node.id)
            if node.id in self.inlined:
                return []
            guarded = self._guarded_items(node, indent) if node.id in self.paths else None
            if guarded:
                return guarded
        if not self.is_choice(node):
            return [("text", self.statement(node, indent))]
        return self._choice_items(node, indent)

    def _choice_items(self, node: Node, indent: str) -> list:
        c, a, b = node.args
        own = self.guard.get(node.id, ())
        branches = [self._claim(a, own + ((c.id, True),)), self._claim(b, own + ((c.id, False),))]
        if not any(branches):
            return [("text", self.choice_lines(node, indent, False, True))]
        inner = indent + INDENT
        items: list = []
        for taken, operand, claimed in zip((True, False), (a, b), branches):
            lines = self.choice_lines(node, indent, True, taken)
            items.append(("text", lines[:1]))
            if claimed and claimed[-1] is operand and self.inline(operand):
                # the branch's last step computes the where's value itself: w = log(x)
                items += [("node", n, inner) for n in claimed[:-1]]
                items.append(("as", operand, inner, node))
            else:
                items += [("node", n, inner) for n in claimed]
                items.append(("text", lines[1:]))
        return items

    def _claim(self, start: Node, under: Guard) -> list[Node]:
        """The nodes not yet printed that ``start`` needs at the level of the branch
        ``under`` (their guard is exactly it), in topological order.  Nodes of deeper
        branches are passed through, not claimed: their own ``where``'s block takes them."""
        claimed, stack, seen = [], [start], set()
        while stack:
            node = stack.pop()
            if node.id in seen or node.id in self.done or node.kind != APPLY:
                continue
            seen.add(node.id)
            guard = self.guard.get(node.id, ())
            if guard[: len(under)] != under:
                continue
            if len(guard) == len(under):
                claimed.append(node)
            stack.extend(node.args)
        return sorted(claimed, key=lambda n: self.position[n.id])

    # --- a node needed under branches of different wheres ---
    def _guarded_items(self, node: Node, indent: str) -> list | None:
        """``if t0 or t3:`` with the node inside, after the conditions it names that are
        not computed yet; None where no such test can be written."""
        level = self.guard.get(node.id, ())
        pulled: dict[int, Node] = {}
        tests = set()
        self.guarding = node.id  # a condition that needs it cannot be in its test
        for path in self.paths[node.id]:
            tested = self._testable(path[len(level):], level, pulled)
            if not tested:
                return None
            tests.add(level + tested)
        tests = simplify(tests)
        if level in tests:
            return None
        several = len(tests) > 1
        text = " or ".join(self._conjunction(t[len(level):], several) for t in sorted(tests))
        line = f"{indent}if {text}:"
        if len(line) > LINE:
            return None
        first = [("node", n, indent) for n in sorted(pulled.values(), key=lambda n: self.position[n.id])]
        return first + [("test", line), ("body", node, indent + INDENT), ("ended", line)]

    def _conjunction(self, tested: Guard, bracketed: bool) -> str:
        terms = [self.name(self.nodes[c]) if taken else f"not {self.name(self.nodes[c])}"
                 for c, taken in tested]
        text = " and ".join(terms)
        return f"({text})" if bracketed and len(terms) > 1 else text

    def _testable(self, steps: Guard, level: Guard, pulled: dict[int, Node]) -> Guard:
        """The leading steps of a path below ``level`` whose conditions can be read here."""
        tested: Guard = ()
        for cid, taken in steps:
            cond = self.nodes.get(cid)
            if cond is None or not self._readable(cond, level, tested, pulled):
                break
            tested += ((cid, taken),)
        return tested

    def _readable(self, cond: Node, level: Guard, tested: Guard, pulled: dict[int, Node]) -> bool:
        """Is the condition computed wherever ``level + tested`` holds, or can it be computed
        at ``level``, before the test?"""
        if cond.kind == VAR:
            return True
        if cond.kind != APPLY or cond.id in self.inlined:
            return False
        if cond.id in self.done:
            guard = self.guard.get(cond.id, ())
            return (level + tested)[: len(guard)] == guard
        cone = self._cone(cond, level)
        if cone is None:
            return False
        pulled.update((n.id, n) for n in cone)
        return True

    def _cone(self, cond: Node, level: Guard) -> list[Node] | None:
        """The nodes not computed yet that the condition needs, if all can be computed at
        ``level`` now: each needed only under ``level`` (a node needed outside it would be
        missing there), and, if needed only deeper, one that never raises (a comparison,
        ``+``, ``*``); none a where, none under a test, none the node being tested."""
        cone, stack, seen = [], [cond], set()
        while stack:
            node = stack.pop()
            if node.id == self.guarding:
                return None
            if node.id in seen or node.kind != APPLY:
                continue
            seen.add(node.id)
            guard = self.guard.get(node.id, ())
            if node.id in self.done:
                if level[: len(guard)] != guard:  # computed inside a block: not here
                    return None
                continue
            if (guard[: len(level)] != level or self.is_choice(node) or node.id in self.paths
                    or (guard != level and node.op.name not in NEVER_RAISES)):
                return None
            cone.append(node)
            stack.extend(node.args)
        return cone
