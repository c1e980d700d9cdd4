"""Random composite expressions, compiled and checked against SymPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from strategies import expressions, programs, vector_programs
from support import EXAMPLES, INFIX, LONG

import adcompile
import adcompile.verify.check
from adcompile.verify.deep import SymPyTimeout, run_deep


def profile(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def comparable(report) -> bool:
    """Something was compared (SymPy finished in time, and some points were valid).

    SymPy running out of time, or refusing an expression that is undefined
    everywhere (``max(x, 0/0)``: ValueError, TypeError), is a reason to skip a
    case; SymPy crashing (AttributeError, KeyError, MemoryError, ...) is a
    finding, so it fails the test.
    """
    skips = ("SymPyTimeout", "ValueError", "TypeError", "ZeroDivisionError", "RecursionError")
    crashed = [p for p in report.problems if "could not build" in p and not any(s in p for s in skips)]
    assert not crashed, f"{report.expression}\n{report}"
    return report.points > 0 and all(r.compared > 0 for r in report.rows)


@profile(EXAMPLES)
@given(expressions())
def test_random_expressions_agree_with_sympy(text):
    report = adcompile.check(text, points=4, timeout=5)
    assume(comparable(report))
    assert report.ok, f"{text}\n{report}"


@profile(max(EXAMPLES // 5, 50))
@given(programs())
def test_random_programs_agree_with_sympy(text):
    report = adcompile.check(text, points=4, timeout=5)
    assume(comparable(report))
    assert report.ok, f"{text}\n{report}"


@profile(max(EXAMPLES // 20, 25))
@given(expressions(max_steps=6))
def test_random_hessians_agree_with_sympy(text):
    report = adcompile.check(text, points=3, hessian=True, hvp=True, jvp=True, timeout=5)
    assume(comparable(report))
    assert report.ok, f"{text}\n{report}"


@profile(max(EXAMPLES // 10, 40))
@given(expressions(max_steps=10, branches=True))
def test_random_branches_agree_with_sympy(text):
    report = adcompile.check(text, points=4, timeout=5, hessian=True)
    assume(comparable(report))
    assert report.ok, f"{text}\n{report}"


@profile(max(EXAMPLES // 5, 50))
@given(expressions(branches=True))
# sin(z) is needed under z > 0.3 inside the outer condition and under its false branch: the
# test of its two paths would need the outer condition, which needs sin(z) (once a KeyError)
@example("where((0 < z < 2) or not (sin(where(z > 0.3, sin(z), 1.5)) >= -1), x * y, sin(z))")
@example("where(x > 0, log(x), 0) + where(x > 1, log(x), 0)")
def test_numpy_backend_agrees_with_math_backend_elementwise(text):
    scalar = adcompile.compile(text)
    vector = adcompile.compile(text, backend="numpy")
    rng = np.random.default_rng(len(text))
    points = rng.uniform(-2.5, 2.5, size=(len(scalar.ARGS), 16))
    with np.errstate(all="ignore"):
        value, grad = vector.grad_f(*points)
    for k in range(points.shape[1]):
        point = [float(p) for p in points[:, k]]
        try:
            want = flat(scalar.grad_f(*point))
            moved = flat(scalar.grad_f(*[p * (1 + 1e-10) for p in point]))
        except (ValueError, ZeroDivisionError, OverflowError):
            continue  # outside the domain: math raises where numpy gives nan or inf
        got = [np.broadcast_to(value, points.shape[1:])[k]]
        got += [np.broadcast_to(g, points.shape[1:])[k] for g in grad]
        scale = max([1.0] + [abs(w) for w in want if math.isfinite(w)])
        for ours, expected, near in zip(got, want, moved):
            # numpy's ufuncs and libm may differ by an ulp or a few.  As in the check, an
            # error is measured against the point's scale, since a cancellation
            # (1 - tanh(u)**2 for large u) makes a small quantity's relative error
            # meaningless, and 1e-11 of it allows those ulps in an intermediate of a few
            # hundred (sin(10**(3*tanh(u)))); where the function amplifies ulps of its
            # inputs (sin(1e5/(2 + tanh(x)))), allow what moving them by 1e-14 would
            allowed = 1e-11 * scale + 1e-4 * abs(near - expected)
            same = ours == expected or (np.isnan(ours) and np.isnan(expected))
            assert same or abs(ours - expected) <= allowed, (text, k)


def flat(result) -> list[float]:
    value, grad = result
    return [value, *grad]


# Cases the random search once found; each must keep passing.
REGRESSIONS = [
    "exp(tanh((x) / (y)))",  # 1 - tanh**2 near 0: needs the relative floor
    "log10(2 + cos(x)) + log2(2 + sin(x))",  # SymPy's log(x, b) unevaluated lost its base
    "(x) / (0) + x",  # SymPy's zoo cannot be lambdified
    "cbrt((x) / (2 + tanh(x)))",  # sign(u)*|u|**(1/3) left a Derivative SymPy cannot print
    "log(1 + sign(asinh(log(2 + sin(z), 3 + cos(z))))**2) + abs(log(2 + sin(z)))",  # Abs of u not known real
    "hypot(relu(x), x - x)",  # undefined at the origin: skipped, not failed
    "atan(y) / (2 + tanh(acos(0.9*tanh(y**2)))) - y / 2.5",  # SymPy printed y/(5/2) as y/5/2
    "a - y/2.5 - (-y/-0.3)",  # ... and y/(-(3/10)) likewise
    "atan(cos(softplus(y))) / cbrt(cbrt(exp(tanh(x))))",  # Piecewise cbrt crashed SymPy
    "log(1 + max(acosh(1.5 + x**2)**2, sign(sigmoid(3)))**2) / sqrt(1 + z**2)",  # sign of a number
    # Found by the long profile:
    "cosh(tanh(log(2 + sin(min(sign(max(x, x + x)), sin(x))), 3 + cos(softplus(sign(max(x, x + x)))"
    " / (log(2 + sin(-1.5), 3 + cos(-1.5)) - log(2 + sin(-1.5), 3 + cos(-1.5)))))))",  # zoo unprintable
    "log(2 + sin(x + x), 3 + cos(pow(2 + sin(-1.5), 1e5) - max(x, x + x)))",  # cos(1e108): rounding
    "s0 = y**2; s4 = log(1 + s0**2); s8 = x / s4; s13 = sin(s8); s13 + (x + x) * x",  # log(1 + tiny)
    "exp(tanh(0))",  # no variables: empty sums in the Hessian plan
    "sin(atan2(relu(x), relu(x)))",  # atan2(0, 0) for x < 0: mpmath gave 0, SymPy says undefined
    "(x) / (sigmoid(x))",  # SymPy's printer wrote x/(1/u) as x/1/u
    "s0 = (x) - (x); s1 = (y) + (z); s2 = (1 + (y)**2) ** tanh(y); s3 = (s2) / (z);"
    " s4 = pow(2 + sin(s1), s1); s5 = erfc(y); s6 = (s4) - (s3); s7 = sigmoid(s6);"
    " s8 = pow(2 + sin(s6), s2); s9 = (s7) ** 2; s10 = (1 + (s9)**2) ** tanh(s9);"
    " s11 = sigmoid(s9); s11 + s10 * x",  # sigmoid' as y*(1 - y) cancelled near 1
    "cbrt(relu(atan2(x, x)))",  # x < 0: cbrt'(0) is singular though SymPy's whole is 0
    "asinh(pow(2 + sin(x), 1e5))",  # asinh' as 1/sqrt(u*u + 1) was 0 where u*u overflows
    "(relu(relu(sin(1)))) * x",  # SymPy's Piecewise of a constant nested relu: KeyError
    "relu(relu(sin(x))) * x",  # ... and of a variable one: ZeroDivisionError, once skipped
    "sin(tan(0.5*tanh(atan2((sin((x) - (x))) * (x), x))))",  # atan2(-0.0, x < 0) = -pi
    "(atan2(erfc(sqrt(1 + (1e5)**2)), erfc(sqrt(1 + (1e5)**2)))) * x",  # erfc underflows: atan2(0, 0)
]

# ... and for the numpy backend against the math backend
NUMPY_REGRESSIONS = [
    "sin((1e5) / (2 + tanh(x)))",  # an ulp of numpy's tanh, amplified 1e5 times
    "sin((1 + (sqrt(1 + (1e5)**2))**2) ** tanh(x))",  # ... and 1e10**tanh(x)
    # Found by the long profile: 1 - tanh(u)**2 where tanh(u) is near -1 turns an ulp into
    # 1e-10 of a small derivative, which is 5e-15 of the point's scale
    "((1 + (acos(0.9*tanh((x) - ((x) ** 2))))**2) ** tanh(acos(0.9*tanh((x) - ((x) ** 2))))) ** 3",
    "sin(sin(sin(((1 + (3)**2) ** tanh(sqrt(1 + (cos(x))**2))) ** 3)))",  # ulps of pow, times 500
]


def test_numpy_regressions_found_by_the_random_search():
    for text in NUMPY_REGRESSIONS:
        test_numpy_backend_agrees_with_math_backend_elementwise.hypothesis.inner_test(text)


def test_nested_relu_no_longer_crashes_sympy():
    # Found by the long profile: SymPy's Piecewise for a nested relu, built unevaluated,
    # raised AttributeError ('Mul' object has no attribute 'p') inside SymPy
    report = adcompile.check("s3 = asin(0.9*tanh(x)); s5 = relu(s3); s8 = sin(s5); relu(s8) + x")
    assert report.ok, str(report)


# Regressions whose point is what the check skips, and why: nothing else can be compared.
SKIPPED_EVERYWHERE = {
    "(x) / (0) + x": "domain",  # undefined everywhere
    "cosh(tanh(log": "domain",  # a zoo inside: undefined everywhere
    "(atan2(erfc": "range",  # erfc(1e5) underflows to 0: atan2(0, 0) in doubles
    "log(2 + sin(x + x)": "conditioning",  # cos(1e108): too ill-conditioned for doubles
}


def _skipped_everywhere(text: str) -> str | None:
    return next((why for start, why in SKIPPED_EVERYWHERE.items() if text.startswith(start)), None)


@pytest.mark.parametrize("text", REGRESSIONS)
def test_regressions_found_by_the_random_search(text):
    report = adcompile.check(text, hessian=text == "exp(tanh(0))")
    why = _skipped_everywhere(text)
    if why is None:
        if text.startswith("hypot"):  # d/dx is skipped at the kink x - x = 0 ...
            assert not report.problems and report.rows[0].compared > 0, str(report)
            assert report.rows[0].worst_rel <= report.tolerance, str(report)
        else:
            assert report.ok, f"{text}\n{report}"
        return
    # nothing can be compared, for the reason given, and nothing compared disagrees
    assert not report.problems and all(r.compared == 0 for r in report.rows), str(report)
    skipped = {"domain": report.skipped_domain, "range": report.skipped_range,
               "conditioning": min(r.conditioning_skips for r in report.rows)}
    assert skipped[why] > 0, str(report)


@pytest.mark.parametrize("step, error", [
    ("Reference", ZeroDivisionError("integer division or modulo by zero")),
    ("to_sympy", AttributeError("'Mul' object has no attribute 'p'")),  # SymPy's own bugs too
])
def test_a_reference_sympy_cannot_build_fails_the_check_with_a_reason(monkeypatch, step, error):
    def broken(*args):
        raise error

    monkeypatch.setattr(adcompile.verify.check, step, broken)
    report = adcompile.check("x*y")
    assert not report.ok
    assert f"SymPy could not build a reference ({type(error).__name__}" in str(report)


def test_a_sympy_that_takes_too_long_fails_the_check_and_says_so():
    # 40 factors: slow for SymPy (about a minute for the Hessian) but shallow enough
    # that its recursion cannot fail first
    report = adcompile.check(" * ".join(f"sin(x + {k}*y)" for k in range(40)), hessian=True,
                             timeout=0.05)
    assert not report.ok and "SymPy did not finish within 0.05 s" in str(report)


def test_the_time_limit_fires_again_if_its_first_exception_is_lost():
    # Found by the long profile: the timeout landed in a garbage-collector callback, where
    # Python only reports an exception, and SymPy ran on until it ran out of memory
    lost = []

    def swallows_the_first():
        while True:
            try:
                while True:
                    pass
            except SymPyTimeout:
                lost.append(1)
                if len(lost) == 2:
                    raise

    with pytest.raises(SymPyTimeout):
        run_deep(swallows_the_first, 0.05)
    assert len(lost) == 2


def test_the_fuzz_strategies_cover_every_op_a_user_can_write():
    # Issue 14 (14): a new op row must not be left out of the differential fuzzing
    from strategies import BINARY, BRANCHES, UNARY

    from adcompile.ir.graph import Graph, reachable
    from adcompile.ir.ops import OPS_LIST
    from adcompile.frontend.text import parse

    covered = set()
    for template in UNARY + BINARY + BRANCHES:
        graph = Graph(fold=False, algebra=False)
        program = parse(template.format(*["x", "y"][: template.count("{}")]), graph)
        covered |= {n.op.name for n in reachable(program.outputs) if n.op is not None}
    writable = {op.name for op in OPS_LIST if op.language or op.name in INFIX}
    # sum and mean reduce arrays, which the numpy tests cover; the main fuzz compares
    # math-backend modules with SymPy, and the math backend refuses reductions
    assert writable - covered == {"sum", "mean"}, writable - covered


@profile(max(EXAMPLES // 10, 30))
@given(vector_programs(), st.sampled_from([{}, {"hessian": "sparse"}, {"hessian": True,
                                                                        "hvp": True}]))
def test_random_vector_programs_agree_with_sympy(case, options):
    text, shapes = case
    report = adcompile.check(text, shapes=shapes, points=3, timeout=5, **options)
    assume(comparable(report))
    assert report.ok, f"{text}\n{report}"
