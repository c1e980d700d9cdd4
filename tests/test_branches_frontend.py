"""Branches in the front ends: conditions and choices from text, tracing and SymPy.

Each construct is lowered to a Program, its outputs are evaluated at random
points by the graph's own value rules, and the result is compared with the same
computation done independently: Python's own ``eval`` of the same test-written
text (for precedence), a hand-written Python function (tracing), SymPy's
evaluation (Piecewise).  ``graph.evaluate`` computes both branches of a
``where``, so the formulas here are defined everywhere.  Every refusal is
checked with its message and, for text, its caret.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy as sp

import adcompile
from adcompile import CompileError, ParseError, TracingError
from adcompile.frontend.sympy_in import from_sympy
from adcompile.frontend.text import one_line_program, parse
from adcompile.frontend.trace import trace, tracing_graph
from adcompile.ir.graph import Graph, evaluate, format_ir, reachable

NAMES = ("x", "y", "z")


def outputs_at(program, point: dict) -> list:
    values = evaluate(program.outputs, point)
    return [values[o.id] for o in program.outputs]


def text_value(text: str, point: dict, graph: Graph | None = None) -> float:
    (value,) = outputs_at(parse(text, graph), point)
    return value


def random_points(count: int, seed: int, names=NAMES) -> list[dict]:
    rng = random.Random(seed)
    return [{n: rng.uniform(-2.0, 2.0) for n in names} for _ in range(count)]


# --- text: precedence, against Python's own reading of the same text ---
PRECEDENCE = [
    "x if y > 0 else z",
    "-x if -x < y else y",  # -x < y is (-x) < y
    "x if not x < y else y",  # not x < y is not (x < y)
    "x if not x < y and y < z else z",  # (not (x < y)) and (y < z)
    "x if x < y or y < z and z < x else -z",  # and binds tighter than or
    "x if not x > 0 or y > 0 else y",
    "x if 0 < y < 1 else z",  # chained
    "x if x < y < z else y",
    "x if x < y <= z != x else y",
    "1 if x > 0 else 2 if y > 0 else 3",  # right-associative
    "(1 if x > 0 else 2) if y > 0 else 3",
    "x + 1 if y > 0 else z * 2",  # the arithmetic binds tighter than the choice
    "x + (1 if y > 0 else z) * 2",
    "-x**2 if x*y > z - 1 else x - -y",
    "x if not not y > 0 else z",
    "x if x > 0 == y else z",  # chained: (x > 0) and (0 == y)
    "2**x if x + y > z**2 else 3",
    "x if y > 0 else z if z > x else y if x > y else 7",
]


@pytest.mark.parametrize("text", PRECEDENCE)
def test_text_reads_conditions_as_python_does(text):
    program = parse(text)
    for point in random_points(40, seed=len(text)):
        (ours,) = outputs_at(program, point)
        assert ours == pytest.approx(eval(text, {}, dict(point)), rel=1e-13), point


def _random_number(rng: random.Random, depth: int, kind: str | None = None) -> tuple[str, int]:
    """A numeric expression and its precedence level (higher binds tighter)."""
    if kind is None and (depth == 0 or rng.random() < 0.25):
        return (rng.choice(NAMES), 10) if rng.random() < 0.7 else (str(rng.choice([0, 1, 2, 0.5])), 10)
    kind = kind or rng.choice(["+", "-", "*", "neg", "**", "if"])
    if kind == "if":
        a, b = _random_number(rng, depth - 1), _random_number(rng, depth - 1)
        c = _random_condition(rng, depth - 1)
        return f"{_wrap(a, 2, rng)} if {_wrap(c, 2, rng)} else {_wrap(b, 1, rng)}", 1
    if kind == "neg":
        return f"-{_wrap(_random_number(rng, depth - 1), 8, rng)}", 8
    if kind == "**":
        return f"{_wrap(_random_number(rng, depth - 1), 10, rng)} ** 2", 9
    level = 6 if kind in "+-" else 7
    a, b = _random_number(rng, depth - 1), _random_number(rng, depth - 1)
    return f"{_wrap(a, level, rng)} {kind} {_wrap(b, level + 1, rng)}", level


def _random_condition(rng: random.Random, depth: int) -> tuple[str, int]:
    kind = rng.choice(["cmp", "chain", "and", "or", "not"] if depth > 0 else ["cmp", "chain"])
    if kind in ("cmp", "chain"):
        count = 2 if kind == "cmp" else 3
        parts = [_wrap(_random_number(rng, depth - 1 if depth else 0), 6, rng) for _ in range(count)]
        symbols = [rng.choice(["<", "<=", ">", ">=", "==", "!="]) for _ in range(count - 1)]
        text = parts[0] + "".join(f" {s} {p}" for s, p in zip(symbols, parts[1:]))
        return text, 5
    if kind == "not":
        return f"not {_wrap(_random_condition(rng, depth - 1), 4, rng)}", 4
    level = 3 if kind == "and" else 2
    a, b = _random_condition(rng, depth - 1), _random_condition(rng, depth - 1)
    return f"{_wrap(a, level, rng)} {kind} {_wrap(b, level + 1, rng)}", level


def _wrap(expr: tuple[str, int], needed: int, rng: random.Random) -> str:
    """Parentheses where the precedence needs them, and now and then where it does not."""
    text, level = expr
    return f"({text})" if level < needed or rng.random() < 0.1 else text


@pytest.mark.parametrize("seed", range(60))
def test_random_mixes_of_conditions_agree_with_python(seed):
    rng = random.Random(seed)
    text, _ = _random_number(rng, depth=4, kind="if")
    program = parse(text)
    for point in random_points(10, seed=seed):
        (ours,) = outputs_at(program, point)
        assert ours == pytest.approx(eval(text, {}, dict(point)), rel=1e-12, abs=1e-12), text


def test_a_chained_comparison_uses_its_middle_operand_once():
    graph = Graph(cse=False)
    program = parse("where(0 < x + y <= 1, x, y)", graph)
    nodes = reachable(program.outputs)
    assert [n.opname for n in nodes].count("add") == 1
    assert format_ir(program.outputs) == (
        "%0 = add(x, y)\n%1 = lt(0.0, %0)\n%2 = le(%0, 1.0)\n%3 = logical_and(%1, %2)\n"
        "%4 = where(%3, x, y)\nreturn %4")


def test_where_and_the_conditional_expression_build_the_same_graph():
    graph = Graph()
    a = parse("where(x > 0 and not y < 1, x*y, -x)", graph).outputs[0]
    b = parse("x*y if x > 0 and not y < 1 else -x", graph).outputs[0]
    assert a is b and a.opname == "where"


def test_a_step_may_hold_a_condition_and_be_used_as_one():
    text = "inside = 0 < x < 1\nboth = inside and y > 0\nwhere(both, x, 0) + where(inside, 1, y)"
    program = parse(text)
    assert program.steps["inside"].opname == "logical_and"
    for point in random_points(40, seed=3):
        x, y = point["x"], point["y"]
        inside = 0 < x < 1
        expected = (x if inside and y > 0 else 0) + (1 if inside else y)
        assert outputs_at(program, point) == [pytest.approx(expected, rel=1e-15)]


def test_a_comparison_of_constants_is_still_a_condition():
    # the graph may fold 2 > 1 to the number 1.0; the parser still knows it is a condition
    for point in random_points(5, seed=11):
        expected = (point["x"] if 2 > 1 else 0.0) + (1.0 if not 0.5 >= 1 and point["y"] < 1 else 2.0)
        assert text_value("c = 0.5 >= 1\nwhere(2 > 1, x, 0) + (1 if not c and y < 1 else 2)",
                          point) == pytest.approx(expected)
    with pytest.raises(ParseError, match="2 > 1 is a condition, not a number"):
        parse("x + (2 > 1)")
    with pytest.raises(ParseError, match="c is a condition, not a number"):
        parse("c = 1 == 1\nc * x")


def test_a_vector_step_holds_numbers_or_conditions_not_both():
    with pytest.raises(ParseError) as info:
        parse("h = [x > 0, y]\nwhere(h[0], h[1], 0)")
    assert info.value.message == ("the elements of a vector step are all numbers or all "
                                  "conditions, but this one is a number and the first is not")
    assert info.value.column == 13
    with pytest.raises(ParseError, match="h_0 is a condition, not a number"):
        parse("h = [x > 0, 1 < 2]\nh_0 + 1")
    with pytest.raises(ParseError, match=r"h\[1\] is a condition, not a number"):
        parse("h = [x > 0 for i in range(2)]\nh[1] + 1")


def test_huber_loss_in_text_equals_a_hand_written_one():
    text = "r = x - y\nwhere(abs(r) <= d, 0.5*r**2, d*(abs(r) - 0.5*d))"
    program = parse(text)

    def huber(x, y, d):
        r = x - y
        return 0.5 * r * r if abs(r) <= d else d * (abs(r) - 0.5 * d)

    for point in random_points(50, seed=4, names=("x", "y")):
        point["d"] = 1.0
        assert outputs_at(program, point) == [pytest.approx(huber(**point), rel=1e-14)]


def test_conditions_in_generator_bodies_and_vector_steps():
    shapes = {"x": (4,)}
    relu_sum = parse("sum(where(x[i] > 0, x[i], 0) for i in range(4))", shapes=shapes)
    abs_sum = parse("sum(x[i] if x[i] > 0 else -x[i] for i in range(len(x)))", shapes=shapes)
    masked = parse("m = [x[i] > 0 and x[i] < 1 for i in range(4)]\n"
                   "sum(where(m[i], x[i], 1) for i in range(4))", shapes=shapes)
    rng = np.random.default_rng(5)
    for _ in range(20):
        values = rng.uniform(-1.5, 1.5, 4)
        point = {f"x[{i}]": float(v) for i, v in enumerate(values)}
        assert outputs_at(relu_sum, point)[0] == pytest.approx(sum(v for v in values if v > 0), abs=1e-15)
        assert outputs_at(abs_sum, point)[0] == pytest.approx(sum(abs(values)), rel=1e-15)
        expected = sum(v if 0 < v < 1 else 1.0 for v in values)
        assert outputs_at(masked, point)[0] == pytest.approx(expected, rel=1e-15)


def test_line_joins_with_keywords_follow_python():
    # inside brackets a line may end in 'and', 'if' or 'else'; a program on one line is the same
    text = "c = (x > 0 and\n     y < 1)\nwhere(c or\n  x < -1, x if\n y > 0 else\n -y, 2)"
    flat = one_line_program(text)
    assert flat == "c = (x > 0 and y < 1); where(c or x < -1, x if y > 0 else -y, 2)"
    g1, g2 = Graph(), Graph()
    assert format_ir(parse(text, g1).outputs) == format_ir(parse(flat, g2).outputs)
    for point in random_points(20, seed=6):
        x, y = point["x"], point["y"]
        expected = (x if y > 0 else -y) if (x > 0 and y < 1) or x < -1 else 2
        assert outputs_at(parse(text), point) == [pytest.approx(expected)]


def test_one_line_program_spaces_keywords_and_signs():
    text = "a = not(x > 0)\nb = -x if a else -y\nwhere(not a, b, -1)"
    flat = one_line_program(text)
    assert flat == "a = not (x > 0); b = -x if a else -y; where(not a, b, -1)"
    assert format_ir(parse(text, Graph()).outputs) == format_ir(parse(flat, Graph()).outputs)


# --- text: refusals, with their carets ---
REFUSED = [
    # a condition where a number is expected
    ("x + (y > 0)", "y > 0 is a condition, not a number: use where(y > 0, 1, 0)", 5),
    ("(x > 0) * 2", "x > 0 is a condition, not a number: use where(x > 0, 1, 0)", 1),
    ("x > 0", "the output x > 0 is a condition, not a number: use where(x > 0, 1, 0)", 1),
    ("x, 0 < x < 1", "the output 0 < x < 1 is a condition, not a number: "
     "use where(0 < x < 1, 1, 0)", 4),
    ("c = x > 0\nc + 1", "c is a condition, not a number: use where(c, 1, 0)", 1),
    ("sin(x > 0)", "x > 0 is a condition, not a number: use where(x > 0, 1, 0)", 5),
    ("max(x, y and x < 1)", "y is a number, not a condition: write a comparison, "
     "such as y > 0 or y != 0", 8),
    ("where(x > 0, x < 1, 2)", "x < 1 is a condition, not a number", 14),
    ("(x > 0) < 1", "x > 0 is a condition, not a number", 1),
    ("-(x > 0)", "x > 0 is a condition, not a number", 2),
    ("x if y > 0 else z > 0", "z > 0 is a condition, not a number", 17),
    ("sum(x[i] > 0 for i in range(3))", "x[i] > 0 is a condition, not a number: "
     "use where(x[i] > 0, 1, 0)", 5),
    ("x[y > 0]", "y > 0 is a condition, not a number", 3),
    # a number where a condition is expected
    ("where(x, 1, 2)", "x is a number, not a condition: write a comparison, such as x > 0 "
     "or x != 0", 7),
    ("x and y", "x is a number, not a condition", 1),
    ("where(x > 0 or y, 1, 2)", "y is a number, not a condition", 16),
    ("not x", "x is a number, not a condition", 5),
    ("a if x else b", "x is a number, not a condition", 6),
    ("where(x + 1, 1, 2)", "x + 1 is a number, not a condition: write a comparison, such as "
     "x + 1 > 0", 7),
    ("where((x if y > 0 else z), 1, 2)", "such as (x if y > 0 else z) > 0", 7),
    ("c = x + 1\nwhere(c, 1, 2)", "c is a number, not a condition", 7),
    # syntax
    ("x if y > 0", "this 'if' has no 'else': a conditional expression is written "
     "a if condition else b", 3),
    ("x else y", "'else' without 'if'", 3),
    ("x if y > 0 else z else w", "'else' without 'if'", 19),
    ("a if b if c else d else e", "a conditional expression used as a condition needs "
     "parentheses", 8),
    ("x + not y > 0", "'not' cannot follow '+' without parentheses", 5),
    ("-not y > 0", "'not' cannot follow '-' without parentheses", 2),
    ("x < not y", "'not' cannot follow '<'", 5),
    ("x and", "the expression ends where a value is expected", 6),
    ("and x", "a value is expected here, not 'and'", 1),
    ("if x > 0", "a value is expected here, not 'if'", 1),
    ("x is y", "'is' is not supported: compare numbers with == or !=", 3),
    ("x in y", "'in' is not supported here", 3),
    ("x not in y", "'in' is not supported here", 3),
    ("lambda: x", "':' is not supported", 7),
    ("x ! y", "'!' is not supported: write 'not' for negation and '!=' for 'not equal'", 3),
    ("x << 2", "shift operators (<< and >>) are not supported", 3),
    ("x & y", "combine conditions with and, or, not", 3),
    ("(y := 1)", "':=' is not supported: assign a step on its own line", 4),
    # a line that ends in 'and' outside brackets ends its statement, as in Python
    ("x = y > 0 and\nz < 1\nx", "the expression ends where a value is expected", 14),
    ("sum(x[i] for i in range(3) if x[i] > 0)", "conditions ('if') in a generator are not "
     "supported", 28),
]


@pytest.mark.parametrize("text, message, column", REFUSED, ids=[r[0] for r in REFUSED])
def test_refusals_say_what_to_write_with_a_caret(text, message, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert message in err.message, str(err)
    assert err.column == column, str(err)
    assert str(err).splitlines()[-1].index("^") == 4 + column - 1


def test_keywords_the_language_does_not_read_stay_names():
    # as before branches: lambda, in, is, None ... are variables (renamed in generated code)
    program = parse("lambda * in + is - None")
    assert sorted(program.variables) == ["None", "in", "is", "lambda"]


def test_a_long_operand_is_not_quoted_whole():
    long_sum = " + ".join(f"x{i}" for i in range(40))
    with pytest.raises(ParseError) as info:
        parse(f"where({long_sum}, 1, 2)")
    assert info.value.message.startswith("this is a number, not a condition")
    with pytest.raises(ParseError) as info:
        parse(f"sin({long_sum} > 0)")
    assert "this is a condition, not a number" in info.value.message
    assert info.value.column == 5


# --- tracing ---
def traced_values(fn, points, shapes=None) -> list[list[float]]:
    program = trace(fn, tracing_graph(), shapes=shapes)
    return [outputs_at(program, p) for p in points]


def test_where_and_comparisons_on_traced_scalars_match_python():
    def traced(x, y):
        return (adcompile.where(x > 0, adcompile.sqrt(x * x + 1), -x)
                + adcompile.where(0 < y, y, 0.0)  # reflected: y > 0
                + adcompile.where((x < 1) & ~(y >= x) | (y == 0.5), x * y, 1.0)
                + adcompile.where(np.float64(0.5) <= x, 2.0, x))

    def plain(x, y):
        return ((math.sqrt(x * x + 1) if x > 0 else -x) + (y if 0 < y else 0.0)
                + (x * y if (x < 1 and not y >= x) or y == 0.5 else 1.0) + (2.0 if 0.5 <= x else x))

    points = random_points(60, seed=7, names=("x", "y"))
    for point, (ours,) in zip(points, traced_values(traced, points)):
        assert ours == pytest.approx(plain(**point), rel=1e-14)


def test_huber_by_tracing_equals_a_hand_written_one():
    def huber(r, d):
        return adcompile.where(abs(r) <= d, 0.5 * r * r, d * (abs(r) - 0.5 * d))

    def plain(r, d):
        return 0.5 * r * r if abs(r) <= d else d * (abs(r) - 0.5 * d)

    points = [{"r": r, "d": 1.0} for r in np.linspace(-3, 3, 25)]
    for point, (ours,) in zip(points, traced_values(huber, points)):
        assert ours == pytest.approx(plain(**point), rel=1e-15)
    assert huber(0.5, 1.0) == plain(0.5, 1.0) and huber(-3.0, 1.0) == plain(-3.0, 1.0)


def test_where_on_floats_is_a_float_with_pythons_choice():
    assert adcompile.where(True, 1, 2) == 1.0 and isinstance(adcompile.where(True, 1, 2), float)
    assert adcompile.where(2.0 < 1.0, 1.0, 2.5) == 2.5
    assert adcompile.where(np.bool_(True), 3.0, 4.0) == 3.0
    with pytest.raises(TypeError, match="needs a condition"):
        adcompile.where(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="not str"):
        adcompile.where(True, "a", 3.0)


def test_a_python_bool_folds_into_traced_conditions():
    program = trace(lambda x: adcompile.where((x > 0) & True, x, adcompile.where(
        (x > 0) | False, 1.0, adcompile.where(False | (x < -1), 2.0, 3.0))), tracing_graph())
    for x in (-2.0, -0.5, 0.5):
        expected = x if x > 0 else (1.0 if x > 0 else (2.0 if x < -1 else 3.0))
        assert outputs_at(program, {"x": x}) == [expected]
    assert trace(lambda x: adcompile.where(True, x, 2.0), tracing_graph()).outputs[0].opname == "var"


def test_a_traced_comparison_of_constants_still_chooses():
    # the graph folds a comparison of constants to 1.0 or 0.0: where and & | ~ take it
    def traced(x):
        two = x.graph.const(2.0)
        return adcompile.where((two > 1.0) & ~(two < 1.0) | (x > 5.0), x, -x)

    program = trace(traced, tracing_graph())
    assert outputs_at(program, {"x": -3.0}) == [-3.0]


def test_numpy_where_and_comparison_ufuncs_elementwise():
    def traced(x, y):
        inside = np.logical_and(x > 0, np.less(x, 1.0))
        either = np.logical_or(np.greater_equal(x, y), np.logical_not(np.not_equal(y, 0.5)))
        odd = np.logical_xor(x < 0, np.less_equal(y, 0.0))
        return (np.sum(np.where(inside, np.sqrt(x * x), -x)) + np.sum(np.where(either, x * y, 1.0))
                + np.sum(np.where(odd, 2.0, x)) + np.sum(np.where(np.equal(x, y) | (x > 1), 5.0, 0.0))
                + np.sum(np.where([True, False, True], x, y)))

    def plain(x, y):
        total = 0.0
        for a, b, static in zip(x, y, [True, False, True]):
            total += math.sqrt(a * a) if 0 < a < 1 else -a
            total += a * b if a >= b or not b != 0.5 else 1.0
            total += 2.0 if (a < 0) != (b <= 0) else a
            total += 5.0 if a == b or a > 1 else 0.0
            total += a if static else b
        return total

    shapes = {"x": (3,), "y": (3,)}
    rng = np.random.default_rng(8)
    for _ in range(30):
        x, y = rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)
        point = {f"{n}[{i}]": float(v[i]) for n, v in (("x", x), ("y", y)) for i in range(3)}
        (ours,) = traced_values(traced, [point], shapes)[0]
        assert ours == pytest.approx(plain(x, y), rel=1e-13)


def test_numpy_where_on_a_traced_scalar_and_maximum_stays_max():
    program = trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0) + np.maximum(x, 0.0), tracing_graph())
    ops = [n.opname for n in reachable(program.outputs)]
    assert "where" in ops and "max" in ops
    for x in (0.25, 4.0, 9.0):  # graph.evaluate computes both branches: sqrt needs x >= 0
        assert outputs_at(program, {"x": x}) == [pytest.approx(math.sqrt(x) + x, rel=1e-15)]


def _uses_if(x):
    if x > 0:
        return x
    return -x


TRACING_REFUSED = [
    (_uses_if, ["Branching on", "adcompile.where(cond, a, b)", "np.where"]),
    (lambda x: x if x > 0 else -x, ["Branching on", "adcompile.where(x > 0, x, 0.0)"]),
    (lambda x, y: adcompile.where(x > 0 and y > 0, x, y), ["Branching on", "& | ~"]),
    (lambda x, y: adcompile.where(x > 0 or y > 0, x, y), ["Branching on"]),
    (lambda x: adcompile.where(not x > 0, x, 1.0), ["Branching on"]),
    (lambda x: 1.0 if x else 2.0, ["Branching on"]),
    (lambda x, y: max(x, y), ["adcompile.max(a, b)", "builtins max() and min()"]),
    (lambda x: x + (x > 0), ["The operator + on a condition", "adcompile.where(cond, 1.0, 0.0)"]),
    (lambda x: (x > 0) * 2.0, ["The operator * on a condition"]),
    (lambda x: -(x > 0), ["The operator - on a condition"]),
    (lambda x: (x > 0) < 1.0, ["Comparing (<) a condition"]),
    (lambda x: adcompile.sin(x > 0), ["adcompile.sin() of a condition"]),
    (lambda x: np.sin(x > 0), ["np.sin() of a condition"]),
    (lambda x: adcompile.where(x, 1.0, 2.0), ["first argument is a traced number, not a condition"]),
    (lambda x: adcompile.where(x > 0, x > 1, 2.0), ["values to choose from", "is a condition"]),
    (lambda x: x & (x > 0), ["The operator & on a condition and a number", "& | ~ combine"]),
    (lambda x, y: x | y, ["The operator | on numbers", "bitwise"]),
    (lambda x: ~x, ["The operator ~", "negates a condition"]),
    (lambda x: np.logical_not(x), ["negates a condition"]),
]


@pytest.mark.parametrize("fn, words", TRACING_REFUSED)
def test_tracing_refusals_point_to_where_and_the_users_line(fn, words):
    with pytest.raises(TracingError) as info:
        trace(fn, tracing_graph())
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert f"{__file__}:" in message


def test_returning_a_condition_is_refused():
    with pytest.raises(TracingError, match="returned a condition; an output is a number"):
        trace(lambda x: x > 0, tracing_graph())
    with pytest.raises(TracingError, match="returned a condition"):
        trace(lambda x: (x, x > 0), tracing_graph())


def test_all_and_any_of_traced_conditions_are_conditions():
    def traced(x):
        return (np.where((x > 0).all(), x[0], x[1]) + np.where(np.any(x > 1), 1.0, 2.0)
                + np.sum(np.where(np.all(x.reshape(2, 2) < 0.5, axis=0), x[:2], 0.0)))

    def plain(x):
        columns = [x[0] < 0.5 and x[2] < 0.5, x[1] < 0.5 and x[3] < 0.5]
        return ((x[0] if all(x > 0) else x[1]) + (1.0 if any(x > 1) else 2.0)
                + sum(x[i] if columns[i] else 0.0 for i in range(2)))

    rng = np.random.default_rng(10)
    for _ in range(30):
        x = rng.uniform(-0.3, 1.5, 4)
        point = {f"x[{i}]": float(v) for i, v in enumerate(x)}
        assert traced_values(traced, [point], {"x": (4,)})[0] == [pytest.approx(plain(x))]


def test_branching_on_a_traced_array_points_to_np_where():
    for fn in (lambda x: x[0] if (x > 0).all() else x[1], lambda x: x[0] if x[0] < x[1] else x[1]):
        with pytest.raises(TracingError, match=r"Branching on .*np\.where") as info:
            trace(fn, tracing_graph(), shapes={"x": (2,)})
        assert f"{__file__}:" in str(info.value)
    with pytest.raises(TracingError, match=r"an array of traced adcompile values.*np\.where"):
        trace(lambda x: x[0] if x else x[1], tracing_graph(), shapes={"x": (2,)})


# --- SymPy ---
X, Y = sp.symbols("x y", real=True)


def sympy_cases():
    return [
        sp.Piecewise((X**2, X > 0), (-X, True)),
        sp.Piecewise((X * Y, (X > 0) & (Y < 1)), (sp.sin(X), sp.Or(X < -1, sp.Not(Y > 0.5))),
                     (1, True)),
        sp.Piecewise((X, sp.ITE(X > 0, Y > 0, Y < -0.5)), (Y, True)),
        sp.Piecewise((X, sp.Xor(X > 0, Y > 0)), (2 * Y, sp.Implies(X > 1, Y > 1)), (0, True)),
        sp.Piecewise((X, sp.Ge(X, Y)), (Y, sp.Le(X, -1)), (3, sp.Ne(Y, 0)), (4, True)),
        sp.Piecewise((sp.Piecewise((X, Y > 0), (Y, True)), X > 0.5), (X + Y, True)),
        sp.Abs(X).rewrite(sp.Piecewise) + sp.Max(X, Y),
        sp.Piecewise((X, sp.StrictGreaterThan(X, 0)), (-X, sp.StrictLessThan(X, 0)), (0, True)),
        sp.Heaviside(X) * Y + sp.Heaviside(Y, 0),
    ]


@pytest.mark.parametrize("expr", sympy_cases(), ids=str)
def test_piecewise_from_sympy_equals_sympys_own_value(expr):
    program = from_sympy(expr, Graph())
    for point in random_points(30, seed=9, names=("x", "y")):
        (ours,) = outputs_at(program, point)
        expected = float(expr.subs({X: point["x"], Y: point["y"]}))
        assert ours == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_piecewise_conditions_true_and_false_fold_away():
    expr = sp.Piecewise((X, sp.false), (Y, X < 1), (X * Y, sp.true), (5, X > 2), evaluate=False)
    program = from_sympy(expr, Graph())
    (choice,) = program.outputs
    condition, taken, other = choice.args
    assert choice.opname == "where" and (condition.opname, taken.opname, other.opname) == (
        "lt", "var", "mul")
    assert [n.opname for n in reachable(program.outputs)].count("where") == 1
    only = from_sympy(sp.Piecewise((X, sp.true), (Y, True), evaluate=False), Graph())
    assert only.outputs[0].opname == "var"
    ite = from_sympy(sp.Piecewise((X, sp.ITE(sp.true, X > 0, Y > 0)), (Y, True), evaluate=False),
                     Graph())
    assert format_ir(ite.outputs) == "%0 = gt(x, 0.0)\n%1 = where(%0, x, y)\nreturn %1"


def test_a_sympy_comparison_of_constants_is_a_constant_condition():
    expr = sp.Piecewise((X, sp.And(sp.Lt(1, 2, evaluate=False), Y > 0)),
                        (Y, sp.Gt(1, 2, evaluate=False)), (3, True), evaluate=False)
    program = from_sympy(expr, Graph())
    for point in random_points(10, seed=12, names=("x", "y")):
        assert outputs_at(program, point) == [point["x"] if point["y"] > 0 else 3.0]


def test_heaviside_at_zero_is_its_second_argument():
    assert outputs_at(from_sympy(sp.Heaviside(X), Graph()), {"x": 0.0}) == [0.5]
    assert outputs_at(from_sympy(sp.Heaviside(X, 1), Graph()), {"x": 0.0}) == [1.0]


@pytest.mark.parametrize("expr, words", [
    (sp.Piecewise((X, X > 0)), ["undefined where none of its conditions holds",
                                "(value, True)"]),
    (sp.Piecewise((X, X > 0), (Y, sp.false), evaluate=False), ["undefined where none"]),
    (sp.Piecewise((X, sp.Contains(X, sp.Interval(0, 1))), (0, True)),
     ["cannot compile the SymPy condition Contains", "Lt, Le, Gt, Ge, Eq, Ne"]),
    (X > 0, ["the SymPy condition x > 0 is used as an output", "Piecewise((1, condition), (0, True))"]),
    (sp.Piecewise((X > 1, X > 0), (Y > 0, True)), ["is used as a value of Piecewise"]),
])
def test_sympy_conditions_that_cannot_be_compiled_are_clear_errors(expr, words):
    with pytest.raises(CompileError) as info:
        from_sympy(expr, Graph())
    for word in words:
        assert word in str(info.value)
