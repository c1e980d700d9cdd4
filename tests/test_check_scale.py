"""The check on ordinary model sizes (issue 14, item 2) and its option checking (item 9).

SymPy recursed through the reference it was given: a sum built pairwise (100 terms)
or a model nested 40 deep ran out of recursion, and the check said FAIL.  Where SymPy
still cannot build a reference the check is inconclusive, never a disagreement.
"""

from __future__ import annotations

import math
import sys
import threading

import mpmath
import pytest
import sympy as sp

import adcompile
from adcompile import CompileError
from adcompile.cli import main

ACTIVATIONS = ("sin", "exp", "cos", "tanh")


def sum_of_terms(n: int) -> str:
    return " + ".join(f"w{i}*sin(x{i})" for i in range(n))


def rosenbrock(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}**2)**2 + (1 - x{i})**2" for i in range(n - 1))


def nested(depth: int) -> str:
    """The seed's model nested ``depth`` layers deep (as bench/cases.py builds it)."""
    h = "x"
    for i in range(depth):
        h = f"{ACTIVATIONS[i % 4]}(beta{i} + omega{i}*{h})"
    return f"({h} - y)**2"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- sums of many terms: one flat Add, differentiated term by term -----------------------

def test_a_sum_of_1000_terms_agrees_with_sympy():
    report = adcompile.check(sum_of_terms(1000), points=3)
    assert report.ok, str(report)
    assert report.status == "agrees" and len(report.rows) == 2001
    assert all(row.compared == 3 for row in report.rows)


def test_rosenbrock_in_50_variables_agrees_with_sympy():
    report = adcompile.check(rosenbrock(50), points=5)
    assert report.ok, str(report)
    assert all(row.compared == 5 for row in report.rows)


def test_the_reference_sum_is_flat_and_its_value_right():
    from adcompile.ir.graph import Graph
    from adcompile.frontend.text import parse
    from adcompile.verify.sympy_out import to_sympy

    program = parse("a - b + c*d*e - (f + g) + 2*a", Graph(fold=False, algebra=False))
    (expr,) = to_sympy(program.outputs)
    assert isinstance(expr, sp.Add) and len(expr.args) == 5  # a, -b, c*d*e, -(f + g), 2*a
    product = next(t for t in expr.args if isinstance(t, sp.Mul) and len(t.args) == 3)
    assert set(product.args) == set(sp.symbols("c d e", real=True))
    a, b, c, d, e, f, g = sp.symbols("a b c d e f g", real=True)
    point = {a: 1.5, b: -2, c: 3, d: 0.5, e: 7, f: 11, g: -13}
    assert sp.N(expr.subs(point)) == sp.N((3 * a - b + c * d * e - f - g).subs(point))


def test_a_shared_sum_stays_shared():
    # t doubles 16 times: absorbing a shared step into each user would make 2**17 terms
    # (and 2**n for n doublings)
    from adcompile.ir.graph import Graph
    from adcompile.frontend.text import parse
    from adcompile.verify.sympy_out import to_sympy

    lines = ["t0 = x + y"] + [f"t{k} = t{k - 1} + t{k - 1}" for k in range(1, 17)] + ["t16"]
    program = parse("\n".join(lines), Graph(fold=False, algebra=False))
    (expr,) = to_sympy(program.outputs)
    for _ in range(16):  # (SymPy itself walks it as a tree, in 2**16 steps)
        assert isinstance(expr, sp.Add) and len(expr.args) == 2 and expr.args[0] is expr.args[1]
        expr = expr.args[0]
    assert expr == sp.Add(*sp.symbols("x y", real=True), evaluate=False)


def test_gradient_of_a_sum_is_sympys():
    from adcompile.verify.plan import gradient

    x, y, z, u = sp.symbols("x y z u", real=True)
    with sp.evaluate(False):
        expr = sp.Add(x * sp.sin(y), sp.exp(x * z), y**3, sp.Rational(5), x)
    wrt = [x, y, z, u]
    assert gradient(expr, wrt) == [sp.diff(expr, w) for w in wrt]
    assert gradient(sp.sin(x * y), wrt) == [sp.diff(sp.sin(x * y), w) for w in wrt]


# --- deep chains: SymPy runs in a thread with a deep stack -------------------------------

def test_the_seed_model_nested_60_deep_agrees_with_sympy():
    # d/dx goes through all 60 layers, the deepest derivative there is; the other
    # parameters only make the check slower (a minute for all 122 of them)
    report = adcompile.check(nested(60), wrt="x,beta0,omega59", points=4)
    assert report.ok, str(report)
    assert all(row.compared == 4 for row in report.rows)


def test_a_deep_quantity_is_evaluated_in_shallow_steps():
    # printed as one expression, 200 nested layers are more parentheses than Python's
    # parser takes; the reference names its steps instead
    from adcompile.verify.deep import run_deep
    from adcompile.verify.reference import Reference

    x = sp.Symbol("x", real=True)
    with sp.evaluate(False):
        expr = x
        for i in range(200):
            expr = getattr(sp, ACTIVATIONS[i % 4])(sp.Rational(3, 10) + sp.Rational(1, 2) * expr)
    reference = run_deep(lambda: Reference([expr], [x]), None)
    with mpmath.workdps(40):
        expected = mpmath.mpf("0.7")
        for i in range(200):
            expected = getattr(mpmath, ACTIVATIONS[i % 4])(mpmath.mpf(3) / 10 + expected / 2)
    assert reference.evaluate([0.7]) == [float(expected)]


def test_steps_are_not_taken_out_of_a_piecewise_branch():
    # 1/x is repeated, but only evaluated where x > 0: computing it first would make the
    # quantity undefined at 0
    from adcompile.verify.reference import Reference

    x = sp.Symbol("x", real=True)
    with sp.evaluate(False):
        expr = sp.Piecewise((sp.Mul(1 / x, 1 / x), x > 0), (sp.Integer(0), True)) + x - x
    reference = Reference([expr], [x])
    assert reference.evaluate([0.0]) == [0.0]
    assert reference.evaluate([0.5]) == [4.0]


def test_the_recursion_limit_is_restored():
    before = sys.getrecursionlimit()
    assert adcompile.check(nested(8), points=2).ok
    assert adcompile.check(nested(60), timeout=0.05).inconclusive
    assert sys.getrecursionlimit() == before


# --- inconclusive, never a disagreement ---------------------------------------------------

def test_sympy_out_of_time_is_inconclusive(capsys):
    report = adcompile.check(nested(60), points=3, timeout=0.05)
    assert report.inconclusive and not report.ok and report.status == "inconclusive"
    text = str(report)
    assert "SymPy did not finish within 0.05 s" in text and "INCONCLUSIVE" in text
    assert "random points" not in text and "FAIL" not in text
    code, out, _ = run(capsys, "check", nested(60), "--points", "3", "--timeout", "0.05")
    assert code == 3 and "INCONCLUSIVE" in out and "at 0 random points" not in out


def test_a_reference_too_deep_for_sympy_is_inconclusive(monkeypatch):
    # as if the stack were no deeper than the default: SymPy's recursion runs out
    monkeypatch.setattr(sys.modules["adcompile.verify.deep"], "_STACK_PER_FRAME", 2**40)
    report = adcompile.check(nested(60), wrt="x", points=3)
    assert report.inconclusive and not report.ok
    assert "RecursionError: the expression is nested too deeply for SymPy" in str(report)


def test_the_time_limit_holds_outside_the_main_thread():
    # the old limit used SIGALRM, which only the main thread can use: elsewhere it had none
    reports = []
    worker = threading.Thread(target=lambda: reports.append(
        adcompile.check(nested(60), points=3, timeout=0.05)))
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and reports[0].inconclusive, reports


def _refuse_to_build(monkeypatch):
    import adcompile.verify.check

    def too_deep(*args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(adcompile.verify.check, "to_sympy", too_deep)


def test_compile_with_check_refuses_an_inconclusive_check(monkeypatch):
    _refuse_to_build(monkeypatch)
    with pytest.raises(CompileError, match="inconclusive"):
        adcompile.compile("sin(x)*y", check=True)


def test_the_check_flag_writes_nothing_when_inconclusive(monkeypatch, tmp_path, capsys):
    _refuse_to_build(monkeypatch)
    target = tmp_path / "m.py"
    code, out, err = run(capsys, "sin(x)*y", "--check", "-o", str(target))
    assert code == 3 and out == "" and not target.exists()
    assert "inconclusive" in err and "INCONCLUSIVE" in err and "Traceback" not in err


# --- options out of range are usage errors ------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["check", "x", "--points", "0"], "argument --points: must be at least 1, not 0"),
    (["check", "x", "--points", "-1"], "argument --points: must be at least 1, not -1"),
    (["check", "x", "--points", "2.5"], "argument --points: expected a whole number"),
    (["check", "x", "--timeout", "-5"], "argument --timeout: must be a number of seconds greater than 0"),
    (["check", "x", "--timeout", "0"], "argument --timeout: must be a number of seconds greater than 0"),
    (["check", "x", "--timeout", "nan"], "argument --timeout: must be a number of seconds greater than 0"),
    (["check", "x", "--seed", "1.5"], "argument --seed: expected a whole number"),
    (["explain", "x", "--at", "x=1", "--digits", "-1"], "argument --digits: must be from 0 to 17, not -1"),
    (["explain", "x", "--at", "x=1", "--digits", "99999999999"], "argument --digits: must be from 0 to 17"),
    (["graph", "x", "-o", "g.dot", "--digits", "-1"], "argument --digits: must be from 0 to 17"),
    (["graph", "x", "-o", "g.dot", "--max-nodes", "-1"], "argument --max-nodes: must be at least 1, not -1"),
    (["graph", "x", "-o", "g.dot", "--max-nodes", "0"], "argument --max-nodes: must be at least 1, not 0"),
])
def test_numeric_options_out_of_range_are_usage_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err
    assert "usage: adcompile" in err  # argparse's style
    assert not (tmp_path / "g.dot").exists()


def test_an_unlimited_timeout_and_the_largest_digits_are_accepted(capsys):
    code, out, _ = run(capsys, "check", "sin(x)*y", "--timeout", "inf", "--points", "2")
    assert code == 0 and "PASS" in out
    code, out, _ = run(capsys, "explain", "x*x", "--at", "x=0.1", "--digits", "17")
    assert code == 0 and f"{0.1 * 0.1:.17f}" in out


@pytest.mark.parametrize("options, message", [
    ({"points": 0}, "points must be a whole number of at least 1"),
    ({"points": -1}, "points must be a whole number of at least 1"),
    ({"points": 2.5}, "points must be a whole number of at least 1"),
    ({"seed": "zero"}, "seed must be a whole number"),
    ({"timeout": -5}, "timeout must be a number of seconds greater than 0"),
    ({"timeout": 0}, "timeout must be a number of seconds greater than 0"),
    ({"timeout": math.nan}, "timeout must be a number of seconds greater than 0"),
])
def test_check_options_out_of_range_raise_compile_error(options, message):
    with pytest.raises(CompileError, match=message):
        adcompile.check("sin(x)", **options)


def test_check_accepts_no_time_limit_and_any_whole_seed():
    for timeout in (None, math.inf):
        assert adcompile.check("sin(x)*y", points=2, timeout=timeout).ok
    assert adcompile.check("sin(x)", points=1, seed=-7, timeout=30).ok


# --- found by trying the project as a new user -------------------------------------------

@pytest.mark.parametrize("text", ["log(-1) + x", "(-8)**(1/3) * x"])
def test_an_expression_undefined_everywhere_is_inconclusive_not_a_disagreement(capsys, text):
    report = adcompile.check(text, points=3)
    assert report.inconclusive and not report.ok and not report.disagrees
    assert all(r.compared == 0 for r in report.rows)
    assert main(["check", text, "--points", "3"]) == 3
    out = capsys.readouterr().out
    assert "INCONCLUSIVE" in out and "FAIL" not in out


def test_a_constant_that_overflows_everywhere_is_inconclusive():
    report = adcompile.check("pow(2 + sin(1e5), 1e15) + x")
    assert report.inconclusive and report.status == "inconclusive"


def test_a_disagreement_is_never_called_inconclusive():
    from adcompile.verify import CheckReport, Row

    wrong, nowhere = Row("d/dx", worst_rel=1e-3, compared=5), Row("d/dy")
    report = CheckReport("x*y", [Row("value", compared=5), wrong, nowhere], 5, 0, 0)
    assert report.disagrees and not report.inconclusive and report.status == "disagrees"
    report.rows.remove(wrong)
    assert report.inconclusive and report.status == "inconclusive"
