"""Sizes that break recursive tools: no RecursionError, anywhere.

Python's own ``ast.parse`` fails on both inputs here.  The recursion limit is
lowered while compiling, so any recursion over the input's size would fail
loudly even on a machine with a large default stack.
"""

from __future__ import annotations

import sys

import pytest

import adcompile


@pytest.fixture
def low_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    yield
    sys.setrecursionlimit(old)


def test_sum_of_100000_terms(low_recursion_limit):
    text = " + ".join(f"{i % 7 + 1}*x{i % 50}*y" for i in range(100_000))
    m = adcompile.compile(text, format=False)
    source = m.source
    sys.setrecursionlimit(2000)  # importing the result is CPython's business
    point = [1.0] * len(m.ARGS)
    value, gradient = m.grad_f(*point)
    total = sum(i % 7 + 1 for i in range(100_000))
    assert value == pytest.approx(total)
    assert dict(zip(m.WRT, gradient))["y"] == pytest.approx(total)
    assert "def grad_f(" in source


def test_sum_of_100000_variables(low_recursion_limit):
    text = " + ".join(f"x{i}" for i in range(100_000))
    m = adcompile.compile(text, format=False)
    assert m.ARGS[:3] == ("x0", "x1", "x2") and m.ARGS[-1] == "x99999"
    sys.setrecursionlimit(2000)
    value, gradient = m.grad_f(*range(100_000))
    assert value == sum(range(100_000)) and set(gradient) == {1.0}


def test_nesting_10000_deep(low_recursion_limit):
    text = "sin(" * 10_000 + "x" + ")" * 10_000
    m = adcompile.compile(text, format=False)
    sys.setrecursionlimit(2000)
    value, (d,) = m.grad_f(0.5)
    import math

    v, dv = 0.5, 1.0
    for _ in range(10_000):
        v, dv = math.sin(v), dv * math.cos(v)
    assert value == pytest.approx(v, rel=1e-12) and d == pytest.approx(dv, rel=1e-9)


def test_parenthesis_nesting_10000_deep(low_recursion_limit):
    text = "(" * 10_000 + "x + 1" + ")" * 10_000 + " * y"
    m = adcompile.compile(text, format=False)
    assert m.grad_f(x=2.0, y=3.0) == (9.0, (3.0, 3.0))
