"""Single-use steps written inside the step that uses them.

By default a temporary that only one step uses is not given a line of its
own: ``t2 = sin(beta0 + omega0 * x)`` rather than ``t0 = omega0 * x``,
``t1 = beta0 + t0``, ``t2 = sin(t1)``.  CPython then keeps the intermediate
on its stack instead of storing and loading a local (and reuses the float),
which is where straight-line code spends much of its time, and the code
reads like the formula.  Nothing is computed twice: only a node used exactly
once is written inline.  ``one_step_per_line`` (``--one-step-per-line``)
keeps the seed's one operation per line.

A node is written inline in its user when (``choose_inlined``)

* it is an op node used exactly once in the module, not returned, and neither
  a step the user named nor the adjoint named after one (``d_h0``);
* it is not the partial sum an adjoint accumulates onto (``d_x += t``), not a
  ``where`` printed as a choice, and its user is not such a ``where`` nor a
  short-circuiting ``and``/``or`` (which would skip computing it);
* the user's line still fits in black's 88 columns: the printer writes black's
  layout itself, and a statement on one line is one black leaves alone.
  Operands are dropped from the line, longest first, until it fits.

Precedence is Python's (``Expr.precedence``): an operand is parenthesized
where Python would otherwise group it differently, so ``a - (b - c)``,
``a / (b * c)``, ``(a + b) + c`` printed as ``a + b + c`` but ``a + (b + c)``
kept (floating-point addition is not associative), ``-x**2`` for -(x²) and
``(-x) ** 2``.  ``**`` hugs simple operands as black does (``x**2``,
``(a + b) ** 2``).  Everything is iterative: nodes are visited in topological
order, each expression built from its operands' texts, which fit on a line.
"""

from __future__ import annotations

from dataclasses import dataclass

from adcompile.codegen.layout import INDENT, LINE, flat_text
from adcompile.ir.graph import APPLY, Node

OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, POWER, ATOM = 2, 3, 4, 5, 10, 11, 12, 13, 14

INFIX_PRECEDENCE = {
    "or": OR, "and": AND,
    "<": COMPARE, "<=": COMPARE, ">": COMPARE, ">=": COMPARE, "==": COMPARE, "!=": COMPARE,
    "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT,
}
PREFIX_PRECEDENCE = {"-": UNARY, "not ": NOT}
SHORT_CIRCUIT = ("and", "or")
RETURN = -1  # the user of a value written into the return statement
# the longest value written into a return: an item of a tuple or an array nested a few
# levels deep still fits on its line when black lays the return out one item per line
RETURN_ITEM = 60


@dataclass(frozen=True)
class Expr:
    """An expression's text and how tightly it binds (Python's precedence levels);
    ``simple`` is a name or a number, which black hugs ``**`` around."""

    text: str
    precedence: int = ATOM
    simple: bool = False
    # a power whose base is no call: black parenthesizes it after a unary ``-``
    # (``-(x**3)``, ``-((a + b) ** 2)``, but ``-sin(x) ** 2``)
    bare_power: bool = False


def operand_expr(text: str) -> Expr:
    """A name or a constant as an operand: ``-2.0`` and ``-inf`` bind like ``-x``."""
    if text.startswith("-"):
        return Expr(text, UNARY)
    return Expr(text, ATOM, simple=True)


def infix(left: Expr, symbol: str, right: Expr) -> tuple[str, str, int]:
    """The operands' texts, parenthesized as Python needs, and the result's precedence.

    Both sides are left-associative (the right operand needs parentheses at the same
    level: ``a - (b - c)``, and ``a + (b + c)``, which rounds differently); comparisons
    chain in Python, so a comparison is parenthesized on either side."""
    level = INFIX_PRECEDENCE[symbol]
    left_needs = left.precedence <= level if level == COMPARE else left.precedence < level
    return (_wrap(left, left_needs), _wrap(right, right.precedence <= level), level)


def prefix(symbol: str, operand: Expr) -> Expr:
    """``-x``, ``-x**2`` (which is -(x²)), ``-(a + b)``, ``not a < b``."""
    level = PREFIX_PRECEDENCE[symbol]
    needs = operand.precedence < level or (operand.bare_power and symbol in ("-", "+", "~"))
    return Expr(symbol + _wrap(operand, needs), level)


def power(base: Expr, exponent: int, symbol: str = "**") -> Expr:
    """``x**2``; ``(-x) ** 2`` and ``(x**2) ** 3`` (``**`` is right-associative and binds
    tighter than ``-`` on its left); spaces around ``**`` unless the base is simple, as
    black writes it (the exponent, an integer, is always simple)."""
    needs = base.precedence <= POWER
    text = _wrap(base, needs)
    joint = symbol if base.simple and not needs else f" {symbol} "
    return Expr(f"{text}{joint}{exponent}", POWER, bare_power=not _is_call(text))


def composed(text: str, precedence: int) -> Expr:
    """An operand composed from its text and precedence (a power's base read off its text)."""
    if precedence != POWER:
        return Expr(text, precedence)
    depth, cut = 0, len(text)
    for k, char in enumerate(text):  # the first ``**`` outside brackets ends the base
        depth += (char == "(") - (char == ")")
        if depth == 0 and text.startswith("**", k):
            cut = k
            break
    return Expr(text, POWER, bare_power=not _is_call(text[:cut].rstrip()))


def _is_call(text: str) -> bool:
    """Is a power's base a call (``sin(x)``), not a bracketed or bare operand?"""
    return text.endswith(")") and not text.startswith("(")


def _wrap(expr: Expr, needs: bool) -> str:
    return f"({expr.text})" if needs else expr.text


class Inliner:
    """Chooses the nodes written inline (module docstring), for a whole module at once,
    from a naming of every node (the names' lengths decide what fits on a line)."""

    def __init__(self, spelling, uses: dict[int, int], kept: set[int]):
        self.spelling = spelling  # the printer's _Spelling, over a naming of every node
        self.uses = uses  # each node's uses (a returned node counts twice more)
        self.kept = kept  # nodes that keep a line of their own (user names, adjoints onto)

    def inlinable_into(self, node: Node) -> bool:
        """May ``node`` take an operand's expression?  Not a ``where`` printed as a
        choice, nor ``and``/``or`` (they would skip computing it)."""
        form = self.spelling.form_of(node)
        return form is not None and form not in SHORT_CIRCUIT

    def candidate(self, arg: Node, user: Node) -> bool:
        return (arg.kind == APPLY and self.uses.get(arg.id, 0) == 1 and arg.id not in self.kept
                and self.spelling.form_of(arg) is not None
                and not self.spelling.accumulates_onto(user, arg))

    def may_be_inlined(self, node: Node, returned: set[int]) -> bool:
        """Might the node's expression be written into its user's line (or the return)?"""
        return ((self.uses.get(node.id, 0) == 1 or node.id in returned)
                and node.id not in self.kept and node.id not in self.spelling.accumulate)

    def choose(self, nodes: list[Node], returned_once: list[Node]) -> dict[int, int]:
        """Each inlined node's user (``RETURN`` for a value written into the return
        statement), visiting ``nodes`` in topological order.  ``returned_once`` are
        the values a function returns once and nothing else uses."""
        exprs: dict[int, Expr] = {}  # a node's expression, with its operands inlined
        parent: dict[int, int] = {}
        returned = {n.id for n in returned_once}
        for node in nodes:
            if node.kind != APPLY or not self.inlinable_into(node):
                continue
            chosen = {a.id for a in node.args if a.id in exprs and self.candidate(a, node)}
            if not chosen and not self.may_be_inlined(node, returned):
                continue  # its line is its own as it is
            while True:
                args = [exprs[a.id] if a.id in chosen else self.spelling.plain(a)
                        for a in node.args]
                lhs, form, level = self.spelling.assignment(node, args)
                if fits(f"{INDENT}{lhs}", form) or not chosen:
                    break
                chosen.remove(max(sorted(chosen), key=lambda k: len(exprs[k].text)))
            parent.update((k, node.id) for k in chosen)
            if self.may_be_inlined(node, returned):
                exprs[node.id] = Expr(flat_text(form), level)
        for node in returned_once:
            expr = exprs.get(node.id)
            if expr is not None and node.id not in self.kept and len(expr.text) <= RETURN_ITEM:
                parent[node.id] = RETURN
        return parent


def fits(lhs: str, form: tuple) -> bool:
    return len(lhs) + 1 + len(flat_text(form)) <= LINE
