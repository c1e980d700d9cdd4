"""Tracing Python functions: NumPy calls, parameters, mistakes, and the names of what is traced."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from support import close

import adcompile
from adcompile.codegen.backends import NUMPY
from adcompile.codegen.spellings import Call
from adcompile.cli import main
from adcompile.ir.ops import OPS

XS = np.array([0.5, -1.25, 2.0, 3.5])
YS = np.array([1.0, 0.25, -2.0, 3.0])


# --- NumPy on traced values: the matching op, or a refusal; never the identity ---
def np_sum_loss(x, y):
    return np.sum((x - y) ** 2)


def np_mean_loss(x, y):
    return np.mean((x - y) ** 2)


def test_np_sum_is_the_reduction_on_the_numpy_backend():
    m = adcompile.compile(np_sum_loss, backend="numpy")
    value, (dx, dy) = m.grad_np_sum_loss(XS, YS)
    assert np.ndim(value) == 0 and close(value, sum((a - b) ** 2 for a, b in zip(XS, YS)))
    assert np.allclose(dx, 2 * (XS - YS), rtol=1e-15) and np.allclose(dy, -2 * (XS - YS), rtol=1e-15)


def test_np_mean_is_the_reduction_on_the_numpy_backend():
    m = adcompile.compile(np_mean_loss, backend="numpy")
    value, (dx, dy) = m.grad_np_mean_loss(XS, YS)
    assert np.ndim(value) == 0 and close(value, sum((a - b) ** 2 for a, b in zip(XS, YS)) / 4)
    assert np.allclose(dx, (XS - YS) / 2, rtol=1e-15) and np.allclose(dy, -(XS - YS) / 2, rtol=1e-15)


@pytest.mark.parametrize("fn", [np_sum_loss, np_mean_loss, lambda x: np.sum(x) * 2])
def test_np_sum_and_mean_on_the_math_backend_are_refused_pointing_to_numpy(fn):
    with pytest.raises(adcompile.CompileError, match="needs backend='numpy'"):
        adcompile.compile(fn)


def ufuncs(x, y):
    return (np.exp(x) * np.arccos(y) + np.maximum(x, y) - np.minimum(x, 0.25)
            + np.abs(np.negative(x)) + np.arctan2(y, x) + np.hypot(x, y) + np.power(y, 3)
            + np.float64(2.0) * np.tanh(x) + np.sqrt(np.add(np.multiply(x, x), 1.0)))


def ufuncs_by_hand(x, y):
    return (math.exp(x) * math.acos(y) + max(x, y) - min(x, 0.25) + abs(-x) + math.atan2(y, x)
            + math.hypot(x, y) + y**3 + 2.0 * math.tanh(x) + math.sqrt(x * x + 1.0))


def test_numpy_ufuncs_are_the_matching_ops():
    m = adcompile.compile(ufuncs)
    for x, y in [(0.3, 0.7), (-1.2, -0.4), (2.0, 0.1)]:
        assert close(m.ufuncs(x, y), ufuncs_by_hand(x, y))
    assert adcompile.check(ufuncs).ok  # the gradient against SymPy's


def _ufunc_ops():
    for op in OPS.values():
        spelled = NUMPY.spelling(op)
        ufunc = getattr(np, spelled.function, None) if isinstance(spelled, Call) else None
        if op.language and isinstance(ufunc, np.ufunc):
            yield op


@pytest.mark.parametrize("op", list(_ufunc_ops()), ids=lambda op: op.name)
def test_every_op_the_numpy_backend_prints_as_a_ufunc_traces_from_that_ufunc(op):
    ufunc = getattr(np, NUMPY.spelling(op).function)
    traced = adcompile.compile(lambda x, y: ufunc(*[x, y][: op.arity]), name="f", args="x,y")
    text = adcompile.compile(f"{op.name}({', '.join('xy'[: op.arity])})", args="x,y")
    body = lambda m: m.source[m.source.index("ARGS = "):]  # noqa: E731
    assert body(traced) == body(text)


@pytest.mark.parametrize("fn, words", [
    # (np.array(x), np.atleast_1d(x), np.sum([x, x]) and np.ones(3) * x are arrays of traced
    # values now: tests/test_vectors_trace.py)
    (lambda x: np.floor(x), ["np.floor()", "not supported", "adcompile.sin"]),
    (lambda x: np.clip(x, 0, 1), ["numpy.clip cannot be traced", "not supported"]),
    (lambda x: np.add.reduce(x), ["np.add.reduce()", "not supported"]),
    (lambda x: np.sum(x, axis=0), ["np.sum()", "no axis"]),
])
def test_other_numpy_calls_are_refused_with_what_works(fn, words):
    with pytest.raises(adcompile.TracingError) as info:
        adcompile.compile(fn, backend="numpy")
    for word in words:
        assert word in str(info.value)


# --- parameters: what is traced, what is a constant ---
def power_loss(w, x, n):
    return (w * x) ** n


def test_a_functools_partial_keyword_is_a_constant():
    m = adcompile.compile(functools.partial(power_loss, n=3))
    assert m.ARGS == ("w", "x") and m.name == "power_loss"
    value, (dw, dx) = m.grad_power_loss(2.0, 1.5)
    assert value == 27.0 and dw == 3 * 3.0**2 * 1.5 and dx == 3 * 3.0**2 * 2.0
    assert "through functools.partial" in m.source and " at 0x" not in m.source


def scaled_sum(a, n, b):
    return a * n + b


def test_parameters_after_a_partial_keyword_stay_arguments():
    # the signature of partial(scaled_sum, n=3) is (a, *, n=3, b): b is keyword-only, no default
    m = adcompile.compile(functools.partial(scaled_sum, n=3))
    assert m.ARGS == ("a", "b")
    assert m.grad_scaled_sum(2.0, 1.0) == (7.0, (3.0, 1.0))


def keyword_default(a, *, n=3):
    return a**n


def keyword_required(a, *, b):
    return a * b


def positional_default(a, b=2.0):
    return a * b


@pytest.mark.parametrize("fn, args, point, value, grad", [
    (keyword_default, ("a",), (2.0,), 8.0, (12.0,)),  # d(a^3) = 3a^2
    (keyword_required, ("a", "b"), (2.0, 5.0), 10.0, (5.0, 2.0)),
    (positional_default, ("a", "b"), (2.0, 5.0), 10.0, (5.0, 2.0)),
])
def test_keyword_only_defaults_are_constants_and_the_rest_are_arguments(fn, args, point, value, grad):
    m = adcompile.compile(fn)
    assert m.ARGS == args
    assert getattr(m, "grad_" + fn.__name__)(*point) == (value, grad)


def test_a_callable_object_is_named_by_its_class_not_its_address():
    class Model:
        def __call__(self, x):
            return x * x

    m = adcompile.compile(Model())
    assert m.name == "f" and " at 0x" not in m.source and "Model object" in m.source


# --- mistakes with traced values: a TracingError that says what to do, and where ---
def uses_round(x):
    return round(x) * 2


@pytest.mark.parametrize("fn, words", [
    (uses_round, ["round()", "no useful derivative", "in uses_round", "test_tracing.py:"]),
    (lambda x: x[0], ["Indexing", "single number", "shapes={'x': 3}"]),
    (lambda x: [a for a in x][0], ["Iterating", "declare its shape"]),
    (lambda x: sum(x), ["Iterating"]),
    (lambda x, y: max(x, y), ["adcompile.max(a, b)", "builtins max() and min()"]),
    (lambda x, y: min(x, y), ["adcompile.min"]),
    (lambda x: [1.0, 2.0][x], ["index", "Python integers"]),
    (lambda x: list(range(x))[0], ["count", "Python integers"]),
    (lambda x, y: x @ y, ["@", "use *"]),
    (lambda x: x // 2, ["//", "use /"]),
    (lambda x: x % 2, ["%"]),
    (lambda x: len(x), ["len()", "single number"]),
    (lambda x: x ^ 2, ["x**2"]),
    (lambda x: x & 1, ["bitwise"]),
    (lambda x: math.floor(x), ["math.floor()"]),
    (lambda x: x + "1", ["a str", "only numbers and traced values"]),
    (lambda x: x(2.0), ["not callable", "single number"]),
    (lambda x: x.shape, ["has no attribute 'shape'", "single number"]),
    (lambda x: f"{x:.3f}", ["Formatting", "'.3f'"]),
    (lambda x: adcompile.sin(x, x), ["sin() takes 1 argument, got 2"]),
])
def test_a_mistake_with_a_traced_value_is_a_tracing_error_saying_what_to_do(fn, words):
    with pytest.raises(adcompile.TracingError) as info:
        adcompile.compile(fn)
    for word in words:
        assert word in str(info.value)


def test_indexing_with_a_traced_value_does_not_suggest_max_or_relu():
    with pytest.raises(adcompile.TracingError) as info:
        adcompile.compile(lambda i: [1.0, 2.0][i])
    assert "max" not in str(info.value) and "relu" not in str(info.value)


def test_the_users_own_type_error_stays_theirs():
    def buggy(x):
        return len(3) * x

    with pytest.raises(TypeError) as info:
        adcompile.compile(buggy)
    assert not isinstance(info.value, adcompile.TracingError)


def test_op_functions_on_numbers_keep_plain_type_errors():
    with pytest.raises(TypeError) as info:
        adcompile.sin(1.0, 2.0)
    assert not isinstance(info.value, adcompile.TracingError)


# --- names: private ones, helpers, and how the API and the CLI spell options ---
def _loss(a, b):
    return (a - b) ** 2


def test_a_private_function_name_compiles():
    m = adcompile.compile(_loss)
    assert m.name == "_loss"
    assert m._loss(3.0, 1.0) == 4.0 and m.grad__loss(3.0, 1.0) == (4.0, (4.0, -4.0))


def test_a_function_named_like_a_helper_leaves_the_helper_another_name():
    m = adcompile.compile("relu(x)", name="_relu")
    assert m._relu(-1.5) == 0.0 and m._relu(2.5) == 2.5
    assert m.grad__relu(2.5) == (2.5, (1.0,)) and m.grad__relu(-1.5) == (0.0, (0.0,))
    assert "def _relu(x):" in m.source and "def _relu_1(" in m.source


def test_a_function_named_sum_to_on_the_numpy_backend():
    m = adcompile.compile("sum(a * x)", name="_sum_to", backend="numpy", args="a,x")
    value, (da, dx) = m.grad__sum_to(2.0, XS)
    assert close(value, 2.0 * sum(XS)) and close(da, sum(XS)) and np.array_equal(dx, np.full(4, 2.0))


@pytest.mark.parametrize("name", ["__name__", "__getattr__", "OUTPUTS", "JACOBIAN_NONZERO", "np"])
def test_names_python_or_the_module_already_gives_a_meaning_are_refused(name):
    with pytest.raises(adcompile.CompileError, match="would clash"):
        adcompile.compile({"r1": "x*y", "r2": "x + y"}, name=name)


def test_a_function_whose_own_name_the_module_cannot_use_is_named_f():
    def args_like(x):
        return x * x

    args_like.__name__ = "ARGS"
    assert adcompile.compile(args_like).name == "f"


def test_gradient_decorator_takes_a_name():
    @adcompile.gradient(name="g")
    def energy(x, y):
        return x * x * y

    assert energy(2.0, 0.5) == (2.0, (2.0, 4.0))
    assert energy.module.name == "g" and "def grad_g(x, y):" in energy.module.source

    @adcompile.gradient
    def _private(x):
        return 3.0 * x

    assert _private(1.0) == (3.0, (3.0,)) and _private.module.name == "_private"


def test_gradient_decorator_takes_wrt_and_a_backend():
    @adcompile.gradient(wrt="a,b", backend="numpy")
    def loss(a, b, x, y):
        return np.sum((a * x + b - y) ** 2)

    x, y = np.linspace(0.0, 1.0, 50), np.cos(np.arange(50.0))
    r = 0.7 * x - 0.2 - y
    value, (da, db) = loss(0.7, -0.2, x, y)  # by hand: d/da = sum(2 r x), d/db = sum(2 r)
    assert close(value, np.sum(r * r)) and close(da, np.sum(2 * r * x)) and close(db, np.sum(2 * r))
    assert loss.module.WRT == ("a", "b") and "import numpy as np" in loss.module.source


API_AND_CLI_MISTAKES = [
    # (Python keywords, command-line arguments, the API's words, the CLI's words)
    (dict(name="class"), ["--name", "class"], "name='class' is a Python keyword",
     "--name class is a Python keyword"),
    (dict(wrt="y"), ["--wrt", "y"], "wrt= names 'y', which is not an argument",
     "--wrt names 'y', which is not an argument"),
    (dict(wrt="x,x"), ["--wrt", "x,x"], "wrt= lists 'x' more than once",
     "--wrt lists 'x' more than once"),
    (dict(args="x,x"), ["--args", "x,x"], "args= lists x more than once",
     "--args lists x more than once"),
    (dict(args="1a"), ["--args", "1a"], "args= lists '1a', which is not a valid name",
     "--args lists '1a', which is not a valid name"),
]


@pytest.mark.parametrize("keywords, argv, api_words, cli_words", API_AND_CLI_MISTAKES)
def test_the_api_names_its_keywords_and_the_cli_its_flags(capsys, keywords, argv, api_words, cli_words):
    with pytest.raises(adcompile.CompileError) as info:
        adcompile.compile("x", **keywords)
    assert api_words in str(info.value) and "--" not in str(info.value)
    assert main(["x"] + argv) == 2
    assert cli_words in capsys.readouterr().err


def test_the_api_missing_args_message_names_the_keyword():
    with pytest.raises(adcompile.CompileError, match="the expression uses y, which args= does not list"):
        adcompile.compile("x*y", args="x")
    with pytest.raises(adcompile.CompileError, match="hessian= and hvp= need a single output"):
        adcompile.compile("r1 = x; r2 = y; r1, r2", hessian=True)


# --- found by trying the project as a new user -------------------------------------------

def test_gradient_of_a_function_with_several_outputs_says_to_use_the_jacobian():
    def two(x, y):
        return x * y, x + y

    with pytest.raises(adcompile.CompileError, match="Jacobian, not a gradient"):
        adcompile.gradient(two)


def test_getsource_of_a_decorated_gradient_shows_the_generated_code():
    import inspect

    @adcompile.gradient
    def energy(x, y):
        return x * x * y

    source = inspect.getsource(energy)
    assert source.startswith("def grad_energy(x, y):") and source in energy.module.source
    assert energy.traced(2.0, 3.0) == 12.0


def test_a_number_too_large_for_a_double_is_a_tracing_error():
    def huge(x):
        return x * 10**400

    with pytest.raises(adcompile.TracingError, match="401 digits is too large for a double"):
        adcompile.compile(huge)
