"""Higher order and several outputs: Hessians, HVP, JVP, Jacobians and VJP."""

from __future__ import annotations

import random

import pytest
import sympy as sp
from support import MATH_OPS, X, Y, close, reference, text_for

import adcompile
from adcompile.verify.reference import for_real_arguments
from adcompile.cli import main


@pytest.mark.parametrize("op", MATH_OPS, ids=lambda op: op.name)
def test_every_ops_second_derivative_matches_sympy_hessian(op):
    symbols = [X, Y][: op.arity]
    module = adcompile.compile(text_for(op), args="x,y"[: 2 * op.arity - 1], hessian=True)
    expected = sp.hessian(for_real_arguments(op.sympy(*symbols)), symbols)
    rng = random.Random(op.name)
    for _ in range(5):
        point = [rng.uniform(*box) for box in op.domain]
        _, _, h = module.hessian_f(*point)
        for i in range(op.arity):
            for j in range(op.arity):
                want = reference(expected[i, j], symbols, point)
                assert close(h[i][j], want, rel=1e-10, floor=1e-10), (op.name, point, i, j)


SECOND_ORDER_HARD = [
    "abs(x*y - 0.3) * x", "relu(x - y) * y", "max(x*y, x + y)", "x ** y * y",
    "atan2(y, x) * x", "hypot(x, y) * x", "softplus(x * y)", "sigmoid(x - y*y)",
]


@pytest.mark.parametrize("text", SECOND_ORDER_HARD)
def test_check_agrees_on_hessian_hvp_and_jvp(text):
    report = adcompile.check(text, args="x,y", hessian=True, hvp=True, jvp=True, points=10)
    assert report.ok, str(report)


def test_hessian_is_exactly_symmetric_and_structural_zeros_are_literal():
    m = adcompile.compile("x**2*y + sin(z)", hessian=True)
    value, grad, h = m.hessian_f(1.3, -0.7, 0.4)
    assert all(h[i][j] == h[j][i] for i in range(3) for j in range(3))
    assert h[0][2] == h[1][1] == h[1][2] == 0.0
    assert m.HESSIAN_NONZERO == ((0, 0), (0, 1), (1, 0), (2, 2))
    body = m.source[m.source.index("def hessian_f"):]
    returned = body[body.index("return"):]
    assert "0.0" in returned  # zeros are written, not computed


def test_each_off_diagonal_entry_is_one_name():
    m = adcompile.compile("x*y*z + x*x*z", hessian=True)
    body = m.source[m.source.index("def hessian_f"):]
    ret = body[body.index("return"):]
    h = eval_names(ret)
    assert h[0][1] == h[1][0] and h[0][2] == h[2][0] and h[1][2] == h[2][1]


def eval_names(return_line: str):
    """The Hessian's entry names from ``return value, (...), ((...), ...)``."""
    import ast

    tree = ast.parse(return_line.strip().replace("\n", " "))
    hessian = tree.body[0].value.elts[2]
    return [[ast.unparse(e) for e in row.elts] for row in hessian.elts]


def test_hvp_costs_a_small_constant_times_f():
    h = "x"
    for i in range(40):
        h = f"{['sin', 'exp', 'cos', 'tanh'][i % 4]}(b{i} + w{i}*{h})"
    m = adcompile.compile(f"({h} - y)**2", hvp=True, format=False)
    source = m.source
    count = lambda name: source[source.index(f"def {name}("):].split("\n\n\n")[0].count(" = ")  # noqa
    # f, its gradient (about 2.4 f), and the tangents of both (2 to 3 ops per op):
    # about 7.6 f here, with no term growing with the number of parameters.
    assert count("hvp_f") <= 10 * count("f")


def test_jvp_is_one_forward_pass_along_v():
    m = adcompile.compile("x*y + sin(x)", jvp=True, one_step_per_line=True)
    value, dd = m.jvp_f(0.5, 2.0, 1.0, -1.0)
    assert close(dd, (2.0 + sympy_cos(0.5)) * 1.0 + 0.5 * -1.0)
    body = m.source[m.source.index("def jvp_f"):].splitlines()
    comments = [line.strip() for line in body if line.strip().startswith("#")]
    assert comments == ["# forward pass", "# forward-mode tangents along v"]
    tangents = body[body.index("    # forward-mode tangents along v") + 1: -1]
    # d(x*y) = y*v_x + x*v_y and d sin(x) = cos(x)*v_x, summed: six operations, no adjoints
    assert len(tangents) == 6 and not any("+=" in line for line in tangents), tangents


def sympy_cos(x):
    return float(sp.cos(x))


# --- several outputs ---
def test_program_tuple_gives_values_jacobian_and_vjp():
    m = adcompile.compile("r1 = x*y - 1; r2 = x + y**2; r1, r2", name="res")
    assert m.OUTPUTS == ("r1", "r2")
    assert m.res(2.0, 3.0) == (5.0, 11.0)
    values, jac = m.jacobian_res(2.0, 3.0)
    assert values == (5.0, 11.0) and jac == ((3.0, 2.0), (1.0, 6.0))
    values, vjp = m.vjp_res(2.0, 3.0, 1.0, -2.0)
    assert vjp == (3.0 - 2.0, 2.0 - 12.0)
    assert m.JACOBIAN_NONZERO == ((0, 0), (0, 1), (1, 0), (1, 1))


def test_dict_of_outputs_matches_sympy_jacobian():
    exprs = {"u": "exp(x) * cos(y)", "v": "x * y * z", "w": "log(1 + x*x) - z"}
    m = adcompile.compile(exprs, name="field")
    assert m.OUTPUTS == ("u", "v", "w") and m.ARGS == ("x", "y", "z")
    x, y, z = sp.symbols("x y z", real=True)
    matrix = sp.Matrix([sp.exp(x) * sp.cos(y), x * y * z, sp.log(1 + x * x) - z]).jacobian([x, y, z])
    point = [0.3, -1.1, 0.8]
    _, jac = m.jacobian_field(*point)
    for k in range(3):
        for i in range(3):
            assert close(jac[k][i], reference(matrix[k, i], [x, y, z], point), floor=1e-15)


def test_outputs_share_common_subexpressions():
    m = adcompile.compile({"a": "sin(x*y) + 1", "b": "sin(x*y) * 2"})
    body = m.source[m.source.index("def f("):].split("\n\n\n")[0]
    assert body.count("sin(") == 1


def test_check_covers_jacobian_vjp_jvp_and_their_identity():
    report = adcompile.check("r1 = x*y - exp(z); r2 = hypot(x, z) + y**3; r1, r2", jvp=True)
    assert report.ok, str(report)
    labels = [r.label for r in report.rows]
    assert "J[1][z]" in labels and "vjp[y]" in labels and "<c,J.v> - <J^T.c,v>" in labels


def test_a_wrong_jacobian_fails_the_check(monkeypatch):
    import adcompile.verify.check

    real = adcompile.verify.check.call_all

    def broken(*args, **kwargs):
        out = real(*args, **kwargs)
        values, jac = out["jacobian"]
        out["jacobian"] = (values, ((jac[0][0] * 1.001,) + jac[0][1:],) + jac[1:])
        return out

    monkeypatch.setattr(adcompile.verify.check, "call_all", broken)
    assert not adcompile.check("r1 = x*y; r2 = x + y; r1, r2").ok


def test_hessian_of_several_outputs_is_refused(capsys):
    assert main(["r1 = x; r2 = y; r1, r2", "--hessian"]) == 2
    assert "single output" in capsys.readouterr().err


def test_cli_writes_hessian_module(tmp_path, capsys):
    out = tmp_path / "h.py"
    assert main(["x**2*y + sin(z)", "--hessian", "-q", "-o", str(out)]) == 0
    text = out.read_text()
    assert "def hessian_f(x, y, z):" in text and "--hessian" in text
    assert main(["check", "x**2*y + sin(z)", "--hessian", "--hvp", "--jvp"]) == 0
    assert "d2/dxdy" in capsys.readouterr().out


def test_direction_parameters_never_clash_with_arguments():
    m = adcompile.compile("v_x * x", jvp=True, hvp=True)
    assert m.ARGS == ("v_x", "x")
    value, dd = m.jvp_f(2.0, 3.0, 1.0, 0.0)  # along v_x only
    assert dd == 3.0
