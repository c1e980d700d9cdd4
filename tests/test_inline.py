"""Single-use steps written inside their user's line (codegen/inline.py), and the
one-step-per-line option that keeps the seed's reading."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from collections import Counter

import black
import pytest
import sympy as sp
from hypothesis import example, HealthCheck, given, settings
from strategies import expressions, programs

import adcompile
from adcompile.codegen.backends import MATH
from adcompile.codegen.printer import FunctionSpec, ModuleSpec, generate
from adcompile.frontend.text import parse
from adcompile.ir.graph import Graph

A, B, C, X = 1e16, -1e16, 1.0, 1.5  # a + b + c and a + (b + c) round differently here
POINT = dict(a=A, b=B, c=C, x=X)

# (expression text, the same computation written in Python by hand)
PRECEDENCE = [
    ("(a + b) + c", lambda a, b, c, x: (a + b) + c),
    ("a + (b + c)", lambda a, b, c, x: a + (b + c)),
    ("a - (b - c)", lambda a, b, c, x: a - (b - c)),
    ("(a - b) - c", lambda a, b, c, x: (a - b) - c),
    ("a / (b * c) + x", lambda a, b, c, x: a / (b * c) + x),
    ("a / b * c + x", lambda a, b, c, x: a / b * c + x),
    ("x / (a / b)", lambda a, b, c, x: x / (a / b)),
    ("(a + b) * (c - x)", lambda a, b, c, x: (a + b) * (c - x)),
    ("-(x * x * x) * c", lambda a, b, c, x: -(x * x * x) * c),
    ("-(a + b) * x", lambda a, b, c, x: -(a + b) * x),
    ("(-x)**3 + c", lambda a, b, c, x: (-x) ** 3 + c),
    ("-x**3 + c", lambda a, b, c, x: -(x**3) + c),
    ("(x + c)**3 * x", lambda a, b, c, x: (x + c) ** 3 * x),
    ("(x**3)**3 + c", lambda a, b, c, x: (x**3) ** 3 + c),
    ("sin(x + c)**3 - c", lambda a, b, c, x: math.sin(x + c) ** 3 - c),
    ("x**-3 * c", lambda a, b, c, x: x**-3 * c),
    ("exp(-(x - c)) / (1 + x*x)", lambda a, b, c, x: math.exp(-(x - c)) / (1 + x * x)),
    ("pow(x + c, x - c) * c", lambda a, b, c, x: math.pow(x + c, x - c) * c),
]


def body_statements(source: str, name: str) -> list[ast.stmt]:
    tree = ast.parse(source)
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name).body


def value_only_module(text: str) -> str:
    """A module with only the value function, printed by ``generate``: every step is used
    once, so the whole expression is one line (its grouping is the printer's own)."""
    graph = Graph()
    program = parse(text, graph)
    params = [graph.var(name) for name in "abcx"]
    output = program.outputs[0]
    fn = FunctionSpec("f", params, output, "Value of f.", passes=[(None, [output])])
    spec = ModuleSpec(MATH, [], [("ARGS", tuple("abcx"))], [fn], {p.id: p.value for p in params})
    return generate(spec)


@pytest.mark.parametrize("text, by_hand", PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_inlined_expressions_keep_pythons_precedence(text, by_hand):
    source = value_only_module(text)
    statements = body_statements(source, "f")[1:]
    assert len(statements) == 1 and isinstance(statements[0], ast.Return), source
    namespace: dict = {}
    exec(compile(source, "<inline test>", "exec"), namespace)
    expected = by_hand(A, B, C, X)
    assert namespace["f"](A, B, C, X) == expected  # exactly: the same operations, in order
    m = adcompile.compile(text, args="a,b,c,x")
    assert m.f(A, B, C, X) == expected and m.grad_f(A, B, C, X)[0] == expected
    # the gradient against SymPy's derivative of the same expression
    symbols = sp.symbols("a b c x")
    expr = sp.sympify(text.replace("pow", "Pow"), locals=dict(zip("abcx", symbols)))
    point = dict(zip(symbols, (A, B, C, X)))
    for name, got in zip("abcx", m.grad_f(A, B, C, X)[1]):
        want = float(sp.diff(expr, sp.Symbol(name)).evalf(30, subs=point))
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (name, got, want)


def test_additions_are_not_reassociated():
    # (a + b) + c is 1.0 at this point and a + (b + c) is 0.0: the parentheses must survive
    left = adcompile.compile("(a + b) + c", args="a,b,c")
    right = adcompile.compile("a + (b + c)", args="a,b,c")
    assert (left.f(A, B, C), right.f(A, B, C)) == (1.0, 0.0)
    assert "t0 = a + (b + c)" in right.source


def test_black_hugs_power_only_around_simple_operands():
    source = value_only_module("(a + b)**3 + x**3 * sin(c)**3 + (-x)**3")
    assert "(a + b) ** 3" in source and "sin(c) ** 3" in source and "(-x) ** 3" in source
    assert "x**3" in source
    assert black.format_str(source, mode=black.Mode()) == source


def op_census(source: str, function: str) -> Counter:
    """Each operation of a function's body by kind: ``+``, ``-x``, ``sin(...)``."""
    census: Counter = Counter()
    for statement in body_statements(source, function):
        for node in ast.walk(statement):
            if isinstance(node, ast.BinOp):
                census[type(node.op).__name__] += 1
            elif isinstance(node, ast.UnaryOp):
                census["unary " + type(node.op).__name__] += 1
            elif isinstance(node, ast.Compare):
                census["compare"] += len(node.ops)
            elif isinstance(node, ast.Call):
                census[ast.unparse(node.func)] += 1
        if isinstance(statement, ast.AugAssign):
            census[type(statement.op).__name__] += 1
    return census


COUNT_SETTINGS = settings(max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


@COUNT_SETTINGS
@example("(sin((sin(x)) + (sin(x)))) / (2 + tanh((1) + (sin(x))))")  # an inlined partial sum
@given(expressions(max_steps=16))
def test_nothing_is_computed_twice_nor_dropped(text):
    # one step per line prints each op node once (test_codegen checks one op per line):
    # writing steps inline must leave the count of every kind of operation as it is
    inline = adcompile.compile(text, format=False).source
    steps = adcompile.compile(text, format=False, one_step_per_line=True).source
    for function in ("f", "grad_f"):
        assert op_census(inline, function) == op_census(steps, function), text


@COUNT_SETTINGS
@given(programs())
def test_random_programs_print_in_blacks_layout_and_keep_the_users_names(text):
    m = adcompile.compile(text, format=False)
    assert black.format_str(m.source, mode=black.Mode()) == m.source
    assert op_census(m.source, "grad_f") == op_census(
        adcompile.compile(text, format=False, one_step_per_line=True).source, "grad_f")
    assert max(len(line) for line in m.source.splitlines() if not line.startswith("#")) <= 88


@COUNT_SETTINGS
@given(expressions(max_steps=20, branches=True))
@example("-((x) ** 3)")  # black writes -(x**3): a unary minus over a power of an atom
@example("-(x + y)**2 - sin(x)**2 - 2**x - y*-x**-2")
def test_random_branches_print_in_blacks_layout(text):
    source = adcompile.compile(text, format=False).source
    assert black.format_str(source, mode=black.Mode()) == source
    steps = adcompile.compile(text, format=False, one_step_per_line=True).source
    assert op_census(source, "grad_f") == op_census(steps, "grad_f")


def test_a_step_the_user_named_keeps_its_line():
    source = adcompile.compile("u = x*y; v = sin(u); (v - y)**2", format=False).source
    assert "    u = x * y\n" in source and "    v = sin(u)\n" in source
    assert "d_u = " in source or "d_v = " in source  # adjoints named after the user's steps


def test_a_long_chain_is_cut_into_lines_that_fit():
    text = " + ".join(f"w{i}*x{i}" for i in range(40))
    m = adcompile.compile(text, format=False)
    lines = [line for line in m.source.splitlines() if not line.startswith("#")]
    assert max(len(line) for line in lines) <= 88
    assert any(line.count(" + ") >= 3 for line in lines)  # a partial sum on one line
    point = {f"{p}{i}": 0.5 + i / 7 for i in range(40) for p in "wx"}
    assert m.f(**point) == sum(point[f"w{i}"] * point[f"x{i}"] for i in range(40))


def test_a_branch_computes_only_what_it_takes_inside_its_block():
    m = adcompile.compile("where(x > 0, log(x + y*y) * y, -x*y)")
    assert m.f(-1.0, 2.0) == 2.0 and math.isclose(m.f(2.0, 1.0), math.log(3.0))
    source = m.source
    block = source[source.index("def f("):]
    # log's line sits inside the if block, not before it
    assert block.index("if ") < block.index("log(")


def test_numpy_frees_each_array_after_its_last_use():
    m = adcompile.compile("sum((a*x + b - y)**2)", backend="numpy")
    for function in ("loss", "grad_loss", "f", "grad_f"):
        if f"def {function}(" not in m.source:
            continue
        body = m.source[m.source.index(f"def {function}("):].split("\n\n\n")[0]
        seen_del: set[str] = set()
        for line in body.splitlines():
            stripped = line.strip()
            if stripped.startswith("del "):
                seen_del.update(n.strip() for n in stripped[4:].split(","))
                continue
            used = {n.id for n in ast.walk(ast.parse(stripped.rstrip(":") or "pass"))
                    if isinstance(n, ast.Name)} if not stripped.startswith(("def", '"""', "#", ")")) else set()
            assert not (used & seen_del), (line, seen_del)
    import numpy as np

    x = np.linspace(0, 1, 5)
    y = 2 * x + 1
    value, grad = m.grad_f(2.0, 1.0, x, y)
    assert value == 0.0 and all(g == 0.0 for g in grad[:2])


def test_one_step_per_line_is_an_option_of_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "adcompile", "(w*x + b - y)**2",
                           "--one-step-per-line"], capture_output=True, text=True, check=True)
    assert "    t0 = w * x\n    t1 = t0 + b\n" in done.stdout
    assert "--one-step-per-line" in done.stdout.split("def ")[0]  # the header's command
    default = subprocess.run([sys.executable, "-m", "adcompile", "(w*x + b - y)**2"],
                             capture_output=True, text=True, check=True)
    assert "    t0 = w * x + b - y\n" in default.stdout


def test_a_traceback_shows_the_line_with_the_failing_step():
    m = adcompile.compile("log(x - 1) * y + y")
    with pytest.raises(ValueError) as info:
        m.f(0.5, 1.0)
    import traceback

    shown = traceback.format_exception(info.value)[-2]  # the generated line that raised
    assert "<adcompile f" in shown and "log(" in shown


def test_comparisons_and_not_are_grouped_as_python_parses_them():
    # the language refuses a comparison of conditions, but the printer must never write
    # one as a chain (a < b == c means a < b and b == c in Python)
    from adcompile.codegen.inline import AND, COMPARE, Expr, infix, prefix

    left, right, _ = infix(Expr("a < b", COMPARE), "==", Expr("c < d", COMPARE))
    tree = ast.parse(f"{left} == {right}", mode="eval").body
    assert isinstance(tree, ast.Compare) and len(tree.ops) == 1
    assert isinstance(tree.left, ast.Compare) and isinstance(tree.comparators[0], ast.Compare)
    negated = prefix("not ", Expr("a and b", AND)).text
    assert isinstance(ast.parse(negated, mode="eval").body, ast.UnaryOp)


def test_the_header_regenerates_with_format_when_it_was_asked_for():
    # a trial found --format missing from "Regenerate with:" while --one-step-per-line was kept
    done = subprocess.run([sys.executable, "-m", "adcompile", "x*y", "--format"],
                          capture_output=True, text=True, check=True)
    assert "#     adcompile 'x*y' --format\n" in done.stdout
    plain = subprocess.run([sys.executable, "-m", "adcompile", "x*y"],
                           capture_output=True, text=True, check=True)
    assert "#     adcompile 'x*y'\n" in plain.stdout
