"""An expression as named steps, none deeply nested, for ``sympy.lambdify``.

Printing recurses through an expression, and Python's parser refuses more
than 200 nested parentheses; and the derivative of a chain n steps deep
repeats the chain's steps n times.  ``shallow_steps`` is given to lambdify as
its ``cse`` argument: every repeated subexpression becomes a named step,
computed once, and so does every step ``MOST_LEVELS`` levels above the last
named one.  The expression is walked with a stack, not recursion.
"""

from __future__ import annotations

import sympy as sp


# Printing recurses through an expression, and Python's parser refuses more than 200
# nested parentheses: every step this many levels above the last named one is named.
MOST_LEVELS = 12


def shallow_steps(expr: sp.Expr) -> tuple[list[tuple[sp.Symbol, sp.Expr]], sp.Expr]:
    """``expr`` as named steps, for lambdify's ``cse`` argument: each subexpression that
    occurs more than once is computed once, and no step is more than ``MOST_LEVELS``
    deep.  The derivative of a chain n deep repeats the chain's steps n times: named, it
    is evaluated in time proportional to n, not n**2.

    Unlike ``sympy.cse`` nothing is rewritten or re-evaluated (``x - x`` stays as written),
    and nothing is taken out of a Piecewise, whose branches are evaluated only where
    their condition holds.
    """
    order, uses = _subexpressions(expr)
    steps: list[tuple[sp.Symbol, sp.Expr]] = []
    written: dict[sp.Basic, sp.Basic] = {}
    levels: dict[sp.Basic, int] = {}
    with sp.evaluate(False):
        for e in order:
            args = [written.get(a, a) for a in e.args] if _opens(e) else []
            written[e] = e.func(*args) if args and args != list(e.args) else e
            levels[e] = 1 + max((levels.get(a, 0) for a in e.args), default=0) if args else 1
            if isinstance(e, sp.Expr) and args and e is not expr and (
                    uses[e] > 1 or levels[e] >= MOST_LEVELS):
                name = sp.Symbol(f"_s{len(steps)}", real=True)
                steps.append((name, written[e]))
                written[e], levels[e] = name, 0
    return steps, written[expr]


def _opens(e: sp.Basic) -> bool:
    """Whether ``shallow_steps`` looks inside ``e``."""
    return bool(e.args) and not e.is_Atom and not isinstance(e, sp.Piecewise)


def _subexpressions(expr: sp.Expr) -> tuple[list[sp.Basic], dict[sp.Basic, int]]:
    """The distinct subexpressions of ``expr``, arguments before the expressions using
    them, and how many times each is used; walked with a stack, not recursion."""
    uses: dict[sp.Basic, int] = {expr: 1}
    order: list[sp.Basic] = []
    opened: set[sp.Basic] = set()
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if ready:
            order.append(e)
        elif e not in opened:
            opened.add(e)
            stack.append((e, True))
            for a in e.args if _opens(e) else ():
                uses[a] = uses.get(a, 0) + 1
                if a not in opened:
                    stack.append((a, False))
    return order, uses
