"""Array arguments end to end: shapes=, --shape, results in the arguments' shapes, SciPy's
hand-written Rosenbrock derivatives as the reference, sparse Hessians and Jacobians, the numpy
backend's data axes, and the check against SymPy on element symbols."""

from __future__ import annotations

import random
import subprocess
import sys

import black
import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as ss

import adcompile
from adcompile.errors import CompileError

ROSEN = "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"


def _point(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-2.0, 2.0) for _ in range(n)]


@pytest.mark.parametrize("n", [2, 5, 12])
def test_rosenbrock_text_matches_scipy_hand_written_derivatives(n):
    m = adcompile.compile(ROSEN, "rosen", shapes={"x": n}, hessian=True)
    x = _point(n, n)
    value, gradient = m.grad_rosen(x)
    assert isinstance(gradient, list) and len(gradient) == n  # one array argument: the array itself
    assert value == pytest.approx(so.rosen(np.array(x)), rel=1e-12)
    np.testing.assert_allclose(gradient, so.rosen_der(np.array(x)), rtol=1e-12, atol=1e-9)
    _, _, hessian = m.hessian_rosen(x)
    np.testing.assert_allclose(np.array(hessian), so.rosen_hess(np.array(x)), rtol=1e-12, atol=1e-9)


def test_sparse_hessian_is_coo_of_the_nonzeros_and_matches_scipy():
    n = 30
    m = adcompile.compile(ROSEN, "rosen", shapes={"x": n}, hessian="sparse")
    x = np.array(_point(n, 3))
    value, gradient, (rows, cols, values) = m.hessian_rosen(x)
    assert len(values) == len(rows) == len(cols) == 3 * n - 2  # tridiagonal, both triangles
    assert list(zip(rows, cols)) == sorted(zip(rows, cols))  # row-major
    dense = ss.coo_matrix((values, (rows, cols)), shape=(n, n)).toarray()
    np.testing.assert_allclose(dense, so.rosen_hess(x), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(gradient, so.rosen_der(x), rtol=1e-12, atol=1e-9)
    # code size is O(nonzeros): doubling n about doubles it (a dense Hessian quadruples)
    double = adcompile.compile(ROSEN, "rosen", shapes={"x": 2 * n}, hessian="sparse")
    assert double.source.count("\n") < 2.1 * m.source.count("\n")


def test_numpy_array_argument_gives_python_floats_and_the_same_result():
    m = adcompile.compile(ROSEN, "rosen", shapes={"x": 4})
    x = _point(4, 1)
    from_list, from_array = m.grad_rosen(x), m.grad_rosen(np.array(x))
    assert from_list == from_array
    assert all(type(g) is float for g in from_array[1])  # no NumPy scalars in the math backend
    assert m.grad_rosen(tuple(x)) == from_list


def test_scipy_minimize_takes_the_gradient_function_directly():
    m = adcompile.compile(ROSEN, "rosen", shapes={"x": 5}, hessian=True)
    result = so.minimize(m.grad_rosen, np.full(5, -1.0), jac=True, method="BFGS")
    np.testing.assert_allclose(result.x, np.ones(5), atol=1e-4)
    newton = so.minimize(lambda x: m.rosen(x), np.full(5, 0.5), method="trust-exact",
                         jac=lambda x: m.grad_rosen(x)[1], hess=lambda x: m.hessian_rosen(x)[2])
    np.testing.assert_allclose(newton.x, np.ones(5), atol=1e-6)


def test_matrix_and_scalar_arguments_return_their_shapes():
    text = "sum(W[i, j] * x[j] for i in range(2) for j in range(3)) * b"
    m = adcompile.compile(text, shapes={"W": (2, 3), "x": 3}, args="W,x,b", hessian=True)
    W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    x, b = [0.3, -0.2, 0.9], 1.7
    value, (dW, dx, db) = m.grad_f(W, x, b)
    assert value == pytest.approx(b * sum(W[i][j] * x[j] for i in range(2) for j in range(3)))
    assert dW == [[b * x[j] for j in range(3)] for _ in range(2)]
    assert dx == pytest.approx([b * (W[0][j] + W[1][j]) for j in range(3)])
    assert db == pytest.approx(value / b)
    _, _, h = m.hessian_f(np.array(W), np.array(x), b)
    assert np.array(h).shape == (10, 10)  # over the flat WRT scalars: 6 + 3 + 1


def test_numpy_backend_returns_ndarrays_in_the_argument_shape():
    m = adcompile.compile(ROSEN, "rosen", shapes={"x": 6}, backend="numpy", hessian="sparse")
    x = np.array(_point(6, 2))
    value, gradient = m.grad_rosen(x)
    assert isinstance(gradient, np.ndarray) and gradient.shape == (6,)
    np.testing.assert_allclose(gradient, so.rosen_der(x), rtol=1e-12)
    _, _, (rows, cols, values) = m.hessian_rosen(x)
    dense = ss.coo_matrix((values, (rows, cols)), shape=(6, 6)).toarray()
    np.testing.assert_allclose(dense, so.rosen_hess(x), rtol=1e-12, atol=1e-9)


def test_numpy_data_axes_logistic_regression():
    """Declared shape = leading axes; the trailing axis is data (N points)."""
    text = "mean(softplus(-(y*(w[0]*X[0] + w[1]*X[1] + b))))"
    m = adcompile.compile(text, shapes={"w": 2, "X": 2}, args="w,b,X,y", wrt="w,b",
                          backend="numpy")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 50))
    y = np.sign(rng.normal(size=50))
    w, b = np.array([0.3, -0.7]), 0.2
    value, (dw, db) = m.grad_f(w, b, X, y)
    margin = y * (w @ X + b)
    assert value == pytest.approx(np.mean(np.logaddexp(0.0, -margin)), rel=1e-12)
    sigma = 1.0 / (1.0 + np.exp(margin))  # d softplus(-m)/dm = -sigmoid(-m)
    assert dw.shape == (2,)
    np.testing.assert_allclose(dw, np.mean(-sigma * y * X, axis=1), rtol=1e-12)
    assert db == pytest.approx(np.mean(-sigma * y), rel=1e-12)


def test_several_outputs_sparse_jacobian_matches_dense():
    text = "r1 = x[0]*x[1]; r2 = sin(x[2]) + x[0]; r1, r2"
    dense = adcompile.compile(text, shapes={"x": 3})
    sparse = adcompile.compile(text, shapes={"x": 3}, jacobian="sparse")
    x = [0.4, -1.2, 0.7]
    values, jacobian = dense.jacobian_f(x)
    svalues, (rows, cols, entries) = sparse.jacobian_f(x)
    assert tuple(values) == tuple(svalues)
    assert ss.coo_matrix((entries, (rows, cols)), shape=(2, 3)).toarray().tolist() == jacobian
    assert list(zip(rows, cols)) == [(0, 0), (0, 1), (1, 0), (1, 2)]


@pytest.mark.parametrize("options", [
    dict(hessian=True, jvp=True, hvp=True),
    dict(hessian="sparse", backend="numpy"),
])
def test_check_against_sympy_with_arrays(options):
    text = "sum(exp(x[i]) * W[i, j] * x[j] for i in range(2) for j in range(2)) + x[1]**3"
    report = adcompile.check(text, shapes={"x": 2, "W": (2, 2)}, points=8, **options)
    assert report.ok, str(report)
    assert "d/dW[1, 0]" in str(report)


def test_check_sees_a_wrong_array_gradient(monkeypatch):
    """The flat view reads what the module returns: a wrong element is a disagreement."""
    import adcompile.verify.flat_calls as flat

    original = flat.FlatCalls._per_wrt
    monkeypatch.setattr(flat.FlatCalls, "_per_wrt",
                        lambda self, part: [x * 1.001 for x in original(self, part)])
    report = adcompile.check("x[0] * x[1]", shapes={"x": 2}, points=4)
    assert report.status == "disagrees"


def test_generated_vector_code_is_black_stable():
    for options in (dict(shapes={"x": 40}, hessian="sparse"),
                    dict(shapes={"x": 3, "W": (3, 3)}, hessian=True, jvp=True, hvp=True),
                    dict(shapes={"x": 30}, backend="numpy", hessian=True)):
        text = "sum(x[i]*x[i+1] for i in range(len(x) - 1))" if "W" not in options["shapes"] \
            else "sum(W[i, j]*sin(x[j]) for i in range(3) for j in range(3))"
        source = adcompile.compile(text, format=False, **options).source
        assert black.format_str(source, mode=black.Mode()) == source


@pytest.mark.parametrize("shapes, message", [
    ({"x": 0}, "whole number >= 1"),
    ({"x": (2, -1)}, "whole number >= 1"),
    ({"x": "3"}, "whole number >= 1"),
    ({"x y": 3}, "not a valid name"),
    ([("x", 3)], "must map argument names"),
])
def test_bad_shapes_are_compile_errors(shapes, message):
    with pytest.raises(CompileError, match=message):
        adcompile.compile("x[0]", shapes=shapes)


def test_bad_layouts_are_compile_errors():
    with pytest.raises(CompileError, match="hessian="):
        adcompile.compile("x*y", hessian="diagonal")
    with pytest.raises(CompileError, match="jacobian="):
        adcompile.compile("x*y", jacobian=True)


def test_sympy_input_refuses_shapes():
    import sympy as sp

    with pytest.raises(CompileError, match="SymPy"):
        adcompile.compile(sp.Symbol("x") ** 2, shapes={"x": 2})


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "adcompile", *args], capture_output=True,
                          text=True, **kw)


def test_cli_shape_and_sparse_hessian(tmp_path):
    out = tmp_path / "rosen.py"
    run = _cli(ROSEN, "--shape", "x=8", "--name", "rosen", "--hessian=sparse", "-o", str(out))
    assert run.returncode == 0, run.stderr
    source = out.read_text()
    assert "--shape x=8" in source and "--hessian=sparse" in source  # the regenerate line
    namespace: dict = {}
    exec(compile(source, str(out), "exec"), namespace)
    x = np.array(_point(8, 5))
    _, gradient, (rows, cols, values) = namespace["hessian_rosen"](x)
    np.testing.assert_allclose(gradient, so.rosen_der(x), rtol=1e-12)
    dense = ss.coo_matrix((values, (rows, cols)), shape=(8, 8)).toarray()
    np.testing.assert_allclose(dense, so.rosen_hess(x), rtol=1e-12, atol=1e-9)


def test_cli_check_with_a_matrix_shape():
    run = _cli("check", "sum(W[i, j]*W[j, i] for i in range(2) for j in range(2))",
               "--shape", "W=2x2", "--hessian", "--points", "5")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout and "d/dW[1, 0]" in run.stdout


@pytest.mark.parametrize("bad", ["x", "x=", "x=0", "x=2y3", "=3", "x=3x"])
def test_cli_bad_shape_is_a_usage_error(bad):
    run = _cli("x[0]", "--shape", bad)
    assert run.returncode == 2 and "--shape" in run.stderr and "Traceback" not in run.stderr


def test_cli_hessian_flag_still_takes_no_value():
    run = _cli("--hessian", "x*y")  # the expression is not read as --hessian's value
    assert run.returncode == 0, run.stderr
    assert "def hessian_f(x, y):" in run.stdout


def test_scipy_rosen_traced_unmodified_matches_its_hand_written_derivatives():
    n = 9
    m = adcompile.compile(so.rosen, shapes={"x": n}, hessian="sparse")
    x = np.array(_point(n, 7))
    value, gradient, (rows, cols, values) = m.hessian_rosen(x)
    assert value == pytest.approx(so.rosen(x), rel=1e-12)
    np.testing.assert_allclose(gradient, so.rosen_der(x), rtol=1e-12, atol=1e-9)
    dense = ss.coo_matrix((values, (rows, cols)), shape=(n, n)).toarray()
    np.testing.assert_allclose(dense, so.rosen_hess(x), rtol=1e-12, atol=1e-9)


def _mlp(W1, b1, W2, b2, X, y):
    hidden = np.tanh(W1 @ X + b1[:, None])
    out = (W2 @ hidden)[0] + b2[0]
    return np.mean((out - y) ** 2)


def test_traced_numpy_mlp_fits_with_scipy_minimize():
    """A NumPy-written model (weight matrices, @, np.tanh), unchanged, through a flat
    parameter vector, fitted with scipy.optimize.minimize using the generated gradient."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(2, 12))
    y = np.sin(X[0]) * X[1]
    sizes = {"W1": (4, 2), "b1": (4,), "W2": (1, 4), "b2": (1,)}

    def loss(theta):
        parts, at = [], 0
        for shape in sizes.values():
            size = int(np.prod(shape))
            parts.append(theta[at: at + size].reshape(shape))
            at += size
        return _mlp(*parts, X, y)

    n = sum(int(np.prod(s)) for s in sizes.values())
    m = adcompile.compile(loss, shapes={"theta": n})
    theta0 = rng.normal(scale=0.5, size=n)
    value, gradient = m.grad_loss(theta0)
    assert value == pytest.approx(loss(theta0), rel=1e-12)
    step = 1e-6
    for k in range(0, n, 5):  # central differences of NumPy's own float evaluation
        e = np.zeros(n)
        e[k] = step
        assert gradient[k] == pytest.approx((loss(theta0 + e) - loss(theta0 - e)) / (2 * step),
                                            rel=1e-5, abs=1e-8)
    fit = so.minimize(m.grad_loss, theta0, jac=True, method="BFGS")
    assert fit.fun < 0.2 * loss(theta0)


def test_traced_logistic_regression_with_np_log_and_np_exp():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3, 40))
    y = (X[0] - X[2] > 0).astype(float)

    def nll(w):
        p = 1.0 / (1.0 + np.exp(-(w @ X)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.01 * np.sum(w ** 2)

    m = adcompile.compile(nll, shapes={"w": 3}, hessian=True)
    w = np.array([0.2, -0.1, 0.3])
    p = 1.0 / (1.0 + np.exp(-(w @ X)))
    value, gradient = m.grad_nll(w)
    assert value == pytest.approx(nll(w), rel=1e-12)
    np.testing.assert_allclose(gradient, X @ (p - y) / 40 + 0.02 * w, rtol=1e-10)
    _, _, hessian = m.hessian_nll(w)
    np.testing.assert_allclose(hessian, (X * (p * (1 - p))) @ X.T / 40 + 0.02 * np.eye(3),
                               rtol=1e-10)


def test_check_traced_numpy_functions_against_sympy():
    assert adcompile.check(so.rosen, shapes={"x": 4}, hessian="sparse", points=4).ok

    def layer(W, x):
        return np.sum(np.tanh(W @ x) ** 2) + np.arctan2(x[0], 2.0 + x[1] ** 2)

    report = adcompile.check(layer, shapes={"W": (2, 3), "x": 3}, points=4, hessian=True)
    assert report.ok, str(report)
    assert "d/dW[1, 2]" in str(report) and "d2/dW[0, 0]dx[2]" in str(report)


def test_numpy_elementwise_gradient_of_an_array_has_its_full_shape_in_linear_code():
    text = "sum(x[i]**2 * sin(y) for i in range(len(x)))"
    m = adcompile.compile(text, shapes={"x": 3}, backend="numpy")
    x = np.arange(12.0).reshape(3, 4) / 10  # 3 elements, each 4 data points
    y = np.linspace(0.1, 0.4, 4)
    value, (dx, dy) = m.grad_f(x, y)
    assert dx.shape == (3, 4) and dy.shape == (4,)
    np.testing.assert_allclose(dx, 2 * x * np.sin(y), rtol=1e-14)
    np.testing.assert_allclose(dy, np.sum(x**2, axis=0) * np.cos(y), rtol=1e-14)
    # each entry is widened once, not once per element it misses: linear in n
    lines = [adcompile.compile(text, shapes={"x": n}, backend="numpy", format=False)
             .source.count("\n") for n in (50, 100)]
    assert lines[1] < 2.2 * lines[0]


# --- found by trying it as a new user ---

def test_args_naming_a_vector_step_is_refused():
    with pytest.raises(CompileError, match="which the program assigns"):
        adcompile.compile("h = [x[j]*2 for j in range(2)]; h[0] + h[1]", args="h,x")


def test_a_declared_shape_the_expression_does_not_use_is_refused():
    with pytest.raises(CompileError, match=r"declares X, which the expression does not use "
                                           r"\(did you mean x\?\)"):
        adcompile.compile("x[0] * 2", shapes={"X": 3})
    m = adcompile.compile("x[0] * 2", shapes={"X": 3}, args="X,x")  # listed: an unused argument
    assert m.grad_f([1.0, 2.0, 3.0], [4.0]) == (8.0, ([0.0, 0.0, 0.0], [2.0]))


def test_a_huge_shape_is_refused_before_anything_is_built():
    with pytest.raises(CompileError, match="100,000,000 elements"):
        adcompile.compile("x[0]", shapes={"x": 10**8})


def test_integer_arrays_are_read_as_floats():
    m = adcompile.compile("x[0] / x[1]", shapes={"x": 2})
    value, gradient = m.grad_f(np.array([1, 2]))
    assert value == 0.5 and all(type(g) is float for g in gradient)


def test_traced_indexing_without_shapes_says_how_to_declare_one():
    def f(x):
        return x[0] * x[1]

    with pytest.raises(adcompile.TracingError, match=r"shapes=\{'x': 3\}"):
        adcompile.compile(f)


def test_explain_takes_shapes_and_array_elements_at_a_point():
    text = "h = [tanh(W[j, 0]*x[0] + b[j]) for j in range(2)]; (h[0] + h[-1] - y)**2"
    run = _cli("explain", text, "--shape", "b=2",
               "--at", "x=[1], y=2, b=[0.1, 0.2], W[0][0]=0.5, W[1,0]=-0.3")
    assert run.returncode == 0, run.stderr
    h = [np.tanh(0.5 + 0.1), np.tanh(-0.3 + 0.2)]
    d_b0 = 2 * (h[0] + h[1] - 2) * (1 - h[0] ** 2)
    row = next(line for line in run.stdout.splitlines() if line.startswith("b[0] "))
    assert row.split()[1] == f"{d_b0:.3f}"  # the gradient table: b[0], df/db[0], finite diff.
    bad = _cli("explain", "W[0, 0]*2", "--at", "W[0=1")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("argv, message", [
    (["x*y", "--hessian=spares"], "--hessian= takes dense or sparse, not 'spares'"),
    (["x[0]", "--shapes", "x=3"], "did you mean --shape?"),
    (["x[0]*2", "--wrt", "x[0]"], "an array argument is named whole: x"),
    # another command's option: said so, not "did you mean --shape" or the '-' hint
    (["check", "x*y", "--name", "g"], "--name is an option of adcompile, adcompile explain and "
                                      "adcompile graph, not of adcompile check"),
    (["check", "x*y", "-q"], "-q is an option of adcompile, not of adcompile check"),
    (["x*y", "--at", "x=1"], "--at is an option of adcompile explain and adcompile graph"),
])
def test_cli_messages_name_what_the_user_wrote(argv, message):
    run = _cli(*argv)
    assert run.returncode != 0 and message in run.stderr and "hessian-layout" not in run.stderr
