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

Everything here is iterative (explicit stacks), whatever the nesting depth.
"""

from __future__ import annotations

from typing import Callable

from adcompile.codegen.layout import INDENT
from adcompile.ir.graph import APPLY, Node
from adcompile.ir.guards import Guard

class BlockPrinter:
    """Prints one pass's nodes with each ``where`` as a block (module docstring)."""

    def __init__(self, guard: dict[int, Guard], spelling, is_choice: Callable[[Node], bool],
                 position: dict[int, int], uses: dict[int, int]):
        self.guard = guard
        self.statement = spelling.statement  # (node, indent) -> its assignment's lines
        self.choice_lines = spelling.choice_lines  # (where, indent, block?, branch) -> lines
        self.assign_as = spelling.assign_as  # (node, where, indent) -> "w = <node's expression>"
        self.is_choice = is_choice
        self.position = position  # node id -> topological position
        self.uses = uses  # node id -> its uses (a returned node counts more)
        self.done: set[int] = set()
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
        while work:
            item = work.pop()
            if item[0] == "text":
                out.extend(item[1])
                continue
            if item[0] == "as":
                _, node, indent, choice = item
                self.done.add(node.id)
                out.extend(self.assign_as(node, choice, indent))
                continue
            _, node, indent = item
            if node.id in self.done:
                continue
            self.done.add(node.id)
            if node.id in self.inlined:
                continue
            if not self.is_choice(node):
                out.extend(self.statement(node, indent))
                continue
            work.extend(reversed(self._choice_items(node, indent)))
        return out

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
