"""The compiled module in memory: its source for Python's tools, and its names."""

from __future__ import annotations

import inspect
import traceback

import pytest

import adcompile


def test_inspect_finds_the_source_of_generated_functions():
    # Issue 14 (11): inspect.getsource(m.grad_f) failed ("could not get source code")
    m = adcompile.compile("sin(x)*y")
    source = inspect.getsource(m.grad_f)
    assert source.startswith("def grad_f(x, y):") and source in m.source
    assert inspect.getsource(m.module) == m.source


def test_tracebacks_show_the_generated_line():
    # Issue 14 (11): a domain error showed File "<adcompile f>", line 22, with no line text
    m = adcompile.compile("log(x)*y")
    with pytest.raises(ValueError) as info:
        m.grad_f(-1.0, 2.0)
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.name == "grad_f" and frame.line == "t0 = log(x)"
    assert m.source.splitlines()[frame.lineno - 1].strip() == frame.line


def test_two_modules_of_one_name_keep_their_own_lines():
    a, b = adcompile.compile("log(x)"), adcompile.compile("y = sqrt(x); y + 1")
    assert inspect.getsource(a.f) != inspect.getsource(b.f)
    assert "log" in inspect.getsource(a.f) and "sqrt" in inspect.getsource(b.f)


def test_args_and_wrt_are_the_modules_own_names():
    # Issue 14 (12): m.ARGS were equal strings but not the interned parameter names, so
    # keyword calls built from them fell back to string comparison (10-20x slower)
    m = adcompile.compile("omega0*x + beta0", wrt="x")
    assert m.ARGS is m.module.ARGS and m.WRT is m.module.WRT
    params = m.grad_f.__code__.co_varnames[: m.grad_f.__code__.co_argcount]
    assert all(a is p for a, p in zip(m.ARGS, params)) and len(m.ARGS) == len(params)
    assert m.grad_f(**dict(zip(m.ARGS, (1.0, 2.0, 3.0)))) == (7.0, (2.0,))
