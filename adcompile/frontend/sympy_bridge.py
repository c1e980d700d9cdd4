"""Between adcompile graphs and SymPy expressions, both ways, without recursion.

* ``to_sympy`` turns a graph into SymPy, using each op's ``sympy`` column; the
  differential check differentiates that with ``sympy.diff``.  Constants
  become exact rationals, so SymPy sees exactly the doubles the generated
  code uses.
* ``from_sympy`` lets ``adcompile.compile`` take a SymPy expression.  It walks
  SymPy's tree with an explicit stack and memoises on the subexpression, so
  a subtree SymPy shares is one node in the graph.
"""

from __future__ import annotations

import math
import sys

import sympy as sp

from adcompile.errors import CompileError
from adcompile.ir.graph import CONST, VAR, Graph, Node, reachable
from adcompile.ir.ops import OPS
from adcompile.frontend.text import Program, normalize_name


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
        chain = _CHAINS.get(node.op.name) if node.op is not None else None
        for position, arg in enumerate(node.args):
            uses[arg.id] = uses.get(arg.id, 0) + 1
            inner = _CHAINS.get(arg.op.name) if arg.op is not None else None
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
        return sp.N(op.sympy(*args), digits)
    except (ArithmeticError, ValueError, TypeError):
        return sp.nan


def _apply(op, args: list[sp.Expr]) -> sp.Expr:
    """``op`` applied in SymPy.  Constant subtrees are evaluated: SymPy's code
    printers misprint some unevaluated numeric forms (``y/(-(3/10))``)."""
    if all(isinstance(a, sp.Number) for a in args):
        with sp.evaluate(True):
            return op.sympy(*args)
    return op.sympy(*args)


# SymPy function classes that are exactly one op.
_FUNCTION_OPS = {op.sympy: op.name for op in OPS.values() if isinstance(op.sympy, type)}
_FUNCTION_OPS.pop(sp.Pow, None)


def from_sympy(expr, graph: Graph) -> Program:
    """A SymPy expression (or a tuple of them) as a Program in ``graph``."""
    exprs = list(expr) if isinstance(expr, (tuple, list)) else [expr]
    exprs = [sp.Integer(e) if isinstance(e, int) else sp.Float(e) if isinstance(e, float) else e
             for e in exprs]
    for e in exprs:
        if not isinstance(e, sp.Basic):
            raise CompileError(f"cannot compile a {type(e).__name__}; give a string or a SymPy expression")
    done: dict = {}
    variables: dict[str, Node] = {}
    stack = [(e, False) for e in reversed(exprs)]
    while stack:
        e, ready = stack.pop()
        if e in done:
            continue
        if not ready and e.args and not e.is_Atom:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in done)
            continue
        done[e] = _convert(e, done, graph, variables)
    names = [normalize_name(e.name) if isinstance(e, sp.Symbol) else None for e in exprs]
    return Program([done[e] for e in exprs], names, {}, variables)


def _convert(e, done: dict, g: Graph, variables: dict) -> Node:
    args = [done[a] for a in e.args] if e.args and not e.is_Atom else []
    if isinstance(e, sp.Symbol):
        name = normalize_name(e.name)
        if not name.isidentifier():
            raise CompileError(f"the SymPy symbol {e.name!r} is not a valid Python name")
        variables.setdefault(name, g.var(name))
        return variables[name]
    if e is sp.pi:
        return g.const(math.pi)
    if e is sp.E:
        return g.const(math.e)
    if e.is_Number:
        if not e.is_finite or not e.is_real:
            raise CompileError(f"the constant {e} is not a finite real number")
        return g.const(float(e))
    if isinstance(e, sp.Add):
        return _fold(g, "add", args)
    if isinstance(e, sp.Mul):
        return _product(g, e, done)
    if isinstance(e, sp.Pow):
        return _power(g, e, args)
    if isinstance(e, (sp.Max, sp.Min)):
        return _fold(g, "max" if isinstance(e, sp.Max) else "min", args)
    if isinstance(e, sp.log) and len(args) == 1:
        return g("log", args[0])
    opname = _FUNCTION_OPS.get(type(e))
    if opname is not None and len(args) == OPS[opname].arity:
        return g(opname, *args)
    raise CompileError(f"adcompile cannot compile the SymPy expression {type(e).__name__}: {e}")


def _fold(g: Graph, opname: str, args: list[Node]) -> Node:
    result = args[0]
    for a in args[1:]:
        result = g(opname, result, a)
    return result


def _product(g: Graph, e, done: dict) -> Node:
    """A Mul, with factors x**-1 turned into a division as one writes it."""
    numerator, denominator = [], []
    for factor in e.args:
        if isinstance(factor, sp.Pow) and factor.exp == -1:
            denominator.append(done[factor.base])
        else:
            numerator.append(done[factor])
    top = _fold(g, "mul", numerator) if numerator else g.const(1.0)
    return g("div", top, _fold(g, "mul", denominator)) if denominator else top


def _power(g: Graph, e, args: list[Node]) -> Node:
    base, exponent = args
    if e.exp == sp.Rational(1, 2):
        return g("sqrt", base)
    if e.exp == sp.Rational(-1, 2):
        return g("div", 1.0, g("sqrt", base))
    if e.exp == -1:
        return g("div", 1.0, base)
    return g("pow", base, exponent)
