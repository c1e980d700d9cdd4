"""The check as one package with one entry point (issue 15): ``adcompile.verify.check_program``
checks any object with the generated functions' names, and nothing outside ``verify``
reaches into it."""

from __future__ import annotations

import ast
import math
import pathlib
from types import SimpleNamespace

import pytest

from adcompile.frontend.text import parse
from adcompile.ir.graph import Graph
from adcompile.verify import Subject, check_program

ROOT = pathlib.Path(__file__).resolve().parent.parent


def hand_written(slope_error: float = 0.0) -> SimpleNamespace:
    """x*sin(y) and its gradient written by hand, as a module would have them."""
    def f(x, y):
        return x * math.sin(y)

    def grad_f(x, y):
        return f(x, y), (math.sin(y) * (1.0 + slope_error), x * math.cos(y))

    return SimpleNamespace(f=f, grad_f=grad_f)


def check_hand_written(slope_error: float):
    program = parse("x*sin(y)", Graph(fold=False, algebra=False))
    subject = Subject(hand_written(slope_error), "f", ["x", "y"], ["x", "y"])
    return check_program(program, "x*sin(y)", subject, points=5)


def test_the_entry_point_checks_functions_it_did_not_compile():
    report = check_hand_written(0.0)
    assert report.ok and report.points == 5, str(report)
    assert [r.label for r in report.rows] == ["value", "d/dx", "d/dy"]


def test_the_entry_point_finds_a_wrong_hand_written_derivative():
    report = check_hand_written(1e-6)
    assert report.disagrees and not report.ok, str(report)
    worst = {r.label: r.worst_rel for r in report.rows}
    assert worst["d/dx"] > 1e-7 and worst["d/dy"] < 1e-12


def test_the_entry_point_checks_its_options():
    with pytest.raises(ValueError, match="points must be a whole number"):
        check_program(parse("x"), "x", Subject(hand_written(), "f", ["x"], ["x"]), points=0)


def imports_of(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def test_the_api_uses_only_the_check_packages_entry_point():
    imports = imports_of(ROOT / "adcompile" / "api.py")
    assert "adcompile.verify" in imports
    assert [m for m in imports if m.startswith("adcompile.verify.") or m.startswith("adcompile.explain")] == []
    assert "._built" not in (ROOT / "adcompile" / "api.py").read_text(encoding="utf-8")


def test_no_test_module_imports_another():
    # shared helpers and data live in support.py (and strategies.py)
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        assert [m for m in imports_of(path) if m.startswith("test_")] == [], path.name


def test_no_function_of_the_check_is_longer_than_60_lines():
    for path in sorted((ROOT / "adcompile" / "verify").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno < 60, f"{path.name}: {node.name}"


def test_the_report_says_where_points_come_from_and_that_skipped_ones_were_replaced():
    # a trial read "20 random points; 16 outside the domain were skipped" as 4 compared
    import adcompile

    report = adcompile.check("log(x)")
    head = str(report).splitlines()[1]
    assert head.startswith("against SymPy at 20 random points in [-2.5, 2.5] (seed 0); ")
    assert head.endswith(f"{report.skipped_domain} more drawn outside the domain were skipped")
    assert report.skipped_domain > 0 and all(r.compared == 20 for r in report.rows)


def test_a_comparison_among_the_steps_checked_for_range_is_no_traceback():
    # a trial found AttributeError: 'BooleanTrue' object has no attribute 'evalf' where the
    # code raised (log of a negative, times 0) and the range of each step was looked at
    import adcompile

    report = adcompile.check("where(x < 2, log(x)**2, 1) * where(x > 0, 1, 0)")
    assert not report.ok
    assert any("raised ValueError" in problem for problem in report.problems)
