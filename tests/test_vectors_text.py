"""Vectors in the text language: indexing, len, sums over ranges, vector steps.

Each construct is parsed, its outputs are evaluated at a random point by the
graph's own value rules, and the result is compared with the same computation
written in plain Python (or SciPy's).  Every refusal is a caret error.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest
from scipy.optimize import rosen

from adcompile import ParseError
from adcompile.frontend.program import element_name
from adcompile.frontend.text import one_line_program, parse
from adcompile.ir.graph import Graph, evaluate


def point_for(shapes: dict[str, tuple[int, ...]], seed: int = 0, **scalars: float) -> dict:
    """Random values for every element of every array, plus the given scalars."""
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(-1.5, 1.5, size=shape) for name, shape in shapes.items()}
    point = dict(scalars)
    for name, array in values.items():
        for index in np.ndindex(array.shape):
            point[element_name(name, tuple(int(i) for i in index))] = float(array[index])
    return values | {"point": point}


def outputs_at(program, point: dict) -> list[float]:
    values = evaluate(program.outputs, point)
    return [values[o.id] for o in program.outputs]


def value_of(text: str, point: dict, shapes=None, graph=None) -> float:
    program = parse(text, graph, shapes=shapes)
    (result,) = outputs_at(program, point)
    return result


# --- values, against plain Python ---
@pytest.mark.parametrize("n", [2, 3, 7, 50])
def test_rosenbrock_sum_equals_scipy(n):
    data = point_for({"x": (n,)}, seed=n)
    text = "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"
    program = parse(text, shapes={"x": (n,)})
    assert program.shapes == {"x": (n,)}
    (result,) = outputs_at(program, data["point"])
    assert result == pytest.approx(rosen(data["x"]), rel=1e-13)


def test_indexing_forms_and_negative_indices():
    data = point_for({"x": (4,), "W": (2, 3)}, seed=1)
    x, W = data["x"], data["W"]
    shapes = {"x": (4,), "W": (2, 3)}
    cases = {
        "x[3]": x[3],
        "x[-1]": x[-1],
        "x[-4]": x[0],
        "W[1, 0]": W[1, 0],
        "W[1][0]": W[1, 0],
        "W[-1, -1]": W[1, 2],
        "x[1+1] * x[len(x)-1]": x[2] * x[3],
        "x[2*2-4] + W[len(W)-1, 2]": x[0] + W[1, 2],
        "x[4/2]": x[2],
    }
    for text, expected in cases.items():
        assert value_of(text, data["point"], shapes) == pytest.approx(expected, rel=1e-15), text


def test_len_is_the_first_axis_and_of_a_vector_step():
    assert value_of("len(W) + 10*len(x)", {}, {"W": (2, 3), "x": (7,)}) == 72
    assert value_of("h = [1, 2, 3, 4, 5]; len(h)", {}) == 5


def test_dot_product_and_matrix_vector_nested_generators():
    data = point_for({"W": (3, 4), "x": (4,)}, seed=2)
    W, x = data["W"], data["x"]
    shapes = {"W": (3, 4), "x": (4,)}
    both = value_of("sum(W[i, j]*x[j] for i in range(3) for j in range(4))", data["point"], shapes)
    assert both == pytest.approx(sum(W[i, j] * x[j] for i in range(3) for j in range(4)), rel=1e-14)
    nested = value_of("sum(sum(W[i][j]*x[j] for j in range(len(x)))**2 for i in range(len(W)))",
                      data["point"], shapes)
    assert nested == pytest.approx(float(np.sum((W @ x) ** 2)), rel=1e-14)


def test_range_forms_dependent_bounds_and_empty_ranges():
    data = point_for({"x": (6,)}, seed=3)
    x, p, s = data["x"], data["point"], {"x": (6,)}
    assert value_of("sum(x[i] for i in range(2, 5))", p, s) == pytest.approx(sum(x[2:5]), rel=1e-15)
    assert value_of("sum(x[i] for i in range(5, 0, -2))", p, s) == pytest.approx(x[5] + x[3] + x[1])
    assert value_of("sum(x[i]*x[j] for i in range(6) for j in range(i))", p, s) == pytest.approx(
        sum(x[i] * x[j] for i in range(6) for j in range(i)), rel=1e-14)
    assert value_of("1 + sum(x[i] for i in range(3, 3))", p, s) == 1.0
    assert value_of("sum(x[i] for i in range(0)) + sum(x[i] for i in range(4, 0))", p, s) == 0.0


def test_loop_names_are_bound_only_inside_and_shadow_like_python():
    data = point_for({"x": (3,)}, seed=4, i=0.25)
    x, p = data["x"], data["point"]
    program = parse("i + sum(x[i] for i in range(3))", shapes={"x": (3,)})
    assert "i" in program.variables  # the i outside the sum is a variable
    assert outputs_at(program, p)[0] == pytest.approx(0.25 + sum(x), rel=1e-15)
    text = "sum(sum(x[i] for i in range(2)) * x[i] for i in range(3))"
    assert value_of(text, p, {"x": (3,)}) == pytest.approx((x[0] + x[1]) * sum(x), rel=1e-14)


def test_undeclared_arrays_take_the_largest_index_used():
    program = parse("x[2] * W[1, 0] + W[0, 4] + sum(y[i] for i in range(3, 5))")
    assert program.shapes == {"x": (3,), "W": (2, 5), "y": (5,)}
    assert {"x[2]", "W[1, 0]", "W[0, 4]", "y[3]", "y[4]"} == set(program.variables)


def test_declared_shapes_are_kept_and_only_used_elements_are_variables():
    program = parse("x[0] + z", shapes={"x": (3,), "W": (2, 2)})
    assert program.shapes == {"x": (3,), "W": (2, 2)}
    assert list(program.variables) == ["x[0]", "z"]


def test_vector_steps_comprehension_and_literal():
    data = point_for({"W": (16, 2), "x": (2,), "b": (16,), "v": (16,)}, seed=5, a=0.5)
    W, x, b, v, p = data["W"], data["x"], data["b"], data["v"], data["point"]
    text = ("h = [tanh(W[j, 0]*x[0] + W[j, 1]*x[1] + b[j]) for j in range(16)]\n"
            "u = [a, h[-1]*2, h[3]]\n"
            "sum(v[j]*h[j] for j in range(len(h))) + u[0] + u[1] + u[len(u)-1]")
    program = parse(text)
    h = [math.tanh(W[j, 0] * x[0] + W[j, 1] * x[1] + b[j]) for j in range(16)]
    expected = sum(v[j] * h[j] for j in range(16)) + 0.5 + 2 * h[-1] + h[3]
    assert outputs_at(program, p)[0] == pytest.approx(expected, rel=1e-14)
    assert program.shapes == {"W": (16, 2), "x": (2,), "b": (16,), "v": (16,)}
    assert [k for k in program.steps if k.startswith("h_")] == [f"h_{j}" for j in range(16)]
    assert "h" not in program.steps and "u" not in program.steps
    values = evaluate([program.steps["h_3"]], p)
    assert values[program.steps["h_3"].id] == pytest.approx(h[3], rel=1e-15)
    labels = program.labels()
    assert labels[program.steps["h_5"].id] == "h_5"


def test_vector_step_element_names_avoid_assigned_names():
    program = parse("h_1 = y*3; h = [y + 1, y + 2]; h[1] + h_1")
    assert set(program.steps) == {"h_1", "h_0", "h_1_"}
    assert outputs_at(program, {"y": 2.0}) == [4.0 + 6.0]


def test_multi_line_comprehension_and_one_line_form():
    text = "h = [\n  x[j]*2  # doubled\n  for j in range(3)\n]\nsum(h[i] for i in range(3))"
    data = point_for({"x": (3,)}, seed=6)
    expected = 2 * sum(data["x"])
    for form in (text, one_line_program(text)):
        assert value_of(form, data["point"]) == pytest.approx(expected, rel=1e-15)
    assert one_line_program(text) == "h = [x[j] * 2 for j in range(3)]; sum(h[i] for i in range(3))"


def test_indices_are_evaluated_without_folding():
    graph = Graph(fold=False, algebra=False)
    program = parse("x[1+1] + sum(x[i-1] for i in range(1, len(x)))", graph, shapes={"x": (3,)})
    data = point_for({"x": (3,)}, seed=7)
    x = data["x"]
    assert outputs_at(program, data["point"])[0] == pytest.approx(x[2] + x[0] + x[1], rel=1e-15)


def test_a_sum_of_100000_terms_unrolls(capsys):
    n = 100_000
    start = time.perf_counter()
    program = parse("sum(x[i]*x[i] for i in range(100000))", shapes={"x": (n,)})
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[100,000-term unrolled sum parsed in {elapsed:.2f} s]")
    assert len(program.variables) == n
    rng = random.Random(8)
    values = [rng.uniform(-1, 1) for _ in range(n)]
    point = {element_name("x", (i,)): v for i, v in enumerate(values)}
    assert outputs_at(program, point)[0] == pytest.approx(math.fsum(v * v for v in values), rel=1e-9)


def test_deeply_nested_sums_need_no_recursion():
    depth = 2000
    text = "sum(" * depth + "x[0]" + "".join(f" for i{k} in range(1))" for k in range(depth))
    assert value_of(text, {"x[0]": 3.0}) == 3.0


# --- refusals, each with its caret ---
REFUSED = [
    ("x[5]", {"x": (3,)}, "index 5 is out of range for 'x' of shape (3,)", 3),
    ("x[-4]", {"x": (3,)}, "index -4 is out of range", 3),
    ("sum(x[i+1] for i in range(3))", {"x": (3,)}, "index 3 is out of range for 'x' of shape (3,) "
     "(where i = 2)", 7),
    ("x[1, 2]", {"x": (3,)}, "'x' is an array of shape (3,) (1 axis), but 2 indices are given", 1),
    ("W[1]", {"W": (2, 2)}, "shape (2, 2) (2 axes), but 1 index is given", 1),
    ("x[0.5]", None, "an index must be a whole number, not 0.5", 3),
    ("x[y]", None, "an index must be a whole number known when compiling, but it depends on "
     "the variable 'y'", 3),
    ("x[k]", None, "depends on the variable 'k'", 3),
    ("x[-1]", None, "a negative index needs the length of 'x': declare its shape "
     "(shapes={'x': n} in the API, --shape x=n on the command line)", 3),
    ("len(x) + x[0]", None, "the length of 'x' is not known when compiling: declare its shape", 5),
    ("len(y)", None, "len() needs an array or a vector step; 'y' is not one", 5),
    ("len(x[0])", {"x": (3,)}, "len() takes the name of an array or vector step", 5),
    ("x * 2", {"x": (3,)}, "'x' is an array of shape (3,), not a single value: use one element, "
     "as in x[0]", 1),
    ("x*2 + x[0]", None, "'x' is an array (it is indexed elsewhere), not a single value", 1),
    ("x[0] + x", None, "'x' is an array", 8),
    ("x[0] + x[0, 1]", None, "'x' is indexed with 2 indices here but with 1 at line 1, column 1", 8),
    ("x[0]", {"x": ()}, "'x' is declared as a single value; it cannot be indexed", 1),
    ("sum(x[i] for i in range(y))", None, "a bound of range() must be a whole number known when "
     "compiling, but it depends on the variable 'y'", 25),
    ("sum(x[i] for i in range(1.5))", None, "a bound of range() must be a whole number, not 1.5", 25),
    ("sum(x[i] for i in range(3, 1, 0))", None, "the step of range() must not be zero", 31),
    ("sum(x[i] for i in range(1, 2, 3, 4))", None, "range() takes 1 to 3 arguments, but 4 were given",
     19),
    ("sum(x[i] for i in range())", None, "range() needs 1 to 3 arguments", 25),
    ("sum(x[i] for i in (3))", None, "only a range can be iterated", 19),
    ("sum(x[i] for i range(3))", None, "expected 'in' after 'for i'", 16),
    ("sum(x[i] for in range(3))", None, "a name is expected after 'for'", 14),
    ("sum(x[i] for i in range(3) if i)", None, "conditions ('if') in a generator are not supported", 28),
    ("sum(for i in range(3))", None, "a value is expected before 'for'", 5),
    ("sum(x[i], 1 for i in range(3))", None, "sum(... for ...) takes one expression before 'for'", 9),
    ("sum(x[i] for i in range(3)", None, "'sum(' is never closed", 4),
    ("x[i] for i in range(3)", None, "'for' is only supported in sum(... for i in range(n)) and in "
     "a vector step", 6),
    ("max(x[i] for i in range(2))", None, "'for' is only supported in sum(", 10),
    ("(x[i] for i in range(2))", None, "'for' is only supported in sum(", 7),
    ("x[i for i in range(2)]", None, "'for' is only supported in sum(", 5),
    ("sum(pi for pi in range(2))", None, "'pi' cannot be the index of a loop: it is a constant", 12),
    ("a = 1; sum(x[a] for a in range(2))", None, "'a' cannot be the index of a loop: it is assigned "
     "by the program", 21),
    ("sum(i[0] for i in range(3))", None, "'i' cannot be the index of a loop: it is an array", 14),
    ("sum(sum(i[0] for j in range(1)) for i in range(3))", None, "'i' cannot be the index", 37),
    ("[1, 2]", None, "a list [...] can only be the whole right-hand side of an assignment", 1),
    ("h = [1, 2] * 2; h[0]", None, "a list [...] can only be the whole right-hand side", 5),
    ("h = 2 * [1, 2]; h[0]", None, "a list [...] can only be the whole right-hand side", 9),
    ("h = []; h[0]", None, "an empty list is not a vector step", 5),
    ("h = [1, 2]; h * 2", None, "'h' is a vector step of 2 elements, not a single value: use one "
     "element, as in h[0]", 13),
    ("h = [1, 2]; h[2]", None, "index 2 is out of range for 'h' of shape (2,)", 15),
    ("h = [1, 2]; h[0, 0]", None, "'h' is a vector step of shape (2,) (1 axis), but 2 indices", 13),
    ("h = 2; h[0]", None, "'h' is a single value, not a vector; it cannot be indexed", 8),
    ("h = [h[0], 1]; h[0]", None, "'h' is used before it is assigned (in its own assignment", 6),
    ("x[0] + h[0]; h = [1]", None, "only the last statement may be a bare expression", 1),
    ("y = h[0]; h = [1]; y", None, "'h' is used before it is assigned (assigned later", 5),
    ("h = 1; h", {"h": (2,)}, "'h' is declared as an argument of shape (2,), but the program "
     "assigns it", 1),
    ("pi[0]", None, "'pi' is a constant; it cannot be indexed", 1),
    ("sin(x)[0]", None, "only a name can be indexed", 7),
    ("x[]", None, "an index is expected before ']'", 3),
    ("x[0,]", None, "an index is expected before ']'", 5),
    ("x[0", None, "'x[' is never closed", 2),
    ("x[0)", None, "'x[' is never closed", 2),
    ("(x[0]]", None, "'(' is never closed", 1),
    ("x[0]]", None, "unmatched ']'", 5),
    ("h = [1,\nb = 2\nh[0]", None, "'[' is never closed", 5),
]


@pytest.mark.parametrize("text, shapes, message, column", REFUSED, ids=[r[0] for r in REFUSED])
def test_refusals_are_caret_errors(text, shapes, message, column):
    with pytest.raises(ParseError) as info:
        parse(text, shapes=shapes)
    err = info.value
    assert message in err.message
    assert err.column == column, (err.message, err.column)
    caret_line = str(err).splitlines()[-1]
    assert caret_line.index("^") == 4 + column - 1
