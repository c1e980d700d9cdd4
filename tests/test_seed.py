"""The seed tutorial's two worked examples, as generated code.

Expected numbers are the ones printed in ../shared/seed/README.md (to 3
decimals), and SymPy's (to 1e-12 relative).
"""

from __future__ import annotations

import pytest
import sympy as sp
from support import F0, F1, F2, F3, H1, H2, H3, LOSS, POINT, SEED_FORWARD, SEED_GRADIENT, close, reference

import adcompile

# dl/d(node): the loss with that node as a free variable, differentiated there.
SEED_ADJOINTS = {
    "f3": ("(f3 - y)**2", 0.745),
    "h3": ("(beta3 + omega3*h3 - y)**2", 2.234),
    "f2": ("(beta3 + omega3*cos(f2) - y)**2", -1.683),
    "h2": ("(beta3 + omega3*cos(beta2 + omega2*h2) - y)**2", -3.366),
    "f1": ("(beta3 + omega3*cos(beta2 + omega2*exp(f1)) - y)**2", -17.060),
    "h1": ("(beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*h1)) - y)**2", 6.824),
    "f0": ("(beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(f0))) - y)**2", 2.281),
}


def sympy_loss():
    s = {k: sp.Symbol(k, real=True) for k in POINT}
    f = s["beta3"] + s["omega3"] * sp.cos(s["beta2"] + s["omega2"] * sp.exp(
        s["beta1"] + s["omega1"] * sp.sin(s["beta0"] + s["omega0"] * s["x"])))
    return (f - s["y"]) ** 2, s


def intermediates() -> dict[str, float]:
    """The seed's forward values, for evaluating the adjoint sub-problems."""
    values = {}
    for name, text in zip(["f0", "h1", "f1", "h2", "f2", "h3", "f3"], [F0, H1, F1, H2, F2, H3, F3]):
        m = adcompile.compile(text)
        values[name] = m.f(**{k: POINT[k] for k in m.ARGS})
    return values


@pytest.mark.parametrize("text", list(SEED_FORWARD), ids=["f0", "h1", "f1", "h2", "f2", "h3", "f3", "loss"])
def test_forward_values_match_the_seed_table(text):
    m = adcompile.compile(text)
    value = m.f(**{k: POINT[k] for k in m.ARGS})
    assert round(value, 3) == SEED_FORWARD[text]


@pytest.mark.parametrize("node", list(SEED_ADJOINTS))
def test_backward_adjoints_match_the_seed_table(node):
    text, expected = SEED_ADJOINTS[node]
    m = adcompile.compile(text, wrt=node)
    values = {**POINT, **intermediates()}
    _, (adjoint,) = m.grad_f(**{k: values[k] for k in m.ARGS})
    assert round(adjoint, 3) == expected


def test_udl_loss_gradient_matches_the_seed_and_sympy():
    m = adcompile.compile(LOSS, name="loss")
    value, gradient = m.grad_loss(**POINT)
    loss, s = sympy_loss()
    symbols = [s[k] for k in m.ARGS]
    point = [POINT[k] for k in m.ARGS]
    assert close(value, reference(loss, symbols, point))
    by_name = dict(zip(m.WRT, gradient))
    for name, seed_value in SEED_GRADIENT.items():
        assert round(by_name[name], 3) == seed_value, name
        assert close(by_name[name], reference(sp.diff(loss, s[name]), symbols, point)), name


def test_omega0_matches_the_seeds_finite_difference():
    m = adcompile.compile(LOSS)
    h = 1e-5
    bumped = dict(POINT, omega0=POINT["omega0"] + h)
    fd = (m.f(**bumped) - m.f(**POINT)) / h
    _, gradient = m.grad_f(**POINT)
    assert round(dict(zip(m.WRT, gradient))["omega0"], 3) == round(fd, 3) == 5.246


def test_second_example_accumulates_a_shared_node():
    m = adcompile.compile("x1*x2 + x2*4.3 + 30")
    value, (d_x1, d_x2) = m.grad_f(x1=2.0, x2=3.0)
    assert value == pytest.approx(2 * 3 + 3 * 4.3 + 30)
    assert d_x1 == 3.0
    assert d_x2 == pytest.approx(6.3, rel=1e-15)


def test_udl_module_from_the_issue_command(tmp_path):
    """The issue's own example: grad_f of the model, called with keywords."""
    text = "beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x)))"
    m = adcompile.compile(text, name="f")
    point = {k: v for k, v in POINT.items() if k != "y"}
    value, gradient = m.grad_f(**point)
    assert round(value, 3) == 2.372
    report = adcompile.check(text)
    assert report.ok, str(report)
