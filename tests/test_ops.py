"""One parametrized test per row of the op table, against SymPy."""

from __future__ import annotations

import random

import pytest
import sympy as sp
from support import MATH_OPS, X, Y, close, reference, text_for

import adcompile
from adcompile.codegen.backends import BACKENDS
from adcompile.ir.ops import OPS_LIST


@pytest.mark.parametrize("op", OPS_LIST, ids=lambda op: op.name)
def test_every_op_row_is_complete(op):
    assert len(op.domain) == op.arity, "each op row needs a domain box per argument"
    assert op.partials is not None and op.sympy
    assert any(backend.can_print(op) for backend in BACKENDS.values())


@pytest.mark.parametrize("op", MATH_OPS, ids=lambda op: op.name)
def test_value_and_derivatives_match_sympy(op):
    symbols = [X, Y][: op.arity]
    module = adcompile.compile(text_for(op), args="x,y"[: 2 * op.arity - 1])
    expr = op.sympy(*symbols)
    derivatives = [sp.diff(expr, s) for s in symbols]
    rng = random.Random(op.name)
    for _ in range(6):
        point = [rng.uniform(*box) for box in op.domain]
        value, gradient = module.grad_f(*point)
        assert close(value, reference(expr, symbols, point)), (op.name, point)
        assert value == module.f(*point) == op.value(*point)
        for got, d in zip(gradient, derivatives):
            assert close(got, reference(d, symbols, point), rel=1e-11), (op.name, point, d)


@pytest.mark.parametrize("op", MATH_OPS, ids=lambda op: op.name)
def test_adcompile_check_agrees_on_every_op(op):
    report = adcompile.check(text_for(op), points=10)
    assert report.ok, str(report)


def test_kink_conventions_follow_sympy():
    g = lambda text, **kw: adcompile.compile(text, args=list(kw)).grad_f(**kw)[1]
    assert g("abs(x)", x=0.0) == (0.0,)
    assert g("relu(x)", x=0.0) == (0.0,)
    assert g("max(x, y)", x=1.0, y=1.0) == (0.5, 0.5)
    assert g("min(x, y)", x=2.0, y=2.0) == (0.5, 0.5)
    assert g("max(x, y)", x=3.0, y=1.0) == (1.0, 0.0)
    assert g("min(x, y)", x=3.0, y=1.0) == (0.0, 1.0)


@pytest.mark.parametrize("x", [-800.0, -40.0, 0.0, 40.0, 800.0])
def test_sigmoid_and_softplus_do_not_overflow(x):
    m = adcompile.compile("sigmoid(x) + softplus(x)")
    value, (d,) = m.grad_f(x)
    s = float(sp.N(1 / (1 + sp.exp(-sp.Float(x, 50))), 30))
    sp_ = float(sp.N(sp.log(1 + sp.exp(sp.Float(x, 50))), 30))
    assert close(value, s + sp_, rel=1e-15)
    assert close(d, s * (1 - s) + s, rel=1e-15, floor=1e-300)
