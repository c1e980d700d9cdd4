"""Numerical edge cases: what the generated code does, and what SymPy says there.

Each convention is in the README's table "Edge cases".
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import sympy as sp

import adcompile
from adcompile.frontend.text import parse
from adcompile.ir.graph import Graph
from adcompile.verify.compare import compare
from adcompile.verify.excuses import has_singular_step
from adcompile.verify.reference import Reference
from adcompile.verify.sympy_out import leaves_double_range

x, y = sp.symbols("x y", real=True)


def as_written(text: str):
    """The program of ``text`` with nothing folded or rewritten, as the check reads it."""
    return parse(text, Graph(fold=False, algebra=False))


def sympy_at(expr, point: dict):
    return [sp.diff(expr, s).subs(point) for s in (x, y) if s in expr.free_symbols]


@pytest.mark.parametrize("text, expr, point, error", [
    ("sqrt(x)", sp.sqrt(x), {x: 0}, ZeroDivisionError),      # d = 1/(2*sqrt(0)); SymPy: zoo
    ("log(x)", sp.log(x), {x: 0}, ValueError),               # math.log(0); SymPy: zoo
    ("x**y", x**y, {x: 0, y: sp.Rational(1, 2)}, ValueError),  # d/dy = x**y*log(x); SymPy: nan
    ("atan2(y, x)", sp.atan2(y, x), {x: 0, y: 0}, ZeroDivisionError),  # /hypot(x, y); SymPy: nan
])
def test_poles_raise_as_math_does_where_sympy_is_undefined(text, expr, point, error):
    m = adcompile.compile(text)
    with pytest.raises(error):
        m.grad_f(*[float(point[s]) for s in sorted(point, key=str)])
    assert any(not d.is_finite for d in sympy_at(expr, point))


def test_kinks_follow_sympy():
    assert adcompile.compile("abs(x)").grad_f(0.0) == (0.0, (0.0,))  # SymPy: sign(0) = 0
    assert adcompile.compile("x**2").grad_f(0.0) == (0.0, (0.0,))  # constant exponent: x*x
    assert adcompile.compile("x**y", wrt="x").grad_f(0.0, 2.0) == (0.0, (0.0,))


def test_overflow_follows_math_and_the_stable_helpers_never_overflow():
    with pytest.raises(OverflowError):
        adcompile.compile("exp(x)").grad_f(1000.0)  # as math.exp(1000)
    assert adcompile.compile("softplus(x)").grad_f(1000.0) == (1000.0, (1.0,))
    assert adcompile.compile("softplus(x)").grad_f(-1000.0) == (0.0, (0.0,))
    assert adcompile.compile("sigmoid(x)").grad_f(1000.0) == (1.0, (0.0,))
    assert adcompile.compile("sigmoid(x)").grad_f(-1000.0) == (0.0, (0.0,))


@pytest.mark.parametrize("text, expr, point", [
    # Found by the long fuzz profile: 1/sqrt(u*u + 1) was 0 where u*u overflows, so the
    # gradient was silently 0 instead of 1.1e4
    ("asinh(pow(2 + sin(x), 1e5))", sp.asinh((2 + sp.sin(x)) ** 100000), {x: -1.4607794815458763}),
    ("atan2(y, x)", sp.atan2(y, x), {x: 1e200, y: 2e200}),  # x*x + y*y overflows
    ("atan2(y, x)", sp.atan2(y, x), {x: 1e-170, y: 2e-170}),  # ... or underflows to 0
    ("acosh(x)", sp.acosh(x), {x: 1e200}),
    ("acosh(x)", sp.acosh(x), {x: 1.0000001}),  # x*x - 1 cancels
    ("log10(exp(x))", sp.log(sp.exp(x), 10), {x: 709.5}),  # x*ln(10) overflows
    ("asin(x)", sp.asin(x), {x: 1 - 2.0**-30}),  # 1 - x*x cancels: (1 - x)*(1 + x) does not
    ("acos(x)", sp.acos(x), {x: -1 + 2.0**-30}),
    ("atanh(x)", sp.atanh(x), {x: 0.99999999}),
])
def test_derivative_rules_neither_overflow_nor_cancel_where_the_derivative_is_ordinary(text, expr, point):
    names = sorted(point, key=str)
    value, grad = adcompile.compile(text).grad_f(*[point[s] for s in names])
    exact = {s: sp.Float(v, 30) for s, v in point.items()}
    for ours, s in zip(grad, names):
        reference = float(sp.diff(expr, s).evalf(30, subs=exact))
        assert ours == pytest.approx(reference, rel=1e-12, abs=0), (text, s)


def test_nan_and_inf_inputs_propagate_as_ieee():
    value, (d,) = adcompile.compile("sin(x)").grad_f(math.nan)
    assert math.isnan(value) and math.isnan(d)
    assert adcompile.compile("x*y").grad_f(math.inf, 2.0) == (math.inf, (2.0, math.inf))
    value, (d,) = adcompile.compile("relu(x)").grad_f(math.nan)
    assert math.isnan(value) and math.isnan(d)
    value, _ = adcompile.compile("x*0").grad_f(math.inf)  # x*0 is not folded: IEEE nan
    assert math.isnan(value)


def test_two_writers_of_one_path_leave_one_whole_module(tmp_path):
    target = tmp_path / "m.py"
    big = " + ".join(f"a{i}*sin(b{i})" for i in range(400))
    commands = [[sys.executable, "-m", "adcompile", text, "-q", "-o", str(target)]
                for text in (big, big.replace("sin", "cos"))]
    expected = set()
    for command in commands:  # each writer alone, for the two possible results
        subprocess.run(command, check=True)
        expected.add(target.read_text())
    for _ in range(3):
        procs = [subprocess.Popen(c) for c in commands]
        assert [p.wait() for p in procs] == [0, 0]
        assert target.read_text() in expected


def test_an_intermediate_beyond_double_range_raises_even_if_the_result_is_finite():
    # Found by the long fuzz profile: 3**(3**12.4) overflows a double, though tanh of it is 1.
    text = "tan(0.5*tanh(pow(2 + sin(x), pow(2 + sin(x), abs(x + x**2)))))"
    with pytest.raises(OverflowError):
        adcompile.compile(text).grad_f(2.2996741128735727)


def test_the_check_skips_points_where_the_expression_itself_leaves_double_range():
    text = "tan(0.5*tanh(pow(2 + sin(x), pow(2 + sin(x), abs(x + x**2)))))"
    program = as_written(text)
    assert leaves_double_range(program.outputs, {"x": 2.2996741128735727})
    assert not leaves_double_range(program.outputs, {"x": 0.5})
    report = adcompile.check(text, points=40, seed=3)
    assert not report.problems, str(report)
    assert report.skipped_range > 0 and "exceeds a double's range" in str(report)


@pytest.mark.parametrize("text, x, beyond", [
    ("exp(x)", 709.0, False), ("exp(x)", 710.0, True), ("x*x", 1e154, False), ("x*x", 1e155, True),
    ("tanh(exp(exp(x)))", 7.0, True), ("log(1 + exp(x))", 800.0, True), ("softplus(x)", 800.0, False),
    ("erfc(x)", 26.0, False), ("erfc(x)", 27.0, True), ("x*x", 1e-153, False), ("x*x", 1e-155, True),
    ("x - x", 1e-300, False),  # exactly 0 is in range
])
def test_leaving_double_range_is_judged_step_by_step(text, x, beyond):
    program = as_written(text)
    assert leaves_double_range(program.outputs, {"x": x}) == beyond


def test_the_check_skips_points_where_a_step_underflows_to_zero():
    # Found by the long fuzz profile: erfc(34) underflows to 0, so s/s divides 0 by 0,
    # where SymPy's exact value is 1
    text = "s6 = x + x/y; s8 = erfc(s6); s10 = s8 + s8; s12 = s10 / s10; s12 + sin(x) * x"
    with pytest.raises(ZeroDivisionError):
        adcompile.compile(text).grad_f(0.7833213196413649, 0.023434279086951282)
    report = adcompile.check(text, points=40, seed=1)  # a seed whose points reach y near 0
    assert not report.problems and report.skipped_range > 0, str(report)


def test_the_check_skips_points_where_the_chain_rule_meets_a_singular_step():
    # Found by the long fuzz profile: for x < 0 the hypot below is at the origin, where its
    # derivative a/hypot is 0/0; SymPy simplifies sqrt(u)**2 to u, so its derivative is finite
    text = "log(1 + (hypot(max(relu(x), x), sin(relu(x))))**2)"
    with pytest.raises(ZeroDivisionError):
        adcompile.compile(text).grad_f(-1.2)
    report = adcompile.check(text)
    assert report.ok and report.skipped_singular > 0, str(report)
    assert "where a step's own derivative is undefined" in str(report)


@pytest.mark.parametrize("text, point, singular", [
    ("hypot(x, y)", {"x": 0.0, "y": 0.0}, True), ("hypot(x, y)", {"x": 0.0, "y": 1.0}, False),
    ("sqrt(x) + y", {"x": 0.0, "y": 1.0}, True), ("atan2(y, x)", {"x": 0.0, "y": 0.0}, True),
    ("abs(x) * y", {"x": 0.0, "y": 0.0}, False),  # abs'(0) = 0 by convention: defined
    ("atan2(x - x, y)", {"x": 1.0, "y": -1.0}, True),  # on atan2's branch cut
    ("atan2(x - x, y)", {"x": 1.0, "y": 1.0}, False),
])
def test_a_singular_step_is_one_whose_own_derivative_rule_fails(text, point, singular):
    program = as_written(text)
    assert has_singular_step(program.outputs, point) == singular


def test_an_overflow_the_expression_does_not_explain_is_still_a_failure():
    def ours(point):
        raise OverflowError("math range error")

    reference = Reference([sp.sin(sp.Symbol("x", real=True))], [sp.Symbol("x", real=True)])
    report = compare("sin(x)", reference, ours, ["x"], ["value"], points=3)
    assert not report.ok and "raised OverflowError" in report.problems[0]


@pytest.mark.parametrize("backend", ["math", "numpy"])
def test_sigmoid_derivative_keeps_its_relative_accuracy_where_sigmoid_saturates(backend):
    # Found by the long fuzz profile: y*(1 - y) cancels where sigmoid(x) is near 1, and a
    # chain rule that multiplies it by 1e3 made an absolute error the check could see
    module = adcompile.compile("sigmoid(x)", backend=backend)
    for at in (20.0, 36.7, -36.7, 700.0):
        exact = float(sp.diff(1 / (1 + sp.exp(-x)), x).subs(x, sp.Float(at, 40)).evalf(40))
        assert math.isclose(float(module.grad_f(at)[1][0]), exact, rel_tol=1e-14), at


def test_the_check_does_not_ask_mpmath_for_a_step_beyond_double_range():
    # Likely cause of a long-profile chunk killed for memory: where pow(., pow(., 1e5))
    # overflows a double, SymPy's exact value is about 10**(10**46000) and mpmath's sin of
    # it never finishes.  Such points are now screened out by the doubles first.
    code = ("import adcompile; r = adcompile.check('sin(pow(2 + sin(x), pow(2 + sin(x), 1e5)))',"
            " points=10, timeout=5); print(r.skipped_range)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout) > 0, done.stderr


def test_a_constant_beyond_double_range_is_reported_without_asking_sympy():
    # Found by the long profile: SymPy ran out of memory (under the fuzz runner's 8 GiB cap)
    # building pow(2 + sin(1e5), 1e15), which overflows a double whatever x is
    report = adcompile.check("(asin(0.9*tanh(pow(2 + sin(1e5), (1e5) ** 3)))) * x")
    assert not report.ok and "overflows at every point" in str(report)
    assert adcompile.check("pow(2 + sin(x), 3) * x").ok  # a variable step is checked as ever


def test_the_sign_of_a_zero_picks_atan2s_branch_as_ieee_says_and_the_check_skips_it():
    # Found by the long fuzz profile: sin(x - x)*x is -0.0 for x < 0, and atan2(-0.0, x) = -pi
    # there, where SymPy, which has no signed zero, says atan2(0, x) = pi
    text = "sin(tan(0.5*tanh(atan2((sin((x) - (x))) * (x), x))))"
    value, _ = adcompile.compile(text).grad_f(-1.2054162485351831)
    assert value == math.sin(math.tan(0.5 * math.tanh(-math.pi)))
    report = adcompile.check(text)
    assert report.ok and report.skipped_singular > 0, str(report)
