"""The numpy backend: elementwise semantics, reductions, and dask arrays."""

from __future__ import annotations

import ast
import random

import numpy as np
import pytest
import sympy as sp
from support import MATH_OPS, X, Y, close, reference, text_for

import adcompile
from adcompile.verify.reference import for_real_arguments
from adcompile.cli import main

UDL = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"
PARAMS = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4,
              omega2=2.0, omega3=3.0)


def random_arrays(op, n=20):
    rng = random.Random(op.name)
    return [np.array([rng.uniform(*box) for _ in range(n)]) for box in op.domain]


@pytest.mark.parametrize("op", MATH_OPS, ids=lambda op: op.name)
def test_every_op_elementwise_over_arrays_matches_sympy(op):
    symbols = [X, Y][: op.arity]
    m = adcompile.compile(text_for(op), args="x,y"[: 2 * op.arity - 1], backend="numpy")
    expr = for_real_arguments(op.sympy(*symbols))
    derivatives = [sp.diff(expr, s) for s in symbols]
    arrays = random_arrays(op)
    value, grad = m.grad_f(*arrays)
    assert np.array_equal(value, m.f(*arrays))
    assert np.shape(value) == arrays[0].shape
    assert [np.shape(g) for g in grad] == [arrays[0].shape] * len(grad), "the broadcast shape"
    for k in range(len(arrays[0])):
        point = [float(a[k]) for a in arrays]
        assert close(float(value[k]), reference(expr, symbols, point))
        for g, d in zip(grad, derivatives):
            assert close(float(g[k]), reference(d, symbols, point), rel=1e-11), (op.name, point)


def test_module_imports_only_numpy():
    m = adcompile.compile("sigmoid(x) + softplus(y) + erf(x*y) + relu(x)", backend="numpy")
    tree = ast.parse(m.source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"numpy", "math"}
    x = np.linspace(-3, 3, 7)
    assert np.allclose(m.f(x, 0.5), [adcompile.compile("sigmoid(x) + softplus(y) + erf(x*y) + relu(x)").f(
        float(v), 0.5) for v in x], rtol=1e-14)


def test_no_reduction_gives_elementwise_derivatives_like_vmap_grad():
    m = adcompile.compile(UDL, backend="numpy")
    scalar = adcompile.compile(UDL)
    x = np.linspace(0.0, 3.0, 11)
    value, grad = m.grad_f(x=x, **PARAMS)
    assert [np.shape(g) for g in grad] == [x.shape] * len(grad)
    for k, xk in enumerate(x):
        v, g = scalar.grad_f(x=float(xk), **PARAMS)
        assert close(float(value[k]), v)
        for ours, want in zip(grad, g):
            assert close(float(ours[k]), want)


def test_sum_reduction_gives_the_true_gradient_with_broadcast_scalars():
    m = adcompile.compile(f"sum(({UDL} - y)**2)", backend="numpy", name="loss")
    scalar = adcompile.compile(f"({UDL} - y)**2", name="loss")
    x = np.linspace(0.0, 3.0, 50)
    y = np.cos(x)
    value, grad = m.grad_loss(x=x, y=y, **PARAMS)
    per_point = [scalar.grad_loss(x=float(a), y=float(b), **PARAMS) for a, b in zip(x, y)]
    assert close(value, sum(v for v, _ in per_point), rel=1e-12)
    for i, name in enumerate(m.WRT):
        if name in PARAMS:
            assert np.ndim(grad[i]) == 0
            assert close(float(grad[i]), sum(g[i] for _, g in per_point), rel=1e-11)
        else:
            assert np.shape(grad[i]) == x.shape
            assert np.allclose(grad[i], [g[i] for _, g in per_point], rtol=1e-12)


def test_mean_is_sum_over_size():
    s = adcompile.compile("sum(w * x**2 + b)", backend="numpy")
    m = adcompile.compile("mean(w * x**2 + b)", backend="numpy")
    x = np.arange(1.0, 9.0)
    vs, gs = s.grad_f(b=0.5, w=2.0, x=x)
    vm, gm = m.grad_f(b=0.5, w=2.0, x=x)
    assert close(vm, vs / 8)
    for a, b in zip(gm, gs):
        assert np.allclose(a, np.asarray(b) / 8, rtol=1e-14)
    assert gm[0] == 1.0  # d mean / d b


def test_array_parameters_get_gradients_of_their_own_shape():
    m = adcompile.compile("sum((W * x + c - y)**2) + sum(W**2)", backend="numpy", args="W,c,x,y")
    rng = np.random.default_rng(0)
    W, c = rng.normal(size=(3, 1)), rng.normal(size=(1, 4))
    x, y = rng.normal(size=4), rng.normal(size=(3, 4))
    value, (dW, dc, dx, dy) = m.grad_f(W, c, x, y)
    r = W * x + c - y
    assert close(value, np.sum(r**2) + np.sum(W**2))
    assert dW.shape == (3, 1) and np.allclose(dW, np.sum(2 * r * x, axis=1, keepdims=True) + 2 * W)
    assert dc.shape == (1, 4) and np.allclose(dc, np.sum(2 * r, axis=0, keepdims=True))
    assert dx.shape == (4,) and np.allclose(dx, np.sum(2 * r * W, axis=0))
    assert dy.shape == (3, 4) and np.allclose(dy, -2 * r)


def test_a_scalar_used_inside_and_outside_the_sum():
    m = adcompile.compile("s = exp(b); sum(x * s) + s", backend="numpy", args="b,x")
    x = np.arange(1.0, 6.0)
    value, (db, dx) = m.grad_f(0.3, x)
    assert close(db, np.exp(0.3) * (np.sum(x) + 1.0))
    assert np.allclose(dx, np.full(5, np.exp(0.3)))


def test_unused_argument_gets_zeros_of_its_shape():
    m = adcompile.compile("sum(x)", backend="numpy", args="x,z")
    _, (dx, dz) = m.grad_f(np.ones(3), np.ones((2, 2)))
    assert np.array_equal(dx, np.ones(3)) and np.array_equal(dz, np.zeros((2, 2)))


def test_math_backend_refuses_reductions_and_points_to_numpy(capsys):
    with pytest.raises(adcompile.CompileError, match="needs backend='numpy'") as info:
        adcompile.compile("sum(x**2)")
    assert "--backend" not in str(info.value)  # the Python API names its keyword, not the flag
    assert main(["sum(x**2)"]) == 2
    assert "needs --backend numpy" in capsys.readouterr().err


def test_domain_errors_follow_numpy_with_nan_and_a_warning():
    m = adcompile.compile("log(x)", backend="numpy")
    with pytest.warns(RuntimeWarning):
        value = m.f(np.array([-1.0, 1.0]))
    assert np.isnan(value[0]) and value[1] == 0.0
    with pytest.raises(ValueError):
        adcompile.compile("log(x)").f(-1.0)


def test_dask_arrays_on_a_local_cluster_of_two_worker_processes():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    m = adcompile.compile(f"sum(({UDL} - y)**2)", backend="numpy", name="loss")
    x_np = np.linspace(0.0, 3.0, 40_000)
    y_np = np.sin(x_np)
    expected_value, expected_grad = m.grad_loss(x=x_np, y=y_np, **PARAMS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        x, y = da.from_array(x_np, chunks=10_000), da.from_array(y_np, chunks=10_000)
        value, grad = m.grad_loss(x=x, y=y, **PARAMS)
        assert isinstance(value, da.Array)  # lazy until computed
        value, grad = da.compute(value, grad)[0], da.compute(*grad)
    assert close(float(value), float(expected_value), rel=1e-12)
    for ours, want in zip(grad, expected_grad):
        assert np.allclose(ours, want, rtol=1e-11)


def test_a_scalar_added_inside_a_sum_counts_once_per_element():
    m = adcompile.compile("sum(x + b)", backend="numpy", args="b,x")
    value, (db, dx) = m.grad_f(2.0, np.arange(5.0))
    assert value == 20.0 and db == 5.0 and np.array_equal(dx, np.ones(5))


def test_sum_to_over_a_region_larger_than_the_adjoint():
    from adcompile.runtime.numpy_backend import _sum_to

    c = np.zeros((1, 4))
    assert np.array_equal(_sum_to(np.ones((1, 4)), c, np.zeros((3, 4))), np.full((1, 4), 3.0))
    assert np.array_equal(_sum_to(2.0, c, np.zeros((3, 4))), np.full((1, 4), 6.0))
    assert _sum_to(2.0, 0.5, np.zeros(5)) == 10.0
    assert np.array_equal(_sum_to(np.ones((3, 4)), np.zeros((3, 1)), 1.0), np.full((3, 1), 4.0))


def test_two_sums_over_data_of_different_lengths_share_a_parameter():
    m = adcompile.compile("s = exp(b); sum(x * s) + sum(z * s) + mean(z + b)", backend="numpy",
                          args="b,x,z")
    x, z = np.arange(1.0, 4.0), np.arange(1.0, 6.0)
    value, (db, dx, dz) = m.grad_f(0.2, x, z)
    e = np.exp(0.2)
    assert close(db, e * (x.sum() + z.sum()) + 1.0)
    assert np.allclose(dx, np.full(3, e)) and np.allclose(dz, np.full(5, e + 1 / 5))


@pytest.mark.parametrize("text", ["sum(x * exp(-y) + sigmoid(x*y))", "log(1 + x*x) * erf(y)",
                                  "r1 = x*y; r2 = hypot(x, y); r1, r2"])
def test_check_agrees_for_the_numpy_backend_too(text):
    report = adcompile.check(text, backend="numpy", points=6, jvp=True)
    assert report.ok, str(report)


def test_long_step_names_freed_together_still_give_valid_black_stable_code():
    import black

    a, b = "a" * 40, "b" * 40
    m = adcompile.compile(f"{a} = sin(x); {b} = cos(x); c = {a}*{b}; c + 1", backend="numpy",
                          format=False)
    assert black.format_str(m.source, mode=black.Mode()) == m.source
    value, (d,) = m.grad_f(0.3)
    assert close(value, np.sin(0.3) * np.cos(0.3) + 1) and close(d, np.cos(0.6))


def test_constants_that_do_not_fold_follow_numpy_not_python_floats():
    # Found by the long profile: 3/0 stayed as Python floats in the numpy module and raised
    # ZeroDivisionError, where arrays give inf (as the math backend raises, by design)
    module = adcompile.compile("x + 3/0 + (-8)**0.5", backend="numpy")
    with np.errstate(all="ignore"):
        value, (d_x,) = module.grad_f(np.array([1.0, 2.0]))
    assert np.isnan(value).all() and np.array_equal(d_x, [1.0, 1.0])
    with np.errstate(all="ignore"):
        value = adcompile.compile("x + 3/0", backend="numpy").f(np.array([1.0, -1.0]))
    assert np.isposinf(value).all()
    with pytest.raises(ZeroDivisionError):
        adcompile.compile("x + 3/0").grad_f(1.0)


@pytest.mark.parametrize("text, expected", [
    ("3*x + w", ([1.0, 1.0, 1.0], [3.0, 3.0, 3.0])),  # constants
    ("x*w", ([0.0, 1.0, 2.0], [2.0, 2.0, 2.0])),  # d/dx is w itself, a scalar
    ("x + 0*w", ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])),  # a structural zero
])
def test_elementwise_derivatives_have_the_broadcast_shape_even_when_constant(text, expected):
    # Issue 14 (1): a constant derivative, or one that equals an input, came back as a
    # Python float, so np.sum(d) and np.stack gave wrong answers or failed
    m = adcompile.compile(text, backend="numpy", args="w,x", hessian=True, jvp=True, hvp=True)
    x = np.arange(3.0)
    value, grad = m.grad_f(w=2.0, x=x)
    for got, want in zip(grad, expected):
        assert isinstance(got, np.ndarray) and got.shape == (3,) and np.array_equal(got, want)
    _, _, hessian = m.hessian_f(2.0, x)
    assert all(np.shape(h) == (3,) for row in hessian for h in row)
    assert np.shape(m.jvp_f(2.0, x, 1.0, 0.0)[1]) == (3,)
    assert all(np.shape(h) == (3,) for h in m.hvp_f(2.0, x, 1.0, 0.0)[2])


def test_elementwise_derivatives_broadcast_over_every_argument_and_on_dask():
    da = pytest.importorskip("dask.array")
    m = adcompile.compile({"a": "w*x", "b": "y + 1"}, backend="numpy", args="w,x,y")
    x, y = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    _, jacobian = m.jacobian_f(2.0, x, y)
    assert [np.shape(d) for row in jacobian for d in row] == [(3, 4)] * 6
    assert np.array_equal(jacobian[0][1], np.full((3, 4), 2.0))
    _, (d_w, d_x, d_y) = adcompile.compile("w*x + y", backend="numpy").grad_f(
        2.0, da.from_array(np.arange(4.0), chunks=2), 1.0)
    assert isinstance(d_y, da.Array) and np.array_equal(d_y.compute(), np.ones(4))


def test_numpy_backend_divides_python_floats_as_numpy_does():
    # Issue 14 (10): x/y at y = 0 raised ZeroDivisionError for Python floats, where the
    # README promises inf with a RuntimeWarning on the numpy backend
    m = adcompile.compile("x/y + x**-1", backend="numpy")
    with pytest.warns(RuntimeWarning):
        assert m.f(1.0, 0.0) == np.inf
    with pytest.warns(RuntimeWarning):
        value, (d_x, d_y) = m.grad_f(0.0, 0.0)
    assert np.isnan(value) and np.isnan(d_x)  # 0/0 + 0**-1; 1/0 - 0**-2
    with pytest.raises(ZeroDivisionError):
        adcompile.compile("x/y").f(1.0, 0.0)


def test_mean_on_dask_arrays_gives_no_future_warning():
    # Issue 14 (10): np.size on a dask array warned that Dask does not implement it
    da = pytest.importorskip("dask.array")
    import warnings

    m = adcompile.compile("mean(w*x**2)", backend="numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, (d_w, d_x) = m.grad_f(2.0, da.from_array(np.arange(4.0), chunks=2))
        value, d_w, d_x = da.compute(value, d_w, d_x)
    assert close(float(value), 7.0) and close(float(d_w), 3.5)
    assert np.allclose(d_x, np.arange(4.0))


@pytest.mark.parametrize("text", ["w*w*sum(x)", "sum(x*w*w)", "sum(x)*exp(w)", "sum(x*x)*w*w",
                                  "w*w*mean(x)", "mean(x + w)*w", "sum(x + w)*w"])
def test_jvp_and_hvp_through_a_reduction_match_finite_differences(text):
    # Found by trying the project as a new user: forward mode passed a reduction's tangent
    # on unsummed, so jvp_ of a sum was an array and hvp_ was len(x) times too large
    m = adcompile.compile(text, backend="numpy", args="w,x", jvp=True, hvp=True)
    x, w, v_w, v_x, h = np.arange(5.0), 0.5, 0.7, np.linspace(-1.0, 1.0, 5), 1e-6
    up, down = (w + h * v_w, x + h * v_x), (w - h * v_w, x - h * v_x)
    value, jv = m.jvp_f(w, x, v_w, v_x)
    assert np.ndim(jv) == 0 and close(float(jv), (m.f(*up) - m.f(*down)) / (2 * h), rel=1e-6)
    _, gradient, hv = m.hvp_f(w, x, v_w, v_x)
    for got, g_up, g_down in zip(hv, m.grad_f(*up)[1], m.grad_f(*down)[1]):
        want = (np.asarray(g_up) - np.asarray(g_down)) / (2 * h)
        assert np.shape(got) == np.shape(want) and np.allclose(got, want, rtol=1e-6, atol=1e-6)


def test_hessian_over_data_for_scalar_parameters_is_exact():
    m = adcompile.compile("sum((w*x + b - y)**2)", backend="numpy", args="b,w,x,y", wrt="b,w",
                          hessian=True)
    x, y = np.linspace(0.0, 2.0, 7), np.cos(np.linspace(0.0, 2.0, 7))
    _, _, hessian = m.hessian_f(0.3, 1.2, x, y)
    want = ((2.0 * 7, 2.0 * x.sum()), (2.0 * x.sum(), 2.0 * (x * x).sum()))
    assert np.allclose(np.array(hessian, dtype=float), want, rtol=1e-14)
