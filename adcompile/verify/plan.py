"""What ``check`` compares: every number each generated function returns.

A ``Plan`` lists quantities, each with a label, its SymPy expression (built
with ``sympy.diff``, so the Hessian is ``sympy.hessian``'s entries and the
Jacobian ``Matrix.jacobian``'s), and how to read it from the module's
output at a point.  Directional functions (``jvp``, ``hvp``, ``vjp``) are
called with fixed random vectors, seeded, and compared with the same
contraction of SymPy's derivatives.  When a module has both a forward and a
reverse product, the identity <c, J.t> = <J^T.c, t> is checked as well; its
reference is 0.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from adcompile.verify.reference import for_real_arguments


@dataclass
class Plan:
    labels: list[str] = field(default_factory=list)
    exprs: list[sp.Expr] = field(default_factory=list)
    readers: list[Callable] = field(default_factory=list)  # (results) -> float

    def add(self, label: str, expr: sp.Expr, reader: Callable) -> None:
        self.labels.append(label)
        self.exprs.append(expr)
        self.readers.append(reader)


def _vector(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(-1.0, 1.0), 3) for _ in range(n)]


def plan(exprs: list[sp.Expr], wrt: list[sp.Symbol], wrt_names: list[str], flags: dict,
         seed: int) -> tuple[Plan, dict[str, list[float]]]:
    """The quantities to compare, and the vectors the module is called with."""
    exprs = [for_real_arguments(e) for e in exprs]
    rng = random.Random(seed + 1)
    vectors = {"v": _vector(rng, len(wrt)), "c": _vector(rng, len(exprs))}
    jac = [gradient(e, wrt) for e in exprs]
    p = Plan()
    if len(exprs) == 1:
        _single(p, exprs[0], jac[0], wrt, wrt_names, flags, vectors["v"])
    else:
        _several(p, exprs, jac, wrt_names, flags, vectors)
    return p, vectors


def gradient(expr: sp.Expr, wrt: list[sp.Symbol]) -> list[sp.Expr]:
    """``sympy.diff(expr, w)`` for each ``w`` in ``wrt``.

    A sum is differentiated as ``sympy.diff`` does it, term by term, but by each
    variable only the terms that have it: ``diff`` itself visits every term for every
    variable, which is quadratic in the size of a sum of many terms in many variables.
    """
    if not isinstance(expr, sp.Add):
        return [sp.diff(expr, w) for w in wrt]
    terms_with: dict[sp.Symbol, list[sp.Expr]] = {w: [] for w in wrt}
    for term in expr.args:
        for s in term.free_symbols & terms_with.keys():
            terms_with[s].append(term)
    return [sp.Add(*[sp.diff(term, w) for term in terms_with[w]]) for w in wrt]


def _single(p: Plan, e, grad, wrt, names, flags, v) -> None:
    p.add("value", e, lambda r: r["grad"][0])
    for i, (g, name) in enumerate(zip(grad, names)):
        p.add(f"d/d{name}", g, lambda r, i=i: r["grad"][1][i])
    hess = None
    if flags.get("hessian") or flags.get("hvp"):
        hess = [[sp.diff(g, w) for w in wrt] for g in grad]
    if flags.get("hessian"):
        for i in range(len(wrt)):
            for j in range(i, len(wrt)):
                p.add(f"d2/d{names[i]}d{names[j]}", hess[i][j],
                      lambda r, i=i, j=j: r["hessian"][2][i][j])
    if flags.get("hvp"):
        for i, name in enumerate(names):
            p.add(f"(H.v)[{name}]", sp.Add(*[h * vj for h, vj in zip(hess[i], v)]),
                  lambda r, i=i: r["hvp"][2][i])
    if flags.get("jvp"):
        p.add("jvp", sp.Add(*[g * vi for g, vi in zip(grad, v)]), lambda r: r["jvp"][1])
        p.add("<1,J.v> - <grad,v>", sp.S.Zero,
              lambda r: r["jvp"][1] - sum(g * vi for g, vi in zip(r["grad"][1], v)))


def _several(p: Plan, exprs, jac, names, flags, vectors) -> None:
    v, c = vectors["v"], vectors["c"]
    for k, e in enumerate(exprs):
        p.add(f"value[{k}]", e, lambda r, k=k: r["jacobian"][0][k])
        for i, name in enumerate(names):
            p.add(f"J[{k}][{name}]", jac[k][i], lambda r, k=k, i=i: r["jacobian"][1][k][i])
    for i, name in enumerate(names):
        p.add(f"vjp[{name}]", sp.Add(*[c[k] * jac[k][i] for k in range(len(exprs))]),
              lambda r, i=i: r["vjp"][1][i])
    if flags.get("jvp"):
        for k in range(len(exprs)):
            p.add(f"jvp[{k}]", sp.Add(*[jac[k][i] * v[i] for i in range(len(names))]),
                  lambda r, k=k: r["jvp"][1][k])

        def identity(r):
            forward = sum(ck * jk for ck, jk in zip(c, r["jvp"][1]))
            return forward - sum(g * vi for g, vi in zip(r["vjp"][1], v))

        p.add("<c,J.v> - <J^T.c,v>", sp.S.Zero, identity)


def call_all(module, name: str, point: list[float], vectors: dict, several: bool,
             flags: dict) -> dict:
    """Every generated function of the module at ``point``, by kind."""
    out = {}
    if several:
        out["jacobian"] = getattr(module, f"jacobian_{name}")(*point)
        out["vjp"] = getattr(module, f"vjp_{name}")(*point, *vectors["c"])
        values = getattr(module, name)(*point)
        if tuple(values) != tuple(out["jacobian"][0]) and all(x == x for x in values):
            raise ValueError(f"{name} and jacobian_{name} disagree on the values")
    else:
        out["grad"] = getattr(module, f"grad_{name}")(*point)
        value = getattr(module, name)(*point)
        if value != out["grad"][0] and value == value:
            raise ValueError(f"{name} and grad_{name} disagree on the value")
        if flags.get("hessian"):
            out["hessian"] = getattr(module, f"hessian_{name}")(*point)
        if flags.get("hvp"):
            out["hvp"] = getattr(module, f"hvp_{name}")(*point, *vectors["v"])
    if flags.get("jvp"):
        out["jvp"] = getattr(module, f"jvp_{name}")(*point, *vectors["v"])
    return out
