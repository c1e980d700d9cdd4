"""The Python API: compile and check, with text and with SymPy expressions."""

from __future__ import annotations

import pytest
import sympy as sp

import adcompile
from adcompile import CompileError, ParseError


def test_api_example_from_the_issue(tmp_path):
    m = adcompile.compile("(w*x + b - y)**2", name="loss")
    assert m.loss(w=2.0, x=3.0, b=1.0, y=0.5) == 42.25
    assert m.grad_loss(w=2.0, x=3.0, b=1.0, y=0.5) == (42.25, (13.0, 39.0, 26.0, -13.0))
    assert (m.ARGS, m.WRT) == (("b", "w", "x", "y"), ("b", "w", "x", "y"))
    assert "def grad_loss(b, w, x, y):" in m.source
    m.save(tmp_path / "loss.py")
    saved = (tmp_path / "loss.py").read_text()
    assert f"-o {tmp_path / 'loss.py'}" in saved
    report = adcompile.check("sin(x)*y")
    assert report.ok and bool(report)
    assert [r.label for r in report.rows] == ["value", "d/dx", "d/dy"]
    assert all(r.worst_rel < 1e-12 for r in report.rows)


def test_natural_sort_of_arguments():
    m = adcompile.compile("x10 + x2 + omega0 + beta0 + x + X1")
    assert m.ARGS == ("beta0", "omega0", "x", "X1", "x2", "x10")


def test_sympy_input_keeps_shared_subtrees_shared():
    x, y = sp.symbols("x y")
    shared = sp.sin(x * y) + 1
    expr = shared**2 / (shared + sp.exp(shared))
    m = adcompile.compile(expr)
    f_body = m.source.split("def f(")[1].split("def grad_f(")[0]
    assert f_body.count("sin(") == 1 and f_body.count("exp(") == 1  # shared subtrees stay shared
    point = {x: 0.3, y: -1.2}
    value, gradient = m.grad_f(x=0.3, y=-1.2)
    assert value == pytest.approx(float(expr.subs(point)), rel=1e-14)
    assert gradient[0] == pytest.approx(float(sp.diff(expr, x).subs(point)), rel=1e-13)
    assert gradient[1] == pytest.approx(float(sp.diff(expr, y).subs(point)), rel=1e-13)


def test_sympy_input_covers_the_common_functions():
    x, y = sp.symbols("x y", positive=True)
    expr = (sp.sqrt(x) + 1 / sp.sqrt(y) + sp.Abs(x - y) + sp.Max(x, y, 1) + sp.atan2(y, x)
            + sp.log(x, 2) + x**sp.Rational(3, 2) + sp.pi * sp.E + sp.erf(x) + sp.tanh(y) / x)
    report = adcompile.check(expr)
    assert report.ok, str(report)


def test_unsupported_sympy_function_is_a_clear_error():
    x = sp.Symbol("x")
    with pytest.raises(CompileError, match="gamma"):
        adcompile.compile(sp.gamma(x))


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        adcompile.compile("sin(")
    assert issubclass(ParseError, ValueError) and issubclass(CompileError, ValueError)


def test_check_reports_a_disagreement(monkeypatch):
    """A deliberately broken rule must make the check fail (it is not a stub)."""
    from adcompile.ir.ops import OPS, Op

    broken = Op(**{**OPS["sin"].__dict__, "partials": lambda g, y, x: (g("sin", x),)})
    monkeypatch.setitem(OPS, "sin", broken)
    report = adcompile.check("sin(x) * y")
    assert not report.ok
    assert report.rows[1].worst_rel > 1e-3 and "FAIL" in str(report)


def test_compile_with_check_raises_on_disagreement(monkeypatch):
    from adcompile.ir.ops import OPS, Op

    monkeypatch.setitem(OPS, "exp", Op(**{**OPS["exp"].__dict__, "partials": lambda g, y, x: (2.0 * y,)}))
    with pytest.raises(CompileError, match="disagrees with SymPy"):
        adcompile.compile("exp(x)", check=True)
