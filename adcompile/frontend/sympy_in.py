"""SymPy -> Program: lets ``adcompile.compile`` take a SymPy expression.

``from_sympy`` walks SymPy's tree with an explicit stack (no recursion, however
deep the expression) and memoises on the subexpression, so a subtree SymPy
shares is one node in the graph.  Each SymPy class maps to the op whose
``sympy`` column it is; n-ary ``Add``/``Mul``/``Max``/``Min`` fold pairwise,
and a factor ``x**-1`` becomes a division, as one writes it.  The way back,
graph -> SymPy for the differential check, is ``verify/sympy_out.py``.

``Piecewise((e1, c1), ..., (en, True))`` becomes nested ``where(c1, e1, ...)``;
its conditions are comparisons (``Lt``, ``Le``, ``Gt``, ``Ge``, ``Eq``, ``Ne``)
combined with ``And``, ``Or``, ``Not``, ``Xor``, ``Implies`` and ``ITE``.
``true`` and ``false`` are folded away as they are read (a condition is then a
Python bool), so ``where`` never gets a constant condition.  A Piecewise with
no ``True`` branch is undefined where none of its conditions holds, and is
refused, as is any other condition (``Contains``, ...).  ``Heaviside(x, h0)``
is ``where(x > 0, 1, where(x < 0, 0, h0))``.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from adcompile.errors import CompileError
from adcompile.frontend.language import fold
from adcompile.frontend.program import Program, normalize_name
from adcompile.ir.graph import Graph
from adcompile.ir.node import CONST, Node
from adcompile.ir.ops import OPS, SympyFunction

_RELATIONS = {sp.StrictLessThan: "lt", sp.LessThan: "le", sp.StrictGreaterThan: "gt",
              sp.GreaterThan: "ge", sp.Equality: "eq", sp.Unequality: "ne"}
_CONDITIONS = ("<, <=, >, >=, ==, != (Lt, Le, Gt, Ge, Eq, Ne) of real expressions, combined "
               "with And, Or, Not, Xor, Implies and ITE")


# SymPy function classes that are exactly one op.
_FUNCTION_OPS = {op.sympy.resolve(): op.name for op in OPS.values()
                 if isinstance(op.sympy, SympyFunction) and isinstance(op.sympy.resolve(), type)}
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
            _refuse_unknown_condition(e)  # before its arguments, which may be no numbers
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in done)
            continue
        done[e] = _convert(e, done, graph, variables)
    names = [normalize_name(e.name) if isinstance(e, sp.Symbol) else None for e in exprs]
    for e in exprs:
        _need_number(done[e], e, "an output")
    return Program([done[e] for e in exprs], names, {}, variables)


def _is_condition(value) -> bool:
    """A condition: a Python bool (SymPy's true or false), or a node of a comparison, and, or, not."""
    return isinstance(value, bool) or (isinstance(value, Node) and value.op is not None
                                       and value.op.boolean)


def _need_number(value, e, where: str) -> None:
    if _is_condition(value) or isinstance(value, tuple):
        raise CompileError(f"the SymPy condition {e} is used as {where}, where a number is "
                           "expected; write Piecewise((1, condition), (0, True)) for a number")


def _convert(e, done: dict, g: Graph, variables: dict):
    """The node of ``e`` (or a bool for a constant condition, or an (expr, cond) pair)."""
    args = [done[a] for a in e.args] if e.args and not e.is_Atom else []
    if isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Symbol):
        return _condition(g, e, args)
    if isinstance(e, ExprCondPair):
        return tuple(args)
    if isinstance(e, sp.Piecewise):
        return _piecewise(g, e, args)
    for arg, sub in zip(args, e.args):
        _need_number(arg, sub, f"an argument of {type(e).__name__}")
    if isinstance(e, sp.Heaviside):
        return _heaviside(g, args)
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


def _condition(g: Graph, e, args: list):
    """A condition's node, or a bool where it is constant."""
    if e is sp.true or e is sp.false:
        return bool(e)
    opname = _RELATIONS.get(type(e))
    if opname is not None:
        for arg, sub in zip(args, e.args):
            _need_number(arg, sub, f"a side of the comparison {e}")
        node = g(opname, *args)
        return bool(node.value) if node.kind == CONST else node  # a comparison of constants
    if isinstance(e, (sp.And, sp.Or)) and args:
        return _fold_logic(g, "logical_and" if isinstance(e, sp.And) else "logical_or", args)
    if isinstance(e, sp.Not) and len(args) == 1:
        return _not(g, args[0])
    if isinstance(e, sp.Xor) and args:
        result = args[0]
        for b in args[1:]:
            result = _or(g, _and(g, result, _not(g, b)), _and(g, _not(g, result), b))
        return result
    if isinstance(e, sp.Implies) and len(args) == 2:
        return _or(g, _not(g, args[0]), args[1])
    if isinstance(e, sp.ITE) and len(args) == 3:
        c, a, b = args
        return _or(g, _and(g, c, a), _and(g, _not(g, c), b))
    _refuse_unknown_condition(e)
    raise CompileError(f"adcompile cannot compile the SymPy condition {e}: {type(e).__name__} "
                       f"needs its arguments; a condition is made of {_CONDITIONS}")


_LOGIC = (sp.And, sp.Or, sp.Not, sp.Xor, sp.Implies, sp.ITE)


def _refuse_unknown_condition(e) -> None:
    if (isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Symbol)
            and type(e) not in _RELATIONS and not isinstance(e, _LOGIC)):
        raise CompileError(f"adcompile cannot compile the SymPy condition {type(e).__name__}: "
                           f"{e}; a condition is made of {_CONDITIONS}")


def _not(g: Graph, a):
    return (not a) if isinstance(a, bool) else g("logical_not", a)


def _and(g: Graph, a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        constant, other = (a, b) if isinstance(a, bool) else (b, a)
        return other if constant else False
    return g("logical_and", a, b)


def _or(g: Graph, a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        constant, other = (a, b) if isinstance(a, bool) else (b, a)
        return True if constant else other
    return g("logical_or", a, b)


def _fold_logic(g: Graph, opname: str, args: list):
    combine = _and if opname == "logical_and" else _or
    result = args[0]
    for arg in args[1:]:
        result = combine(g, result, arg)
    return result


def _piecewise(g: Graph, e, pairs: list[tuple]) -> Node:
    """Piecewise((e1, c1), ..., (en, True)) -> where(c1, e1, where(c2, e2, ... en))."""
    taken = []
    for (value, condition), pair in zip(pairs, e.args):
        _need_number(value, pair.expr, "a value of Piecewise")
        if condition is True:
            break
        if condition is not False:
            taken.append((value, condition))
    else:
        raise CompileError(
            f"the SymPy expression {e} is undefined where none of its conditions holds (it has "
            "no last branch (value, True)); add one, such as (0, True) or (nan, True)")
    result = value
    for value, condition in reversed(taken):
        result = g("where", condition, value, result)
    return result


def _heaviside(g: Graph, args: list[Node]) -> Node:
    """Heaviside(x, h0): 1 where x > 0, 0 where x < 0, h0 at 0 (SymPy's default h0 is 1/2)."""
    x = args[0]
    at_zero = args[1] if len(args) > 1 else g.const(0.5)
    return g("where", g("gt", x, 0.0), 1.0, g("where", g("lt", x, 0.0), 0.0, at_zero))


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
