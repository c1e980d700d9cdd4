"""Graph -> SymPy, for the differential check, without recursion.

``to_sympy`` turns a graph into SymPy, using each op's ``sympy`` column; the
check (``compare.py``) differentiates that with ``sympy.diff``.  Constants
become exact rationals, so SymPy sees exactly the doubles the generated code
uses.  ``leaves_double_range`` evaluates the graph in SymPy's unbounded floats
to tell when a point is beyond what doubles can compute.  The way in, SymPy ->
Program, is ``frontend/sympy_in.py``.
"""

from __future__ import annotations

import math
import sys

import sympy as sp
from sympy.logic.boolalg import BooleanAtom

from adcompile.ir.graph import reachable
from adcompile.ir.node import APPLY, CONST, VAR, Node


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def to_sympy(outputs: list[Node], evaluate: bool = False) -> list[sp.Expr]:
    """SymPy expressions for ``outputs``.

    By default they are built without SymPy's automatic simplification, so
    that ``x - x`` stays as written and a derivative that is undefined for the
    graph (hypot at the origin) is undefined for SymPy too.  ``evaluate=True``
    gives the expression a SymPy user would have written.  Either way a chain
    of sums (products) is one n-ary ``Add`` (``Mul``).
    """
    with sp.evaluate(evaluate):
        return _to_sympy(outputs)


def _to_sympy(outputs: list[Node]) -> list[sp.Expr]:
    nodes = reachable(outputs)
    absorbed = _absorbed_steps(nodes, outputs)
    converted: dict[int, sp.Expr] = {}
    for node in nodes:
        if node.id in absorbed:
            continue  # a term or factor of the one sum or product that uses it
        if node.kind == CONST:
            value = node.value
            converted[node.id] = sp.Rational(value) if math.isfinite(value) else (
                sp.nan if math.isnan(value) else sp.oo if value > 0 else -sp.oo)
        elif node.kind == VAR:
            converted[node.id] = symbol(node.value)
        elif node.op.name in _CHAINS:
            converted[node.id] = _flat(node, absorbed, converted)
        else:
            converted[node.id] = _apply(node.op, [converted[a.id] for a in node.args])
    return [converted[o.id] for o in outputs]


# Chains of these become one n-ary Add or Mul: SymPy recurses through a nested one (a sum of
# 100 terms built pairwise was too deep for it).  The positions of each op's arguments that
# may be absorbed: both terms of a sum, the left of a difference, both factors of a product.
_CHAINS = {"add": ("sum", (0, 1)), "sub": ("sum", (0,)), "mul": ("product", (0, 1))}


def _absorbed_steps(nodes: list[Node], outputs: list[Node]) -> set[int]:
    """The sum and product steps that are folded into the sum or product using them.

    Only a step used exactly once is absorbed, so a shared subexpression stays one
    SymPy object and the expression stays as small as the graph.
    """
    uses: dict[int, int] = {o.id: 1 for o in outputs}
    absorbable: dict[int, bool] = {}
    for node in nodes:
        chain = _CHAINS.get(node.op.name) if node.kind == APPLY else None
        for position, arg in enumerate(node.args):
            uses[arg.id] = uses.get(arg.id, 0) + 1
            inner = _CHAINS.get(arg.op.name) if arg.kind == APPLY else None
            absorbable[arg.id] = bool(chain and inner and inner[0] == chain[0] and position in chain[1])
    return {i for i, ok in absorbable.items() if ok and uses[i] == 1}


def _flat(node: Node, absorbed: set[int], converted: dict[int, sp.Expr]) -> sp.Expr:
    """The n-ary Add (or Mul) of a chain of add and sub (or mul) steps, walked with a
    stack: its terms (factors) from left to right, each a converted step."""
    parts: list[sp.Expr] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        step, negated = stack.pop()
        if step is not node and step.id not in absorbed:
            parts.append(-converted[step.id] if negated else converted[step.id])
        elif step.op.name == "sub":
            stack += [(step.args[1], not negated), (step.args[0], negated)]
        else:
            stack += [(step.args[1], negated), (step.args[0], negated)]
    function = sp.Mul if node.op.name == "mul" else sp.Add
    if all(isinstance(p, sp.Number) for p in parts):
        with sp.evaluate(True):
            return function(*parts)
    return function(*parts)


def leaves_double_range(outputs: list[Node], point: dict[str, float], digits: int = 40) -> bool:
    """Whether some step of the graph, as written, leaves a double's normal
    range at ``point``: beyond the largest double, or not 0 but below the
    smallest normal one (computed with SymPy's floats, whose exponent has no
    limit).

    Then double-precision code cannot compute it, however right it is: it
    overflows (``math.pow`` raises OverflowError) or underflows towards 0 (and
    ``erfc(34)/erfc(34)`` divides 0 by 0).  Steps are evaluated in order and
    the walk stops at the first such step.
    """
    values: dict[int, sp.Expr] = {}
    with sp.evaluate(True):
        for node in reachable(outputs):
            if node.kind == CONST:
                values[node.id] = sp.Float(node.value, digits)
            elif node.kind == VAR:
                values[node.id] = sp.Float(point.get(node.value, math.nan), digits)
            else:
                values[node.id] = value = _numeric(node.op, [values[a.id] for a in node.args], digits)
                if value.is_finite and value.is_extended_real and _beyond_normal(abs(value)):
                    return True
    return False


def _beyond_normal(magnitude: sp.Expr) -> bool:
    return magnitude > sys.float_info.max or 0 < magnitude < sys.float_info.min


def _numeric(op, args: list[sp.Expr], digits: int) -> sp.Expr:
    try:
        value = op.sympy(*args)
        return value if isinstance(value, BooleanAtom) else sp.N(value, digits)  # a comparison
    except (ArithmeticError, ValueError, TypeError):
        return sp.nan


def _apply(op, args: list[sp.Expr]) -> sp.Expr:
    """``op`` applied in SymPy.  Constant subtrees are evaluated: SymPy's code
    printers misprint some unevaluated numeric forms (``y/(-(3/10))``)."""
    if all(isinstance(a, (sp.Number, BooleanAtom)) for a in args):
        with sp.evaluate(True):
            return op.sympy(*args)
    if op.boolean and any(isinstance(a, sp.Piecewise) for a in args):
        return _compare_pieces(op, args)
    return op.sympy(*args)


def _compare_pieces(op, args: list[sp.Expr]) -> sp.Boolean:
    """A comparison of a Piecewise, as an Or over its pieces: ``Piecewise((a, c), (b, True))
    > k`` is ``(c & (a > k)) | (~c & (b > k))``.  SymPy itself solves a relational of a
    Piecewise as a set, which can take minutes or crash (found by the fuzzer)."""
    terms, work = [], [([], list(args))]
    while work:
        conditions, operands = work.pop()
        at = next((k for k, a in enumerate(operands) if isinstance(a, sp.Piecewise)), None)
        if at is None:
            terms.append(sp.And(*conditions, _apply(op, operands)))
            continue
        earlier: list = []
        for expr, cond in operands[at].args:
            replaced = operands[:at] + [expr] + operands[at + 1:]
            work.append((conditions + [sp.Not(c) for c in earlier] + [cond], replaced))
            earlier.append(cond)
    return sp.Or(*terms)
