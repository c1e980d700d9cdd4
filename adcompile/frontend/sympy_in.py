"""SymPy -> Program: lets ``adcompile.compile`` take a SymPy expression.

``from_sympy`` walks SymPy's tree with an explicit stack (no recursion, however
deep the expression) and memoises on the subexpression, so a subtree SymPy
shares is one node in the graph.  Each SymPy class maps to the op whose
``sympy`` column it is; n-ary ``Add``/``Mul``/``Max``/``Min`` fold pairwise,
and a factor ``x**-1`` becomes a division, as one writes it.  The way back,
graph -> SymPy for the differential check, is ``verify/sympy_out.py``.
"""

from __future__ import annotations

import math

import sympy as sp

from adcompile.errors import CompileError
from adcompile.frontend.language import fold
from adcompile.frontend.program import Program, normalize_name
from adcompile.ir.graph import Graph
from adcompile.ir.node import Node
from adcompile.ir.ops import OPS


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
        return fold(g, "add", args)
    if isinstance(e, sp.Mul):
        return _product(g, e, done)
    if isinstance(e, sp.Pow):
        return _power(g, e, args)
    if isinstance(e, (sp.Max, sp.Min)):
        return fold(g, "max" if isinstance(e, sp.Max) else "min", args)
    if isinstance(e, sp.log) and len(args) == 1:
        return g("log", args[0])
    opname = _FUNCTION_OPS.get(type(e))
    if opname is not None and len(args) == OPS[opname].arity:
        return g(opname, *args)
    raise CompileError(f"adcompile cannot compile the SymPy expression {type(e).__name__}: {e}")


def _product(g: Graph, e, done: dict) -> Node:
    """A Mul, with factors x**-1 turned into a division as one writes it."""
    numerator, denominator = [], []
    for factor in e.args:
        if isinstance(factor, sp.Pow) and factor.exp == -1:
            denominator.append(done[factor.base])
        else:
            numerator.append(done[factor])
    top = fold(g, "mul", numerator) if numerator else g.const(1.0)
    return g("div", top, fold(g, "mul", denominator)) if denominator else top


def _power(g: Graph, e, args: list[Node]) -> Node:
    base, exponent = args
    if e.exp == sp.Rational(1, 2):
        return g("sqrt", base)
    if e.exp == sp.Rational(-1, 2):
        return g("div", 1.0, g("sqrt", base))
    if e.exp == -1:
        return g("div", 1.0, base)
    return g("pow", base, exponent)
