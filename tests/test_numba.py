"""The numba backend: compiled scalar functions, fused loops over data, and numba's cache.

Tested like the numpy backend: every op against SymPy (at single points through the
compiled scalar functions, and elementwise over arrays through one fused loop),
random programs against the math and numpy backends, data losses against the numpy
backend, and a second process that finds numba's cache.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import textwrap

import pytest

numba = pytest.importorskip("numba")
np = pytest.importorskip("numpy")

import sympy as sp  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import expressions  # noqa: E402
from support import MATH_OPS, X, Y, close, reference, text_for  # noqa: E402

import adcompile  # noqa: E402
from adcompile.cli import main  # noqa: E402
from adcompile.verify.reference import for_real_arguments  # noqa: E402

UDL = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"
LOSS = f"sum(({UDL} - y)**2)"
PARAMS = (1.0, 2.0, -3.0, 0.4, 0.1, -0.4, 2.0, 3.0)
WRT = "beta0,beta1,beta2,beta3,omega0,omega1,omega2,omega3"


@pytest.fixture(autouse=True, scope="module")
def _cache_in_a_temporary_folder(tmp_path_factory):
    """numba's cache (beside the module adcompile writes for it) in a folder of the tests'."""
    folder = str(tmp_path_factory.mktemp("numba-cache"))
    old = os.environ.get("ADCOMPILE_CACHE_DIR")
    os.environ["ADCOMPILE_CACHE_DIR"] = folder
    yield folder
    if old is None:
        del os.environ["ADCOMPILE_CACHE_DIR"]
    else:
        os.environ["ADCOMPILE_CACHE_DIR"] = old


def _op_text(op, k: int) -> str:
    """``op`` applied to its own arguments x{k} (and y{k})."""
    return re.sub(r"\b([xy])\b", lambda m: f"{m.group(1)}{k}", text_for(op))


def _random_points(op, n: int) -> list[list[float]]:
    rng = random.Random(op.name)
    return [[rng.uniform(*box) for _ in range(n)] for box in op.domain]


@pytest.mark.parametrize("op", MATH_OPS, ids=lambda op: op.name)
def test_every_op_compiled_at_single_points_matches_sympy(op):
    m = adcompile.compile(_op_text(op, 0), args="x0,y0"[: 3 * op.arity - 1], backend="numba")
    symbols = [X, Y][: op.arity]
    expr = for_real_arguments(op.sympy(*symbols))
    derivatives = [sp.diff(expr, s) for s in symbols]
    columns = _random_points(op, 4)
    for k in range(4):
        point = [c[k] for c in columns]
        value, grad = m.grad_f(*point)
        assert close(value, reference(expr, symbols, point)), (op.name, point)
        for g, d in zip(grad, derivatives):
            assert close(g, reference(d, symbols, point), rel=1e-11), (op.name, point)


def test_every_op_elementwise_over_arrays_in_one_fused_loop_matches_sympy():
    """One program with every op on arguments of its own, run over arrays by
    ``grad_f_points``: each point's derivative in x_k is op k's, against SymPy."""
    ops = MATH_OPS
    text = " + ".join(_op_text(op, k) for k, op in enumerate(ops))
    names = [f"{v}{k}" for k, op in enumerate(ops) for v in "xy"[: op.arity]]
    m = adcompile.compile(text, args=names, backend="numba")
    arrays = [np.array(c) for op in ops for c in _random_points(op, 6)]
    value, grad = m.grad_f_points(*arrays)
    assert np.shape(value) == (6,) and all(np.shape(g) == (6,) for g in grad)
    at = 0
    for op in ops:
        symbols = [X, Y][: op.arity]
        expr = for_real_arguments(op.sympy(*symbols))
        for s in symbols:
            derivative = sp.diff(expr, s)
            for k in range(6):
                point = [float(arrays[at + j][k]) for j in range(op.arity)]
                assert close(float(grad[at + symbols.index(s)][k]),
                             reference(derivative, symbols, point), rel=1e-11), (op.name, point)
        at += op.arity


def test_the_module_is_the_math_backends_code_decorated_and_imports_no_dask():
    source = adcompile.compile(UDL, backend="numba").source
    assert '@numba.njit(cache=True, error_model="numpy")\ndef grad_f(' in source
    assert "from math import cos, exp, sin" in source
    assert "dask" not in source
    assert '@numba.njit(parallel=True, cache=True, error_model="numpy")\ndef _grad_f_points_loop(' in source


def test_scalar_functions_agree_with_the_math_backend_and_return_python_floats():
    m, reference_module = adcompile.compile(UDL, backend="numba"), adcompile.compile(UDL)
    point = PARAMS + (2.3,)
    value, grad = m.grad_f(*point)
    want_value, want_grad = reference_module.grad_f(*point)
    assert value == pytest.approx(want_value, rel=1e-14) and isinstance(value, float)
    assert grad == pytest.approx(want_grad, rel=1e-13)


@pytest.mark.parametrize("text", ["sign(x)", "relu(x)", "max(x, y)", "min(x, y)"])
def test_helpers_written_as_selects_give_the_math_backends_results_bit_for_bit(text):
    compiled, interpreted = adcompile.compile(text, args="x,y", backend="numba"), adcompile.compile(text, args="x,y")
    special = [-2.0, -0.0, 0.0, 1.5, math.inf, -math.inf, math.nan]
    for x in special:
        for y in special:
            ours, want = compiled.f(x, y), interpreted.f(x, y)
            assert (ours == want and math.copysign(1, ours) == math.copysign(1, want)) or (
                math.isnan(ours) and math.isnan(want)), (text, x, y)


def test_grad_f_called_from_a_users_njit_loop():
    m = adcompile.compile(UDL, backend="numba")
    grad_f = m.grad_f

    @numba.njit
    def descend(point, steps, rate):
        for _ in range(steps):
            value, grad = grad_f(*point)
            point = (point[0] - rate * grad[0],) + point[1:]
        return point[0], value

    start = PARAMS + (2.3,)
    beta0, value = descend(start, 50, 0.01)
    python = list(start)
    for _ in range(50):
        value_py, grad = m.grad_f(*python)
        python[0] -= 0.01 * grad[0]
    assert beta0 == pytest.approx(python[0], rel=1e-12) and value == pytest.approx(value_py, rel=1e-12)


def test_domain_errors_give_nan_and_inf_as_numpy_does_with_no_exception():
    m = adcompile.compile("log(x) + 1/y", backend="numba")
    value, (dx, dy) = m.grad_f(-1.0, 0.0)
    assert math.isnan(value) and dx == -1.0 and dy == -math.inf
    m = adcompile.compile("sum(log(x))", backend="numba")
    value, (dx,) = m.grad_f(np.array([1.0, -1.0]))
    assert math.isnan(value) and dx[0] == 1.0 and dx[1] == -1.0


def test_a_branch_not_taken_is_not_computed_at_a_point_nor_in_the_loop():
    text = "where(x > 0, sqrt(x), 0)"
    m = adcompile.compile(text, backend="numba")
    assert m.grad_f(0.0) == (0.0, (0.0,)) and m.grad_f(4.0) == (2.0, (0.25,))
    value, (dx,) = m.grad_f_points(np.array([-1.0, 0.0, 0.25, 4.0]))
    assert value.tolist() == [0.0, 0.0, 0.5, 2.0] and dx.tolist() == [0.0, 0.0, 1.0, 0.25]
    loss = adcompile.compile("sum(where(x > a, log(x - a), -x))", backend="numba", wrt="a")
    value, (da,) = loss.grad_f(0.5, np.array([-2.0, 1.0, 3.0]))
    assert value == pytest.approx(2.0 + math.log(0.5) + math.log(2.5), rel=1e-14)
    assert da == pytest.approx(-1 / 0.5 - 1 / 2.5, rel=1e-14)


# --- data: one fused loop ---
def _data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)


def test_the_udl_loss_over_data_agrees_with_the_numpy_backend():
    fused = adcompile.compile(LOSS, name="loss", backend="numba", wrt=WRT)
    arrays = adcompile.compile(LOSS, name="loss", backend="numpy", wrt=WRT)
    x, y = _data(100_000)
    value, grad = fused.grad_loss(*PARAMS, x, y)
    want_value, want_grad = arrays.grad_loss(*PARAMS, x, y)
    assert isinstance(value, float) and value == pytest.approx(want_value, rel=1e-11)
    assert all(isinstance(g, float) for g in grad)
    assert np.allclose(grad, want_grad, rtol=1e-11, atol=0)
    assert fused.loss(*PARAMS, x, y) == pytest.approx(want_value, rel=1e-11)


def test_derivatives_in_data_arguments_have_their_shape():
    fused = adcompile.compile(LOSS, name="loss", backend="numba")
    arrays = adcompile.compile(LOSS, name="loss", backend="numpy")
    x, y = _data(12)
    x, y = x.reshape(3, 4), y.reshape(3, 4)
    value, grad = fused.grad_loss(*PARAMS, x, y)
    want_value, want_grad = arrays.grad_loss(*PARAMS, x, y)
    assert grad[-1].shape == (3, 4) and grad[-2].shape == (3, 4)
    for ours, want in zip(grad, want_grad):
        assert np.allclose(ours, want, rtol=1e-12, atol=1e-15)


def test_all_scalars_is_one_point():
    fused = adcompile.compile(LOSS, name="loss", backend="numba")
    point = PARAMS + (2.3, 2.0)
    value, grad = fused.grad_loss(*point)
    want_value, want_grad = adcompile.compile(LOSS.replace("sum", ""), name="loss").grad_loss(*point)
    assert value == pytest.approx(want_value, rel=1e-13)
    assert grad == pytest.approx(want_grad, rel=1e-12)


REDUCTIONS = [
    "mean((a*x + b - y)**2) + a**2",  # mean, and a term outside the sum
    "sqrt(sum((x - mean(x))**2)) * a + b*sum(y)",  # a sum inside a sum: two passes
    "sum(where(x > a, (x - a)**2, log(1 + a - x))) / sum(y*y + b)",  # a branch; a quotient
    "log(sum(exp(a*x + b*y)))",  # a function of a sum
]


@pytest.mark.parametrize("text", REDUCTIONS)
def test_reductions_agree_with_the_numpy_backend(text):
    fused = adcompile.compile(text, backend="numba")
    arrays = adcompile.compile(text, backend="numpy")
    x, y = _data(501, seed=len(text))
    for args in ((0.3, -0.7, x, y), (0.3, -0.7, 0.25, y), (np.full(501, 0.3), -0.7, x, y)):
        with np.errstate(all="ignore"):  # sqrt at 0 (x a scalar): inf and nan, as numpy's
            want = arrays.grad_f(*args)
        _assert_same(fused.grad_f(*args), want)


@pytest.mark.parametrize("text", REDUCTIONS[1:3])
def test_hessians_and_hvps_through_reductions_agree_with_the_numpy_backend(text):
    fused = adcompile.compile(text, backend="numba", hessian=True, hvp=True, wrt="a,b")
    arrays = adcompile.compile(text, backend="numpy", hessian=True, hvp=True, wrt="a,b")
    x, y = _data(501, seed=len(text))
    for args in ((0.3, -0.7, x, y), (0.3, -0.7, 0.25, y)):
        _assert_same(fused.hessian_f(*args), arrays.hessian_f(*args))
        _assert_same(fused.hvp_f(*args, 1.0, 0.5), arrays.hvp_f(*args, 1.0, 0.5))


def _assert_same(ours, want):
    stack = [(ours, want)]
    while stack:
        a, b = stack.pop()
        if isinstance(b, tuple):
            assert isinstance(a, tuple) and len(a) == len(b)
            stack += list(zip(a, b))
            continue
        assert np.shape(a) == np.shape(b)
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


def test_vector_arguments_with_data_on_the_trailing_axes():
    text = "sum((w[0]*x + w[1]*x**2 + w[2] - y)**2)"
    fused = adcompile.compile(text, backend="numba", shapes={"w": 3}, wrt="w")
    arrays = adcompile.compile(text, backend="numpy", shapes={"w": 3}, wrt="w")
    x, y = _data(300)
    w = np.array([0.5, -0.25, 0.125])
    value, grad = fused.grad_f(w, x, y)
    want_value, want_grad = arrays.grad_f(w, x, y)
    assert value == pytest.approx(want_value, rel=1e-12)
    assert isinstance(grad, np.ndarray) and grad.shape == (3,)
    assert np.allclose(grad, want_grad, rtol=1e-12)


def test_arrays_of_different_shapes_are_refused_with_a_message():
    fused = adcompile.compile("sum(x*y)", backend="numba")
    with pytest.raises(ValueError, match=r"argument 2 has shape \(3,\), another \(4,\)"):
        fused.grad_f(np.ones(4), np.ones(3))


def test_the_sum_is_the_same_from_run_to_run():
    fused = adcompile.compile(LOSS, name="loss", backend="numba", wrt=WRT)
    x, y = _data(200_001, seed=3)
    first = fused.grad_loss(*PARAMS, x, y)
    assert all(fused.grad_loss(*PARAMS, x, y) == first for _ in range(5))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(branches=True))
def test_random_programs_agree_with_math_at_points_and_numpy_over_arrays(text):
    scalar = adcompile.compile(text)
    fused = adcompile.compile(text, backend="numba")
    arrays = adcompile.compile(text, backend="numpy")
    rng = np.random.default_rng(len(text))
    points = rng.uniform(-2.5, 2.5, size=(len(scalar.ARGS), 5))
    with np.errstate(all="ignore"):
        want_value, want_grad = arrays.grad_f(*points)
        value, grad = fused.grad_f_points(*points)
    _assert_same((value, grad), (want_value, want_grad))
    for k in range(points.shape[1]):
        point = [float(p) for p in points[:, k]]
        try:
            want = scalar.grad_f(*point)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue  # outside the domain: math raises where numba gives nan or inf
        _assert_same(fused.grad_f(*point), want)


@pytest.mark.parametrize("text", [LOSS, UDL, REDUCTIONS[1], "where(x != 0, 0, 0.0)", "cbrt(x)*relu(y)"])
def test_black_leaves_numba_modules_unchanged(text):
    black = pytest.importorskip("black")
    for options in ({}, {"hessian": True}, {"jvp": True, "hvp": True}):
        source = adcompile.compile(text, backend="numba", **options).source
        assert black.format_str(source, mode=black.Mode()) == source, (text, options)


REDUCED_TEMPLATES = ["sum({a})", "sum({a}) * {b}", "mean({a}) + sum({a} * {b})",
                     "sum({a} - mean({b})) * sum({b})", "sum({a}) - sum({a})"]


@settings(max_examples=int(os.environ.get("NUMBA_REDUCED_EXAMPLES", "8")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(max_steps=8), expressions(max_steps=8), st.sampled_from(REDUCED_TEMPLATES))
def test_random_reduced_programs_agree_with_the_numpy_backend(a, b, template):
    text = template.format(a=f"({a})", b=f"({b})")
    fused = adcompile.compile(text, backend="numba", hessian=True)
    arrays = adcompile.compile(text, backend="numpy", hessian=True)
    rng = np.random.default_rng(len(text))
    values = [rng.uniform(-2.5, 2.5, 7) if k % 2 else float(rng.uniform(-2.5, 2.5))
              for k in range(len(fused.ARGS))]
    with np.errstate(all="ignore"):
        want = arrays.hessian_f(*values)
    _assert_same(fused.hessian_f(*values), want)


# --- numba's cache, the CLI and the check ---
def test_a_second_process_finds_numbas_cache(tmp_path):
    script = textwrap.dedent(f"""
        import json, adcompile
        m = adcompile.compile({LOSS!r}, name="loss", backend="numba")
        m.grad_loss(*([0.5] * 10))
        m.loss_points if hasattr(m, "loss_points") else None
        stats = m.grad_loss.__wrapped__ if hasattr(m.grad_loss, "__wrapped__") else None
        loop = m.module._grad_loss_loop
        print(json.dumps({{"hits": sum(loop.stats.cache_hits.values()),
                          "misses": sum(loop.stats.cache_misses.values())}}))
    """)
    env = dict(os.environ, ADCOMPILE_CACHE_DIR=str(tmp_path))
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                      capture_output=True, text=True).stdout) for _ in range(2)]
    assert runs[0] == {"hits": 0, "misses": 1}
    assert runs[1] == {"hits": 1, "misses": 0}


def test_cli_writes_a_numba_module_that_imports_and_runs(tmp_path, capsys):
    out = tmp_path / "udl_numba.py"
    assert main([LOSS, "--backend", "numba", "--name", "loss", "-o", str(out)]) == 0
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import udl_numba; " \
             f"print(udl_numba.grad_loss(*([0.5] * 10))[0])"
    result = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert float(result.stdout) == pytest.approx(adcompile.compile(LOSS.replace("sum", "")).f(*([0.5] * 10)))


def test_without_numba_the_module_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numba" else real(name, *a))
    m = adcompile.compile("x*y", backend="numba")
    assert "@numba.njit" in m.source  # writing the module needs no numba
    with pytest.raises(adcompile.CompileError, match=r"pip install 'adcompile\[numba\]'"):
        m.grad_f(1.0, 2.0)


def test_a_vector_argument_of_the_wrong_length_is_named_in_the_message():
    m = adcompile.compile("w[0] + w[1]*x + w[2]*x**2", backend="numba", shapes={"w": 3})
    assert m.grad_f(np.array([1.0, 2.0, 3.0]), 2.0) == (17.0, ([1.0, 2.0, 4.0], 14.0))
    with pytest.raises(ValueError, match=r"w must have shape 3 \(SHAPES\)"):
        m.grad_f(np.array([1.0, 2.0]), 2.0)
    # more axes than declared: once computed elementwise, with the derivative a list of arrays
    with pytest.raises(ValueError, match=r"w must have shape 3 \(SHAPES\)"):
        m.grad_f(np.ones((3, 2)), 2.0)
    grid = adcompile.compile("W[0, 0]*W[1, 1] - W[0, 1]", backend="numba", shapes={"W": (2, 2)})
    assert grid.grad_f(np.array([[2.0, 3.0], [5.0, 7.0]])) == (11.0, [[7.0, -1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"W must have shape 2x2 \(SHAPES\)"):
        grid.grad_f(np.ones((2, 2, 3)))


def test_the_fused_loop_refuses_what_is_not_numbers():
    # a trial found None read as nan, text as its number, and a masked array without its mask
    m = adcompile.compile("sum((a*x - y)**2)", backend="numba", wrt="a")
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])
    assert m.grad_f(2.0, x, y) == (1.0, (-6.0,))  # by hand: residuals 0, 0, -1; 2*(-1)*3
    for bad in (None, "2.0", [1.0, None, 3.0]):
        with pytest.raises(TypeError, match="argument 1 is not a number or an array of numbers"):
            m.grad_f(bad, x, y)
    with pytest.raises(TypeError, match="argument 2 is a masked array"):
        m.grad_f(2.0, np.ma.masked_array(x, mask=[0, 0, 1]), y)
    assert m.grad_f(True, x.astype(np.float32), [2, 4, 7]) == m.grad_f(1.0, x, y)  # numbers


def test_a_cache_folder_that_cannot_be_made_is_a_compile_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ADCOMPILE_CACHE_DIR", str(blocker / "cache"))
    m = adcompile.compile("sin(x)*y", backend="numba")
    with pytest.raises(adcompile.CompileError, match="ADCOMPILE_CACHE_DIR"):
        m.f(1.0, 2.0)


def test_the_math_backend_points_reductions_to_numpy_and_numba():
    with pytest.raises(adcompile.CompileError, match=r"needs backend='numpy' or backend='numba'"):
        adcompile.compile("sum(x)")


def test_check_passes_for_the_numba_backend(capsys):
    assert main(["check", "sum(where(x > a, log(x - a + 1), x*a)**2) + a", "--backend", "numba"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("check (numba backend): sum(") and "PASS" in out
    assert main(["check", "x*a"]) == 0
    assert capsys.readouterr().out.startswith("check: x*a")  # the math backend: the default


def test_a_loop_with_nothing_to_compute_per_point_is_not_marked_parallel():
    # numba warned "parallel=True was specified but no transformation ... was possible"
    import warnings

    m = adcompile.compile("2.5", backend="numba")
    assert "parallel=True" not in m.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.f_points() == 2.5 and m.grad_f_points() == (2.5, ())
