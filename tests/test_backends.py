"""Backends as tables: typed spellings, the numpy table derived from math's, and a
new backend that is one table, one runtime module and one registry entry."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from support import close

import adcompile
from adcompile.cli import main
from adcompile.codegen.backends import BACKENDS, MATH, MATH_SPELLINGS, NUMPY, Backend, get_backend
from adcompile.codegen.spellings import UNAVAILABLE, Call, Choice, Helper, Infix, Power, Prefix, Reduced
from adcompile.errors import CompileError
from adcompile.explain.passes import INFIX
from adcompile.ir.ops import OPS, OPS_LIST
from adcompile.pipeline import check_function_name


@pytest.mark.parametrize("backend", BACKENDS.values(), ids=lambda b: b.name)
def test_every_spelling_names_a_real_function_or_helper(backend):
    module = {"math": math, "numpy": np}[backend.module]
    for op in OPS_LIST:
        spelling = backend.spelling(op)
        if isinstance(spelling, Call):
            assert callable(getattr(module, spelling.function)), (backend.name, op.name)
        elif isinstance(spelling, Helper):
            assert callable(getattr(backend.runtime, spelling.name)), (backend.name, op.name)
        else:
            assert isinstance(spelling, (Infix, Prefix, Power, Choice, Reduced)) or spelling is UNAVAILABLE
            assert not isinstance(spelling, Reduced) or backend.fused, (backend.name, op.name)


def test_an_op_a_table_leaves_out_is_the_function_of_its_own_name():
    assert MATH.spelling(OPS["sin"]) == NUMPY.spelling(OPS["sin"]) == Call("sin")
    assert MATH.spelling(OPS["asin"]) == Call("asin")
    assert NUMPY.spelling(OPS["asin"]) == Call("arcsin")  # only what differs is overridden
    assert NUMPY.spelling(OPS["add"]) == MATH.spelling(OPS["add"]) == Infix("+")


def test_the_reductions_are_unavailable_on_math_and_refused_with_the_backend_message():
    assert [op.name for op in OPS_LIST if not MATH.can_print(op)] == [
        "sum", "mean", "size", "sum_to", "broadcast"]
    assert all(NUMPY.can_print(op) for op in OPS_LIST)
    with pytest.raises(CompileError, match=r"sum\(\) reduces an array, which needs"):
        adcompile.compile("sum(x)", args="x")


def test_power_prints_a_small_integral_exponent_with_stars_and_any_other_with_pow():
    assert Power.small_exponent(3.0) == 3 and Power.small_exponent(-2.0) == -2
    assert Power.small_exponent(0.5) is None and Power.small_exponent(2.0**40) is None
    assert "x**3" in adcompile.compile("x^3", args="x").source
    assert "pow(x, 0.5)" in adcompile.compile("x^0.5", args="x").source


def test_explains_operators_are_the_math_backends():
    assert INFIX == {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**",
                     "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=",
                     "logical_and": "and", "logical_or": "or"}


def test_an_unknown_backend_names_the_registered_ones():
    with pytest.raises(CompileError, match="choose 'math', 'numpy' or 'numba'"):
        get_backend("jax")


@pytest.mark.parametrize("name", ["math", "numpy", "np", "numba"])
def test_the_backends_modules_are_reserved_names(name):
    with pytest.raises(CompileError, match="would clash"):
        check_function_name(name)


MPMATH = Backend("mpmath", "mpmath", None, "adcompile.runtime.math_backend",
                 MATH_SPELLINGS, arrays=False)  # mpmath spells every op as math does


def test_a_new_backend_is_one_registry_entry(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(BACKENDS, "mpmath", MPMATH)
    m = adcompile.compile("hypot(x, y) * exp(sin(x)) + abs(x) + relu(y) + x^3", args="x,y",
                          backend="mpmath")
    assert "from mpmath import " in m.source and "import math\n" not in m.source
    x, y = 0.7, -0.3
    value, (dx, _) = m.grad_f(x, y)
    assert isinstance(value, mpmath.mpf)
    assert close(float(value), math.hypot(x, y) * math.exp(math.sin(x)) + abs(x) + x**3)
    by_hand = (x / math.hypot(x, y) + math.hypot(x, y) * math.cos(x)) * math.exp(math.sin(x))
    assert close(float(dx), by_hand + 1.0 + 3 * x**2)
    out = tmp_path / "f.py"
    assert main(["sin(x)", "--backend", "mpmath", "-o", str(out)]) == 0  # a CLI choice too
    assert "from mpmath import cos, sin\n" in out.read_text()
