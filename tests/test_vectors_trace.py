"""Traced NumPy code as written (issue 16): array arguments arrive as arrays of traced values.

The oracle is NumPy itself: each function is traced with ``shapes=``, the Program's
outputs are evaluated at a random point with the graph's value rules, and compared
with the very same function called on float arrays.
"""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")

import adcompile  # noqa: E402
from adcompile.codegen.backends import NUMPY  # noqa: E402
from adcompile.codegen.spellings import Call  # noqa: E402
from adcompile.errors import CompileError  # noqa: E402
from adcompile.frontend.language import FUNCTIONS, NUMPY_ALIASES  # noqa: E402
from adcompile.frontend.program import element_name  # noqa: E402
from adcompile.frontend.text import parse  # noqa: E402
from adcompile.frontend.trace import trace, tracing_graph  # noqa: E402
from adcompile.frontend.traced_array import TracedArray, ufunc_rules  # noqa: E402
from adcompile.ir.graph import Graph, evaluate, reachable  # noqa: E402
from adcompile.ir.node import TracingError  # noqa: E402
from adcompile.ir.ops import OPS  # noqa: E402

RNG = np.random.default_rng(16)


def traced_outputs(fn, shapes: dict, values: dict, **flags) -> list[float]:
    """Trace ``fn`` with ``shapes`` and evaluate its outputs at ``values`` (floats or arrays)."""
    program = trace(fn, tracing_graph(**flags), shapes=shapes)
    point = {}
    for name, value in values.items():
        value = np.asarray(value, dtype=float)
        if name not in shapes:
            point[name] = float(value)
            continue
        for index in np.ndindex(value.shape):
            point[element_name(name, index)] = float(value[index])
    computed = evaluate(program.outputs, point)
    return [computed[node.id] for node in program.outputs]


def random_values(shapes: dict, scalars=(), low=-1.5, high=1.5) -> dict:
    values = {name: RNG.uniform(low, high, size=shape) for name, shape in shapes.items()}
    values.update({name: float(RNG.uniform(low, high)) for name in scalars})
    return values


def assert_matches_numpy(fn, shapes: dict, scalars=(), low=-1.5, high=1.5, rtol=1e-12):
    """The traced Program and NumPy on floats agree at three random points."""
    for _ in range(3):
        values = random_values(shapes, scalars, low, high)
        oracle = {name: np.copy(value) for name, value in values.items()}  # fn may assign into it
        expected = np.ravel(np.asarray(fn(**oracle), dtype=float))
        got = traced_outputs(fn, shapes, values)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-13)


# --- scipy's own rosen, unmodified ---
@pytest.mark.parametrize("n", [2, 3, 10, 200])
def test_scipy_rosen_traces_as_written(n):
    optimize = pytest.importorskip("scipy.optimize")
    assert_matches_numpy(lambda x: optimize.rosen(x), {"x": (n,)})
    program = trace(optimize.rosen, tracing_graph(), shapes={"x": (n,)})
    assert program.signature == ["x"] and program.shapes == {"x": (n,)}
    assert list(program.variables) == [f"x[{i}]" for i in range(n)]


def test_rosen_written_with_slices_traces_at_ten_thousand():
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)

    x = RNG.uniform(-2, 2, size=10_000)
    (value,) = traced_outputs(rosen, {"x": (10_000,)}, {"x": x})
    assert value == pytest.approx(rosen(x), rel=1e-12)


# --- models a user would write ---
def mlp(W1, b1, W2, b2, X, y):
    hidden = np.tanh(X @ W1.T + b1)
    prediction = hidden @ W2 + b2
    return np.mean((prediction - y) ** 2)


def logistic_regression(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_a_small_mlp_with_weight_matrices_and_matmul():
    shapes = {"W1": (4, 3), "b1": (4,), "W2": (4,), "X": (6, 3), "y": (6,)}
    assert_matches_numpy(mlp, shapes, scalars=["b2"])


def test_a_logistic_regression_with_log_and_exp():
    assert_matches_numpy(logistic_regression, {"w": (3,), "X": (8, 3), "y": (8,)}, scalars=["b"])


def test_data_may_stay_a_float_array_closed_over():
    X, y = RNG.normal(size=(5, 2)), RNG.normal(size=5)
    loss = lambda w: np.sum((X @ w - y) ** 2)  # noqa: E731
    assert_matches_numpy(loss, {"w": (2,)})


# --- what NumPy code does with arrays ---
ARRAY_CODE = {
    "slices": lambda x: np.sum(x[1:] - x[:-1] ** 2),
    "negative_index_and_step": lambda x: x[-1] * x[::2].sum(),
    "copy_then_assign": lambda x: _assigned(x.copy()),
    "assign_into_the_argument": lambda x: _assigned(x),
    "zeros_object": lambda x: _into_zeros(x),
    "np_array_of_list": lambda x: np.sum(np.tanh(np.array([x[0] * x[1], x[2]])) ** 2 + np.array([x[3], 2.0])),
    "list_comprehension": lambda x: sum([xi * xi for xi in x]) / len(x),
    "iteration": lambda x: _product(x),
    "broadcast_outer": lambda x: np.sum(x[:, None] * x[None, :] + 1.0),
    "transpose_and_matmul": lambda x: np.sum(x.reshape(2, 2).T @ x.reshape(2, 2)),
    "np_dot": lambda x: np.dot(x, x) + np.dot(np.arange(4.0), x),
    "matmul_operator": lambda x: x @ x,
    "np_mean": lambda x: np.mean(np.exp(x)),
    "method_mean_and_sum": lambda x: x.mean() * x.sum(),
    "atleast_1d_of_a_scalar": lambda x: np.atleast_1d(x[0] * 2.0)[0] + np.atleast_1d(x).sum(),
    "in_place": lambda x: _in_place(x.copy()),
    "concatenate_stack": lambda x: np.sum(np.concatenate([x, x[:2]]) * np.stack([x, x])[1, 0]),
    "cumsum_diff_outer": lambda x: np.sum(np.cumsum(x) * np.diff(np.outer(x, x), axis=0)[0, :]),
    "max_min_fold": lambda x: np.max(x) - x.min() + np.maximum(x, 0.5).sum(),
    "reshape_and_axis_sum": lambda x: np.sum(np.sum(x.reshape(2, 2) ** 2, axis=0) * np.arange(2.0)),
    "ufuncs_on_np_array_result": lambda x: np.sum(np.arccos(np.array([x[0], x[1]]) / 3.0)),
    "float_array_times_traced_scalar": lambda x: np.sum(np.ones(3) * x[0] + x[1] * np.arange(3.0)),
    "where_static": lambda x: np.sum(np.where([True, False, True, False], x, -x)),
    "prod_trace_einsum": lambda x: np.prod(x) + np.trace(np.outer(x, x)) + np.einsum("i,i->", x, x),
}


def _assigned(y):
    y[0] = y[1] * y[2]
    y[1:3] = [y[3], 2.0]
    return np.sum(y**2)


def _into_zeros(x):
    y = np.zeros(3, dtype=object)
    y[0] = x[0] * x[1]
    y[2] = np.sin(x[2])
    return np.sum(y) + y[1]


def _product(x):
    total = 1.0
    for xi in x:
        total = total * (1.0 + xi)
    return total


def _in_place(y):
    y += 1.0
    y[1:] *= y[:-1]
    y /= 2.0
    return np.sum(y)


@pytest.mark.parametrize("name", list(ARRAY_CODE))
def test_numpy_array_code_builds_the_scalar_graph(name):
    assert_matches_numpy(ARRAY_CODE[name], {"x": (4,)}, low=-0.9, high=0.9)


def test_an_array_argument_is_an_object_array_of_the_element_variables():
    seen = {}

    def look(x):
        seen["x"] = x
        return x[1, 0]

    program = trace(look, tracing_graph(), shapes={"x": (2, 3)})
    x = seen["x"]
    assert isinstance(x, TracedArray) and x.dtype == object and x.shape == (2, 3) and len(x) == 2
    names = [f"x[{i}, {j}]" for i in range(2) for j in range(3)]
    assert [node.value for node in x.ravel()] == names
    assert list(program.variables) == names  # unused elements too, row-major
    assert program.outputs[0] is program.variables["x[1, 0]"]


def test_scalar_and_array_parameters_mix_in_signature_order():
    program = trace(lambda a, x, *, b: a * x[0] + b, tracing_graph(), shapes={"x": 2})
    assert program.signature == ["a", "x", "b"]
    assert list(program.variables) == ["a", "x[0]", "x[1]", "b"]
    assert program.shapes == {"x": (2,)}


def test_a_shape_for_no_parameter_is_an_error():
    with pytest.raises(CompileError, match=r"shapes names 'z', which is not a traced parameter.*x"):
        trace(lambda x: x, tracing_graph(), shapes={"z": (3,)})


# --- ufuncs: every one that is an adcompile function, on arrays, against NumPy on floats ---
def _boxes(ufunc) -> tuple:
    """Per argument, a range where the op the ufunc builds is defined and smooth."""
    g = Graph(fold=False, algebra=False)
    args = [g.var(f"a{i}") for i in range(ufunc.nin)]
    built = ufunc_rules()[ufunc](g, args)
    if built.op is not None and len(built.op.domain) == ufunc.nin and list(built.args) == args:
        return built.op.domain
    return ((0.2, 0.9),) * ufunc.nin


@pytest.mark.parametrize("ufunc", list(ufunc_rules()), ids=lambda u: u.__name__)
def test_every_ufunc_that_is_an_adcompile_function_works_elementwise_on_arrays(ufunc):
    names = "xy"[: ufunc.nin]
    fn = (lambda x: ufunc(x)) if ufunc.nin == 1 else (lambda x, y: ufunc(x, y))
    for _ in range(3):
        values = {n: RNG.uniform(lo, hi, size=3) for n, (lo, hi) in zip(names, _boxes(ufunc))}
        got = traced_outputs(fn, {n: (3,) for n in names}, values)
        np.testing.assert_allclose(got, fn(**values), rtol=1e-13, atol=1e-15)


def test_the_ufunc_table_covers_every_op_the_numpy_backend_prints_as_a_ufunc():
    # the table it replaces: each language op printed as a NumPy ufunc of the same arity
    graph = tracing_graph()
    x, y = graph.var("x"), graph.var("y")
    for op in OPS.values():
        spelled = NUMPY.spelling(op)
        ufunc = getattr(np, spelled.function, None) if isinstance(spelled, Call) else None
        if op.language and isinstance(ufunc, np.ufunc) and ufunc.nin == op.arity:
            assert ufunc(*[x, y][: op.arity]) is graph(op.name, *[x, y][: op.arity])
    for ufunc, opname in [(np.add, "add"), (np.subtract, "sub"), (np.multiply, "mul"),
                          (np.divide, "div"), (np.power, "pow"), (np.arctan2, "atan2"),
                          (np.maximum, "max"), (np.hypot, "hypot"), (np.log1p, "log1p")]:
        assert ufunc(x, y) is graph(opname, x, y) if ufunc.nin == 2 else ufunc(x) is graph(opname, x)
    assert np.negative(x) is graph("neg", x) and np.abs(x) is graph("abs", x)
    assert np.exp2(x) is graph("pow", 2.0, x) and np.square(x) is graph("mul", x, x)


def test_scipy_special_ufuncs_that_are_adcompile_functions():
    special = pytest.importorskip("scipy.special")
    graph = tracing_graph()
    x = graph.var("x")
    assert special.expit(x) is graph("sigmoid", x) and special.erf(x) is graph("erf", x)
    assert_matches_numpy(lambda x: np.sum(special.expit(x) * special.erfc(x)), {"x": (3,)})


# --- np.sum / np.mean: a data-axis reduction on a scalar, a sum of elements on an array ---
def test_np_sum_of_a_traced_scalar_stays_the_languages_reduction():
    program = trace(lambda x: np.sum(x) + np.mean(x), tracing_graph())
    assert {n.op.name for n in reachable(program.outputs) if n.op} >= {"sum", "mean"}


def test_np_sum_of_a_traced_array_adds_its_elements():
    program = trace(lambda x: np.sum(x) + np.mean(x), tracing_graph(), shapes={"x": (3,)})
    opnames = {n.op.name for n in reachable(program.outputs) if n.op}
    assert "sum" not in opnames and "mean" not in opnames
    (value,) = traced_outputs(lambda x: np.sum(x) + np.mean(x), {"x": (3,)},
                              {"x": [1.0, 2.0, 4.5]})
    assert value == 7.5 + 7.5 / 3


def test_np_sum_of_a_list_of_traced_scalars_adds_them():
    program = trace(lambda a, b: np.sum([a, b, a]), tracing_graph())
    assert evaluate(program.outputs, {"a": 1.5, "b": 4.0})[program.outputs[0].id] == 7.0


# --- results ---
def test_an_array_result_gives_its_elements_as_outputs_row_major():
    fn = lambda W: W * 2.0 + 1.0  # noqa: E731
    W = RNG.normal(size=(2, 3))
    assert traced_outputs(fn, {"W": (2, 3)}, {"W": W}) == pytest.approx(list(np.ravel(fn(W))))


def test_a_zero_d_array_result_is_one_output_and_tuples_flatten():
    program = trace(lambda x: (np.array(x[0] * 3.0), x[1:] * 2.0), tracing_graph(),
                    shapes={"x": (3,)})
    assert len(program.outputs) == 3
    assert traced_outputs(lambda x: (np.array(x[0] * 3.0), x[1:] * 2.0), {"x": (3,)},
                          {"x": [1.0, 2.0, 3.0]}) == [3.0, 4.0, 6.0]


def test_a_dict_result_with_an_array_is_refused():
    with pytest.raises(CompileError, match="returned an array for 'v'"):
        trace(lambda x: {"v": x * 2.0}, tracing_graph(), shapes={"x": (2,)})


# --- refusals: named, with the user's line, never a raw TypeError or a silent identity ---
REFUSED = [
    (lambda x: np.linalg.det(x.reshape(2, 2)), "numpy.linalg.det cannot be traced"),
    (lambda x: np.linalg.inv(x.reshape(2, 2)).sum(), "numpy.linalg.inv cannot be traced"),
    (lambda x: np.sort(x)[0], "numpy.sort cannot be traced"),
    (lambda x: np.argsort(x)[0], "numpy.argsort cannot be traced"),
    (lambda x: np.clip(x, 0, 1).sum(), "numpy.clip cannot be traced"),
    (lambda x: np.linalg.norm(x), "numpy.linalg.norm cannot be traced"),
    (lambda x: np.median(x), "numpy.median cannot be traced"),
    (lambda x: np.floor(x).sum(), "np.floor() cannot be traced"),
    (lambda x: np.sum(x, dtype=float), "dtype="),
    (lambda x: np.linalg.det(np.array([[x[0], x[1]], [x[2], x[3]]])), "numpy.linalg.det"),
    (lambda x: np.sum(x > 0), "The operator + on a condition"),
    (lambda x: x[0] if x[1] > 0 else x[2], "adcompile.where(cond, a, b) (np.where in NumPy code)"),
    (lambda x: np.sum(np.isnan(x)), "np.isnan() cannot be traced"),
    (lambda x: x[0] if x else x[1], "Branching on"),
    (lambda x: _store_in_floats(x), "dtype=object"),
    (lambda x: np.sum(np.tanh(np.array([x[0], 2.0]))), "no callable tanh method"),
]


def _store_in_floats(x):
    y = np.zeros(4)
    y[0] = x[0]
    return y.sum()


@pytest.mark.parametrize("fn, words", REFUSED)
def test_numpy_functions_adcompile_cannot_unroll_are_refused_by_name(fn, words):
    with pytest.raises(TracingError) as info:
        trace(fn, tracing_graph(), shapes={"x": (4,)})
    message = str(info.value)
    assert words in message
    assert f"{__file__}:" in message  # the user's own line


def test_refusals_through_the_public_api():
    with pytest.raises(adcompile.TracingError, match="numpy.linalg.det cannot be traced"):
        adcompile.compile(lambda a, b: np.linalg.det(np.array([[a, b], [b, a]]) * np.eye(2)))


# --- NumPy's names are aliases, in the text language and as adcompile's functions ---
@pytest.mark.parametrize("alias", list(NUMPY_ALIASES))
def test_numpy_names_are_aliases_in_the_text_language(alias):
    target = NUMPY_ALIASES[alias]
    arity = OPS[target].arity
    args = ", ".join("xy"[:arity])
    graph = Graph()
    aliased = parse(f"{alias}({args})", graph).outputs[0]
    if target in FUNCTIONS:
        canonical = parse(f"{target}({args})", graph).outputs[0]
    else:
        canonical = graph(target, *[graph.var(n) for n in "xy"[:arity]])
    assert aliased is canonical


def test_alias_calls_say_their_own_name():
    with pytest.raises(adcompile.ParseError, match=r"arccos\(\) takes 1 argument"):
        parse("arccos(x, y)", Graph())


def test_numpy_names_are_adcompile_functions():
    assert adcompile.arccos(0.5) == math.acos(0.5)
    assert adcompile.arctan2(1.0, -2.0) == math.atan2(1.0, -2.0)
    assert adcompile.multiply(3.0, 2.5) == 7.5 and adcompile.maximum(1.0, 4.0, 2.0) == 4.0
    graph = tracing_graph()
    x = graph.var("x")
    assert adcompile.arccos(x) is graph("acos", x) and adcompile.negative(x) is graph("neg", x)


def test_compile_a_traced_function_using_numpy_names_end_to_end():
    module = adcompile.compile(lambda x, y: np.arctan2(y, x) * np.exp2(x) + np.square(y))
    value, (dx, dy) = module.grad_f(0.7, -0.3)
    assert value == pytest.approx(math.atan2(-0.3, 0.7) * 2**0.7 + 0.09, rel=1e-14)
    h = math.hypot(0.7, -0.3)
    expected_dx = 0.3 / h**2 * 2**0.7 + math.atan2(-0.3, 0.7) * 2**0.7 * math.log(2)
    assert dx == pytest.approx(expected_dx, rel=1e-13)
    assert dy == pytest.approx(0.7 / h**2 * 2**0.7 - 0.6, rel=1e-13)
