"""Algebraic identities, applied as each node is built (one table, one row a rule).

``Graph.__call__`` asks ``simplify`` before creating a node; the first rule of
that op which returns a node wins.  Every rule keeps IEEE semantics for every
input, including nan, inf and signed zeros, except where its comment says:

* ``x*0 -> 0`` is deliberately absent: for x = nan or inf IEEE gives nan, and
  the generated code should behave as the expression does.  (Derivatives never
  need it: a derivative that is structurally zero is never built at all.)
* ``x - x -> 0`` and ``x/x -> 1`` are absent for the same reason.
* ``x + 0 -> x`` differs from IEEE only for x = -0.0 (IEEE gives +0.0).
* ``x**0.5 -> sqrt(x)`` is absent: pow(-inf, 0.5) is inf but sqrt raises.
* Constants are never re-associated (``2*(3*x)`` stays), because that changes
  rounding.

A rule is a function ``(g, a[, b]) -> Node | None``.  Constant folding is not
here: it calls each op's own value rule (see ``graph.fold_constant``).
"""

from __future__ import annotations

from adcompile.ir.node import APPLY, CONST, Node


def _is(node: Node, value: float) -> bool:
    return node.kind == CONST and node.value == value


def _is_neg(node: Node) -> bool:
    return node.kind == APPLY and node.op.name == "neg"


def _is_const(node: Node) -> bool:
    return node.kind == CONST


def _add_choices(g, a: Node, b: Node) -> Node | None:
    if a.opname == "where" and b.opname == "where" and a.args[0] is b.args[0]:
        c = a.args[0]
        return g("where", c, g("add", a.args[1], b.args[1]), g("add", a.args[2], b.args[2]))
    return None


# Each row: (op, rule, "what it does").  Commutative ops see their constant
# argument first (see graph._commutative_order), so ``x*1`` arrives as ``1*x``.
RULES = [
    ("add", lambda g, a, b: b if _is(a, 0.0) else None, "0 + x -> x"),
    ("add", lambda g, a, b: g("sub", a, b.args[0]) if _is_neg(b) else None, "x + (-y) -> x - y"),
    ("add", lambda g, a, b: g("sub", b, a.args[0]) if _is_neg(a) else None, "(-x) + y -> y - x"),
    ("sub", lambda g, a, b: a if _is(b, 0.0) else None, "x - 0 -> x"),
    ("sub", lambda g, a, b: g("neg", b) if _is(a, 0.0) else None, "0 - x -> -x"),
    ("sub", lambda g, a, b: g("add", a, b.args[0]) if _is_neg(b) else None, "x - (-y) -> x + y"),
    ("mul", lambda g, a, b: b if _is(a, 1.0) else None, "1 * x -> x"),
    ("mul", lambda g, a, b: g("neg", b) if _is(a, -1.0) else None, "-1 * x -> -x"),
    ("mul", lambda g, a, b: g("mul", -a.value, b.args[0]) if _is_const(a) and _is_neg(b) else None,
     "c * (-x) -> (-c) * x"),
    ("mul", lambda g, a, b: g("mul", a.args[0], b.args[0]) if _is_neg(a) and _is_neg(b) else None,
     "(-x) * (-y) -> x * y"),
    ("div", lambda g, a, b: a if _is(b, 1.0) else None, "x / 1 -> x"),
    ("div", lambda g, a, b: g("neg", a) if _is(b, -1.0) else None, "x / -1 -> -x"),
    ("div", lambda g, a, b: g("div", a.args[0], b.args[0]) if _is_neg(a) and _is_neg(b) else None,
     "(-x) / (-y) -> x / y"),
    ("div", lambda g, a, b: g("div", -a.value, b.args[0]) if _is_const(a) and _is_neg(b) else None,
     "c / (-x) -> (-c) / x"),
    ("div", lambda g, a, b: g("div", a.args[0], -b.value) if _is_neg(a) and _is_const(b) else None,
     "(-x) / c -> x / (-c)"),
    ("neg", lambda g, a: a.args[0] if _is_neg(a) else None, "-(-x) -> x"),
    ("neg", lambda g, a: g("sub", a.args[1], a.args[0]) if a.opname == "sub" else None,
     "-(x - y) -> y - x"),
    ("neg", lambda g, a: g("mul", -a.args[0].value, a.args[1])
     if a.opname == "mul" and _is_const(a.args[0]) else None, "-(c * x) -> (-c) * x"),
    ("neg", lambda g, a: g("div", -a.args[0].value, a.args[1])
     if a.opname == "div" and _is_const(a.args[0]) else None, "-(c / x) -> (-c) / x"),
    ("add", lambda g, a, b: _add_choices(g, a, b), "where(c, p, q) + where(c, r, s) -> "
     "where(c, p + r, q + s): one choice, each branch computing only its own sum"),
    ("where", lambda g, c, a, b: a if a is b else None, "where(c, a, a) -> a"),
    ("where", lambda g, c, a, b: g("where", c, a.args[1], b)
     if a.opname == "where" and a.args[0] is c else None,
     "where(c, where(c, p, q), b) -> where(c, p, b)"),
    ("where", lambda g, c, a, b: g("where", c, a, b.args[2])
     if b.opname == "where" and b.args[0] is c else None,
     "where(c, a, where(c, p, q)) -> where(c, a, q)"),
    ("where", lambda g, c, a, b: (a if c.value else b) if _is_const(c) else None,
     "where(True, a, b) -> a; where(False, a, b) -> b"),
    ("pow", lambda g, a, b: a if _is(b, 1.0) else None, "x ** 1 -> x"),
    ("pow", lambda g, a, b: g.const(1.0) if _is(b, 0.0) else None, "x ** 0 -> 1 (also for nan, as IEEE pow)"),
    ("pow", lambda g, a, b: g("mul", a, a) if _is(b, 2.0) else None, "x ** 2 -> x * x"),
    ("pow", lambda g, a, b: g("div", 1.0, a) if _is(b, -1.0) else None, "x ** -1 -> 1 / x"),
]

_BY_OP: dict[str, list] = {}
for _op, _rule, _doc in RULES:
    _BY_OP.setdefault(_op, []).append(_rule)


def simplify(g, op, args: tuple) -> Node | None:
    """The first identity that applies to ``op(*args)``, already built, or None."""
    for rule in _BY_OP.get(op.name, ()):
        result = rule(g, *args)
        if result is not None:
            return result
    return None
