"""Each optimization pinned by small before/after IR (``graph.format_ir``).

"Before" is the graph built with the optimization switched off, "after" with
it on; both strings are written out by hand from the rule being tested.
"""

import pytest

from adcompile.ad.modes import reverse
from adcompile.ir.graph import Graph, format_ir
from adcompile.frontend.text import parse
from adcompile.ir.rewrite import RULES


def ir(text: str, **flags) -> str:
    return format_ir(parse(text, Graph(**flags)).outputs)


def gradient_ir(text: str, wrt: list[str]) -> tuple[str, Graph]:
    graph = Graph()
    program = parse(text, graph)
    grads, _ = reverse(graph, program.outputs, [1.0], [graph.var(w) for w in wrt])
    return format_ir([g if g is not None else graph.const(0.0) for g in grads]), graph


def test_hash_consing_merges_identical_subexpressions():
    text = "sin(x)*sin(x) + sin(x)"
    assert ir(text, cse=False, algebra=False) == (
        "%0 = sin(x)\n%1 = sin(x)\n%2 = mul(%0, %1)\n%3 = sin(x)\n%4 = add(%2, %3)\nreturn %4")
    assert ir(text) == "%0 = sin(x)\n%1 = mul(%0, %0)\n%2 = add(%0, %1)\nreturn %2"


def test_commutative_arguments_are_put_in_one_order_so_they_merge():
    assert ir("x*y + y*x") == "%0 = mul(x, y)\n%1 = add(%0, %0)\nreturn %1"


def test_constant_folding_uses_the_ops_value_rule():
    assert ir("exp(0) * x + 2**3", fold=False, algebra=False) == (
        "%0 = exp(0.0)\n%1 = mul(%0, x)\n%2 = pow(2.0, 3.0)\n%3 = add(%1, %2)\nreturn %3")
    assert ir("exp(0) * x + 2**3") == "%0 = add(8.0, x)\nreturn %0"


def test_folding_leaves_domain_errors_to_run_time():
    assert ir("log(-1) + x") == "%0 = log(-1.0)\n%1 = add(%0, x)\nreturn %1"


# One example per rule in rewrite.RULES: (input, IR without the rule, IR with it).
ALGEBRA = {
    "0 + x -> x": ("0 + x", "%0 = add(0.0, x)\nreturn %0", "return x"),
    "x + (-y) -> x - y": ("x + -y", "%0 = neg(y)\n%1 = add(x, %0)\nreturn %1",
                          "%0 = sub(x, y)\nreturn %0"),
    "(-x) + y -> y - x": ("-x + y", "%0 = neg(x)\n%1 = add(%0, y)\nreturn %1",
                          "%0 = sub(y, x)\nreturn %0"),
    "x - 0 -> x": ("x - 0", "%0 = sub(x, 0.0)\nreturn %0", "return x"),
    "0 - x -> -x": ("0 - x", "%0 = sub(0.0, x)\nreturn %0", "%0 = neg(x)\nreturn %0"),
    "x - (-y) -> x + y": ("x - -y", "%0 = neg(y)\n%1 = sub(x, %0)\nreturn %1",
                          "%0 = add(x, y)\nreturn %0"),
    "1 * x -> x": ("x * 1", "%0 = mul(1.0, x)\nreturn %0", "return x"),
    "-1 * x -> -x": ("x * -1", "%0 = mul(-1.0, x)\nreturn %0", "%0 = neg(x)\nreturn %0"),
    "c * (-x) -> (-c) * x": ("3 * -x", "%0 = neg(x)\n%1 = mul(3.0, %0)\nreturn %1",
                             "%0 = mul(-3.0, x)\nreturn %0"),
    "(-x) * (-y) -> x * y": ("-x * -y", "%0 = neg(x)\n%1 = neg(y)\n%2 = mul(%0, %1)\nreturn %2",
                             "%0 = mul(x, y)\nreturn %0"),
    "x / 1 -> x": ("x / 1", "%0 = div(x, 1.0)\nreturn %0", "return x"),
    "x / -1 -> -x": ("x / -1", "%0 = div(x, -1.0)\nreturn %0", "%0 = neg(x)\nreturn %0"),
    "(-x) / (-y) -> x / y": ("-x / -y", "%0 = neg(x)\n%1 = neg(y)\n%2 = div(%0, %1)\nreturn %2",
                             "%0 = div(x, y)\nreturn %0"),
    "c / (-x) -> (-c) / x": ("2 / -x", "%0 = neg(x)\n%1 = div(2.0, %0)\nreturn %1",
                             "%0 = div(-2.0, x)\nreturn %0"),
    "(-x) / c -> x / (-c)": ("-x / 2", "%0 = neg(x)\n%1 = div(%0, 2.0)\nreturn %1",
                             "%0 = div(x, -2.0)\nreturn %0"),
    "-(-x) -> x": ("-(-x)", "%0 = neg(x)\n%1 = neg(%0)\nreturn %1", "return x"),
    "-(x - y) -> y - x": ("-(x - y)", "%0 = sub(x, y)\n%1 = neg(%0)\nreturn %1",
                          "%0 = sub(y, x)\nreturn %0"),
    "-(c * x) -> (-c) * x": ("-(2*x)", "%0 = mul(2.0, x)\n%1 = neg(%0)\nreturn %1",
                             "%0 = mul(-2.0, x)\nreturn %0"),
    "-(c / x) -> (-c) / x": ("-(2/x)", "%0 = div(2.0, x)\n%1 = neg(%0)\nreturn %1",
                             "%0 = div(-2.0, x)\nreturn %0"),
    "where(c, p, q) + where(c, r, s) -> where(c, p + r, q + s): one choice, each branch "
    "computing only its own sum": (
        "where(x > 0, y, 1) + where(x > 0, z, 2)",
        "%0 = gt(x, 0.0)\n%1 = where(%0, y, 1.0)\n%2 = where(%0, z, 2.0)\n%3 = add(%1, %2)\nreturn %3",
        "%0 = gt(x, 0.0)\n%1 = add(y, z)\n%2 = where(%0, %1, 3.0)\nreturn %2"),
    "where(c, a, a) -> a": ("where(x > 0, y, y)", "%0 = gt(x, 0.0)\n%1 = where(%0, y, y)\nreturn %1",
                            "return y"),
    "where(True, a, b) -> a; where(False, a, b) -> b": (
        "where(1 > 0, y, z)", "%0 = where(1.0, y, z)\nreturn %0", "return y"),
    "where(c, where(c, p, q), b) -> where(c, p, b)": (
        "where(x > 0, where(x > 0, y, z), 1)",
        "%0 = gt(x, 0.0)\n%1 = where(%0, y, z)\n%2 = where(%0, %1, 1.0)\nreturn %2",
        "%0 = gt(x, 0.0)\n%1 = where(%0, y, 1.0)\nreturn %1"),
    "where(c, a, where(c, p, q)) -> where(c, a, q)": (
        "where(x > 0, 1, where(x > 0, y, z))",
        "%0 = gt(x, 0.0)\n%1 = where(%0, y, z)\n%2 = where(%0, 1.0, %1)\nreturn %2",
        "%0 = gt(x, 0.0)\n%1 = where(%0, 1.0, z)\nreturn %1"),
    "x ** 1 -> x": ("x**1", "%0 = pow(x, 1.0)\nreturn %0", "return x"),
    "x ** 0 -> 1 (also for nan, as IEEE pow)": ("x**0", "%0 = pow(x, 0.0)\nreturn %0", "return 1.0"),
    "x ** 2 -> x * x": ("x**2", "%0 = pow(x, 2.0)\nreturn %0", "%0 = mul(x, x)\nreturn %0"),
    "x ** -1 -> 1 / x": ("x**-1", "%0 = pow(x, -1.0)\nreturn %0", "%0 = div(1.0, x)\nreturn %0"),
}


def test_every_rewrite_rule_has_a_golden_example():
    assert sorted(ALGEBRA) == sorted(doc for _, _, doc in RULES)


@pytest.mark.parametrize("rule", sorted(ALGEBRA))
def test_rewrite_rule(rule):
    text, before, after = ALGEBRA[rule]
    assert ir(text, algebra=False) == before
    assert ir(text) == after


def test_x_times_zero_is_kept_for_nan_and_inf():
    assert ir("x * 0") == "%0 = mul(0.0, x)\nreturn %0"


def test_seed_adjoint_of_one_is_not_multiplied():
    text, _ = gradient_ir("sin(x)", ["x"])
    assert text == "%0 = cos(x)\nreturn %0"


def test_adjoints_accumulate_by_addition_only_when_there_are_two():
    text, _ = gradient_ir("x*y + x*z", ["x"])
    assert text == "%0 = add(y, z)\nreturn %0"
    text, _ = gradient_ir("x*y + z", ["x"])
    assert text == "return y"


def test_dead_code_nothing_off_the_path_to_wrt_is_differentiated():
    text, graph = gradient_ir("x*y + sin(z)", ["x"])
    assert text == "return y"
    assert not any(n.op is not None and n.op.name == "cos" for n in graph.nodes)


def test_unused_wrt_is_structurally_zero():
    text, _ = gradient_ir("x*y", ["z"])
    assert text == "return 0.0"


def test_grad_with_a_wrt_subset_prints_no_adjoints_off_its_paths():
    import adcompile

    source = adcompile.compile("x*y + sin(z)*w", wrt="x").source
    grad = source[source.index("def grad_f"):]
    assert "cos" not in grad and "d_w" not in grad and "d_z" not in grad
