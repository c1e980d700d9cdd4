"""``explain`` and ``graph`` through branches (issue 17): conditions read like the
source and are true or false, a where says which branch this point takes, what
only the branch not taken needs is "not taken", and adjoints flow to the taken
branch alone."""

from __future__ import annotations

import json
import re

import pytest

import adcompile
from adcompile.cli import main

LOG_OR_NEG = "where(x > 0, log(x), -x)"
SINGULAR = "note: inf or nan marks a number that is not finite"


def explain(capsys, text: str, at: str, *extra: str) -> str:
    assert main(["explain", text, "--at", at, *extra]) == 0
    return capsys.readouterr().out


def strict_json(text: str) -> dict:
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


def test_then_branch_taken(capsys):
    out = explain(capsys, LOG_OR_NEG, "x=2")
    # x > 0 holds at 2, so f = log(2) = 0.693 and df/dx = 1/x = 0.5; -x is never computed
    assert out.splitlines()[3:9] == [
        "forward pass, in topological order",
        "node  op     definition            value  branch taken",
        "----  -----  ----------------  ---------  ------------",
        "t0    gt     x > 0.0                true",
        "t1    log    log(x)                0.693",
        "t2    neg    -x                not taken",
    ] and out.splitlines()[9] == "f     where  t1 if t0 else t2      0.693  then (t1)"
    backward = out[out.index("backward pass"):out.index("gradient, with")].splitlines()
    assert backward[3:6] == [
        "df/df    (seed)                                            1.000",
        "df/dt1   f             1.000  df/dt1 = 1.000               1.000",  # where -> taken branch
        "df/dx    t1            1.000  dt1/dx = 0.500               0.500",  # d log(x)/dx = 1/2
    ]
    assert not any(line.startswith(("df/dt0", "df/dt2")) for line in backward)  # no rows
    assert "no adjoint rows for t0 (conditions" in out and "nor for t2 (needed only by a branch" in out
    assert re.search(r"^x\s+0\.500\s+0\.500$", out, re.M)  # gradient and finite difference


def test_else_branch_taken_and_the_untaken_log_is_not_singular(capsys):
    out = explain(capsys, LOG_OR_NEG, "x=-1")
    # x > 0 fails at -1, so f = -x = 1 and df/dx = -1; log(-1) is never computed
    lines = out.splitlines()
    assert lines[6:10] == [
        "t0    gt     x > 0.0               false",
        "t1    log    log(x)            not taken",
        "t2    neg    -x                    1.000",
        "f     where  t1 if t0 else t2      1.000  else (t2)",
    ]
    assert "df/dt2   f             1.000  df/dt2 = 1.000               1.000" in lines
    assert "df/dx    t2            1.000  dt2/dx = -1.000             -1.000" in lines
    assert re.search(r"^x\s+-1\.000\s+-1\.000$", out, re.M)
    assert SINGULAR not in out and "nan" not in out and "inf" not in out


def test_a_singular_step_in_the_taken_branch_still_gets_the_note(capsys):
    out = explain(capsys, "where(x < 0, log(x), x)", "x=-1")  # log(-1) is taken: nan
    assert SINGULAR in out and re.search(r"^t1\s+log\s+log\(x\)\s+nan$", out, re.M)


def test_boolean_operators_read_like_the_source(capsys):
    out = explain(capsys, "log(x) if x > 0 and not (x == 3) else -x", "x=2")
    # 2 > 0 is true, 2 == 3 false, so not(...) true and the and true: log(2) is taken
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^(t\d|f)\s+\w+\s+(.*?)\s{2,}(\S+)", out, re.M)}
    assert rows["t1"] == ("x > 0.0", "true")
    assert rows["t2"] == ("x == 3.0", "false")
    assert rows["t3"] == ("not t2", "true")
    assert rows["t4"] == ("t1 and t3", "true")
    assert rows["t5"] == ("-x", "not")  # "not taken"
    assert rows["f"] == ("t0 if t4 else t5", "0.693")


def test_nested_branch_not_taken_is_not_taken_throughout(capsys):
    out = explain(capsys, "where(x > 0, where(x > 1, log(x), sqrt(x)), -x*y)", "x=-4,y=0.5")
    for name in ("t1", "t2", "t3", "t4"):  # the inner where, its condition and both its branches
        assert re.search(rf"^{name}\s.*\snot taken$", out, re.M), name
    # f = -x*y: df/dx = -y = -0.5, df/dy = -x = 4
    assert re.search(r"^x\s+-0\.500\s+-0\.500$", out, re.M)
    assert re.search(r"^y\s+4\.000\s+4\.000$", out, re.M)
    assert SINGULAR not in out


def test_a_variable_only_a_condition_uses_has_no_contribution(capsys):
    out = explain(capsys, "where(y > 0, x, 2*x)", "x=3,y=1")  # f = x here: df/dx = 1, df/dy = 0
    assert re.search(r"^df/dy\s+\(none\)\s+0\.000$", out, re.M)
    assert re.search(r"^df/dx\s+f\s+1\.000\s+df/dx = 1\.000\s+1\.000$", out, re.M)


def test_json_round_trip(capsys):
    data = strict_json(explain(capsys, LOG_OR_NEG, "x=-1", "--json"))
    forward = {s["name"]: s for s in data["forward"]}
    assert forward["t0"]["value"] is False and "branch" not in forward["t0"]
    assert forward["t1"]["value"] is None and forward["t1"]["taken"] is False
    assert forward["t2"]["value"] == 1.0 and "taken" not in forward["t2"]
    assert forward["f"]["branch"] == "else" and forward["f"]["value"] == 1.0
    assert [s["name"] for s in data["backward"]] == ["f", "t2", "x"]
    assert data["gradient"] == {"x": -1.0} and data["singular"] is False
    assert data["finite_difference"]["x"] == pytest.approx(-1.0, abs=1e-6)
    data = strict_json(explain(capsys, LOG_OR_NEG, "x=2", "--json"))
    assert {s["name"]: s["value"] for s in data["forward"]}["t0"] is True
    assert data["forward"][-1]["branch"] == "then"


def test_json_of_a_program_without_branches_has_no_branch_keys(capsys):
    data = strict_json(explain(capsys, "x*y + sin(x)", "x=1,y=2", "--json"))
    assert all(set(s) == {"name", "op", "definition", "value", "adjoint", "contributions"}
               for s in data["forward"] + data["backward"])


def test_markdown_has_the_branch_column(capsys):
    out = explain(capsys, LOG_OR_NEG, "x=-1", "--format", "markdown")
    assert "| node | op | definition | value | branch taken |" in out
    assert "| f | where | t1 if t0 else t2 | 1.000 | else (t2) |" in out
    assert "| t1 | log | log(x) | not taken |  |" in out


def test_graph_draws_conditions_choices_and_the_branch_not_taken(tmp_path):
    path = tmp_path / "g.dot"
    assert main(["graph", LOG_OR_NEG, "--at", "x=-1", "-o", str(path)]) == 0
    text = path.read_text()
    ids = dict((name, node) for node, name in re.findall(r"^\s+(n\d+) \[label=<<b>(\w+)</b>", text, re.M))
    assert re.search(rf'{ids["t0"]} \[label=<<b>t0</b><br/>x &gt; 0.0<br/>= false>, shape=diamond\]', text)
    assert re.search(rf'{ids["f"]} \[label=<.*t1 if t0 else t2.*\(else\).*>, shape=hexagon\]', text)
    assert re.search(rf'{ids["t1"]} \[label=<.*not taken>, style="rounded,dashed", color=grey', text)
    edges = {(a, b): attrs for a, b, attrs in re.findall(r"(n\d+) -> (n\d+) \[([^\]]*)\]", text)}
    assert edges[ids["t0"], ids["f"]] == 'color=black, label="if"'
    assert edges[ids["t1"], ids["f"]] == 'style=dashed, color=grey, fontcolor=grey, label="then"'
    assert edges[ids["t2"], ids["f"]] == 'color=black, label="else"'
    assert edges[ids["x"], ids["t1"]].startswith("style=dashed, color=grey")
    assert "dft0" not in text.replace("/", "") and "not finite" not in text  # no adjoint, no note
    assert main(["graph", LOG_OR_NEG, "-o", str(path)]) == 0  # without a point nothing is grey
    text = path.read_text()
    assert "shape=diamond" in text and "shape=hexagon" in text and "dashed" not in text


@pytest.mark.parametrize("text, points", [
    (LOG_OR_NEG, [{"x": -1.0}, {"x": 0.0}, {"x": 2.0}]),
    ("where(x > 0, sqrt(x), 0)", [{"x": -1.0}, {"x": 0.0}, {"x": 0.25}, {"x": 4.0}]),
    ("where(abs(x) <= d, x*x/2, d*(abs(x) - d/2))", [{"x": 0.5, "d": 1.0}, {"x": -3.0, "d": 1.0}]),
    ("x*y if 0 < x < 1 or not (y > 2.5) else exp(x) - y", [{"x": 0.5, "y": 3.0}, {"x": 2.0, "y": 2.0},
                                                          {"x": 2.0, "y": 3.0}]),
    ("where(x > 0, where(x > 1, log(x), sqrt(x)), -x*y) + x*y", [{"x": -4.0, "y": 0.5},
                                                                 {"x": 0.5, "y": 2.0}, {"x": 3.0, "y": 2.0}]),
])
def test_gradient_equals_the_compiled_modules(capsys, text, points):
    module = adcompile.compile(text)
    for point in points:
        at = ",".join(f"{k}={v!r}" for k, v in point.items())
        data = strict_json(explain(capsys, text, at, "--json"))
        value, gradient = module.grad_f(**point)
        assert data["forward"][-1]["value"] == value, at
        assert list(data["gradient"].values()) == list(gradient), at
        finite = data["finite_difference"]
        if point["x"] != 0.0:  # at x = 0 (a boundary) a central difference straddles it
            assert list(finite.values()) == pytest.approx(list(gradient), rel=1e-5, abs=1e-6), at
