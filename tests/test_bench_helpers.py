"""The benchmark's pure helpers (bench/anchors.py, bench/cases.py, bench/plot.py):
no timings here, only the logic that decides what is measured and compared."""

import math

import numpy as np

from bench import plot, startup  # noqa: F401  (startup: the module imports)
from bench.anchors import agrees, flatten, forward_function, forward_source
from bench.cases import UDL_POINT, Case, mlp, nested_cases, udl


def test_the_generated_forward_pass_computes_the_udl_loss():
    p = UDL_POINT
    h1 = math.sin(p["beta0"] + p["omega0"] * p["x"])
    h2 = math.exp(p["beta1"] + p["omega1"] * h1)
    h3 = math.cos(p["beta2"] + p["omega2"] * h2)
    expected = (p["beta3"] + p["omega3"] * h3 - p["y"]) ** 2
    case = udl()
    assert forward_function(case, math)(*[p[n] for n in case.point]) == expected


def test_the_forward_pass_is_straight_line_with_integer_powers_kept_integer():
    source = forward_source(Case("p", "sin(x)**3 + x**2.5", ["x"], {"x": 1.0}))
    assert "** 3\n" in source and "** 2.5\n" in source
    assert forward_function(Case("p", "sin(x)**3 + x**2.5", ["x"], {"x": 1.0}), math)(0.5) == \
        math.sin(0.5) ** 3 + 0.5**2.5
    assert forward_source(mlp()).count("F.tanh(") == 16


def test_flatten_reads_every_result_shape_in_order():
    assert flatten((1.0, (2.0, 3.0))) == [1.0, 2.0, 3.0]
    assert flatten([np.float64(1.0), np.array([[2.0, 3.0]])]) == [1.0, 2.0, 3.0]
    assert flatten((np.array(4.0), np.array([5.0]))) == [4.0, 5.0]


def test_agrees_needs_the_same_length_and_close_numbers():
    assert agrees([1.0, 2.0], [1.0, 2.0 + 1e-12])
    assert not agrees([1.0, 2.0], [1.0, 2.1])
    assert not agrees([1.0], [1.0, 2.0])


def test_nested_cases_increase_and_only_the_table_depths_are_in_the_table():
    cases = nested_cases(quick=True)
    depths = [c.nested_depth for c in cases]
    assert depths == sorted(depths) and 1 in depths
    assert [c.nested_depth for c in cases if c.in_table] == [10, 20, 100]


def test_plot_points_skip_failed_anchors_and_rows_that_are_not_nested():
    rows = [{"nested_depth": 20, "grad_call_s": 2e-6, "anchors": {"SymPy": {"status": "timeout"}}},
            {"nested_depth": 0, "grad_call_s": 1e-6, "anchors": {}},
            {"nested_depth": 10, "grad_call_s": 1e-6,
             "anchors": {"SymPy": {"status": "ok", "grad_call": 3e-6}}}]
    ours = next(s for s in plot.SERIES if s.label == "adcompile, math backend")
    sympy = next(s for s in plot.SERIES if s.label.startswith("SymPy"))
    assert plot.points(rows, ours) == ([10, 20], [1.0, 2.0])
    assert plot.points(rows, sympy) == ([10], [3.0])


def _anchor_of_the_sum_of_squares(points: int) -> dict:
    """A stand-in anchor: the value and gradient of sum((a*x - y)**2) at a = 2 over small data."""
    x, y = np.arange(points, dtype=float), np.ones(points)
    r = 2.0 * x - y
    return {"grad_call": 1.0, "result": [float(np.sum(r * r)), float(np.sum(2 * r * x))]}


def test_an_array_anchor_of_another_function_is_reported_not_timed():
    from bench.arrays import run_anchor

    x, y = np.arange(5.0), np.ones(5)
    r = 2.0 * x - y
    same = [float(np.sum(r * r)), float(np.sum(2 * r * x))]
    assert run_anchor(_anchor_of_the_sum_of_squares, 5, 30, same)["status"] == "ok"
    other = [float(np.sum((r * r - y) ** 2)), same[1]]  # the loss squared twice: a bench bug once
    assert run_anchor(_anchor_of_the_sum_of_squares, 5, 30, other)["status"] == "disagrees with adcompile"
