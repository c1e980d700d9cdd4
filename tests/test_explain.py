"""``adcompile explain`` and ``adcompile graph``: the seed's tables and figure."""

from __future__ import annotations

import json
import os
import re

import pytest
from support import POINT, SEED_GRADIENT

from adcompile.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = ("f0 = beta0 + omega0*x; h1 = sin(f0); f1 = beta1 + omega1*h1; h2 = exp(f1); "
           "f2 = beta2 + omega2*h2; h3 = cos(f2); f3 = beta3 + omega3*h3; (f3 - y)**2")
AT = ",".join(f"{k}={v:g}" for k, v in POINT.items())
# The seed's printed tables (../shared/seed/README.md).
SEED_FORWARD = dict(f0=1.230, h1=0.942, f1=1.623, h2=5.068, f2=7.137, h3=0.657, f3=2.372, l=0.139)
SEED_ADJOINTS = dict(f3=0.745, h3=2.234, f2=-1.683, h2=-3.366, f1=-17.060, h1=6.824, f0=2.281)
SEED_SECOND = dict(x1=3.0, x2=6.3)


def explain(capsys, *extra) -> str:
    assert main(["explain", PROGRAM, "--at", AT, "--name", "l", *extra]) == 0
    return capsys.readouterr().out


def test_explain_reproduces_the_seed_tables(capsys):
    out = explain(capsys)
    forward = dict(re.findall(r"^(\w+)\s+\w+\s+.*?\s(-?\d+\.\d{3})$", out, re.M))
    for name, value in SEED_FORWARD.items():
        assert float(forward[name]) == value, name
    adjoints = dict(re.findall(r"^dl/d(\w+)\s+\S+\s+\S+\s+.*\s(-?\d+\.\d{3})$", out, re.M))
    for name, value in SEED_ADJOINTS.items():
        assert float(adjoints[name]) == value, name
    gradient = {m[0]: (float(m[1]), float(m[2]))
                for m in re.findall(r"^(\w+)\s+(-?\d+\.\d{3})\s+(-?\d+\.\d{3})$", out, re.M)}
    for name, value in SEED_GRADIENT.items():
        assert gradient[name] == (value, value), name  # and the finite difference agrees


def test_explain_text_is_stable(capsys):
    """The golden file holds the text once reviewed against the seed (test above)."""
    with open(os.path.join(HERE, "golden", "explain_udl.txt"), encoding="utf-8") as f:
        assert explain(capsys) == f.read()


def test_shared_node_shows_each_contribution_and_the_sum(capsys):
    assert main(["explain", "x1*x2 + x2*4.3 + 30", "--at", "x1=2,x2=3", "--name", "y"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("dy/dx2"):].splitlines()[:3]
    assert sorted(line.split()[-1] for line in block[:2]) == ["2.000", "4.300"]
    assert block[2].split() == ["sum", "6.300"]


def test_markdown_and_json(capsys):
    md = explain(capsys, "--format", "markdown")
    assert "| node | op | definition | value |" in md and "| f0 | add | beta0 + t0 | 1.230 |" in md
    data = json.loads(explain(capsys, "--json"))
    assert round(data["gradient"]["omega0"], 3) == 5.246
    assert [s["name"] for s in data["forward"]][-1] == "l"


@pytest.mark.parametrize("at, message", [
    ("x1=2", "no value for x2"),
    ("x1=2,x2=three", "'three' is not a number"),
    ("x1=2,x2=3,z=1", "names z, which the expression does not use"),
    ("x1 2", "name=value pairs"),
])
def test_at_errors_are_clear(capsys, at, message):
    assert main(["explain", "x1*x2", "--at", at]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_explain_needs_a_point(capsys):
    assert main(["explain", "x*y"]) == 2
    assert "--at" in capsys.readouterr().err


def parse_dot(text: str):
    labels = dict(re.findall(r"^\s+(n\d+) \[label=<<b>(\w+)</b>", text, re.M))
    black = {(labels[a], labels[b]) for a, b in re.findall(r"(n\d+) -> (n\d+) \[color=black", text)}
    red = [(labels[a], labels[b], v) for a, b, v in
           re.findall(r'(n\d+) -> (n\d+) \[color=red.*label="([^"]+)"', text)]
    return labels, black, red


def test_graph_dot_of_the_seeds_second_example(tmp_path):
    path = tmp_path / "g.dot"
    assert main(["graph", "x1*x2 + x2*4.3 + 30", "--at", "x1=2,x2=3", "--name", "y", "-o", str(path)]) == 0
    text = path.read_text()
    labels, black, red = parse_dot(text)
    assert sorted(labels.values()) == ["t0", "t1", "t2", "x1", "x2", "y"]  # x2 appears once
    assert black == {("x1", "t0"), ("x2", "t0"), ("x2", "t1"), ("t0", "t2"), ("t1", "t2"), ("t2", "y")}
    into_x2 = sorted(v for a, b, v in red if b == "x2")
    assert into_x2 == ["2.000", "4.300"]  # both uses send an adjoint back
    assert '<font color="blue">dy/dx2 = 6.300</font>' in text
    assert '<font color="blue">dy/dx1 = 3.000</font>' in text


def test_graph_svg_is_rendered_by_graphviz(tmp_path):
    if not __import__("shutil").which("dot"):
        pytest.skip("Graphviz is not installed here (CI installs it)")
    path = tmp_path / "g.svg"
    assert main(["graph", "x1*x2 + x2*4.3 + 30", "--at", "x1=2,x2=3", "-o", str(path)]) == 0
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "6.300" in svg


def test_without_graphviz_svg_is_a_clear_error_and_dot_still_works(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert main(["graph", "x*y", "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "Graphviz" in err and "apt-get install graphviz" in err and "Traceback" not in err
    assert not (tmp_path / "g.svg").exists()
    assert main(["graph", "x*y", "-o", str(tmp_path / "g.dot")]) == 0


def test_large_graphs_get_a_size_limit(tmp_path, capsys):
    text = " + ".join(f"x{i}*y{i}" for i in range(100))
    assert main(["graph", text, "-o", str(tmp_path / "g.dot")]) == 2
    assert "--max-nodes" in capsys.readouterr().err
    assert main(["graph", text, "--max-nodes", "1000", "-o", str(tmp_path / "g.dot")]) == 0


@pytest.mark.parametrize("text, at, gradient", [
    ("sqrt(x)", "x=0", {"x": "inf"}),  # 0.5/sqrt(0)
    ("cbrt(x)", "x=0", {"x": "inf"}),  # 1/(3*cbrt(0)**2)
    ("atan2(y, x)", "x=0,y=0", {"x": "nan", "y": "nan"}),  # (x/h)/h with h = 0
    ("hypot(x, y)", "x=0,y=0", {"x": "nan", "y": "nan"}),  # x/h
    ("x**y", "x=0,y=0", {"x": "nan", "y": "nan"}),  # y*x**(y-1) = 0*inf; x**y*log(0)
])
def test_explain_and_graph_show_inf_and_nan_at_singular_points(capsys, tmp_path, text, at, gradient):
    # Issue 14 (4): these ended in a ZeroDivisionError (or ValueError) traceback
    assert main(["explain", text, "--at", at]) == 0
    out = capsys.readouterr().out
    rows = dict(re.findall(r"^(\w)\s+(\S+)\s+\S+$", out[out.index("gradient, with"):], re.M))
    assert {k: rows[k] for k in gradient} == gradient
    assert "note: inf or nan marks a number that is not finite" in out
    assert main(["explain", text, "--at", at, "--json"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert data["singular"] is True and data["gradient"] == gradient
    assert main(["graph", text, "--at", at, "-o", str(tmp_path / "g.dot")]) == 0
    assert "not finite at this point" in (tmp_path / "g.dot").read_text()


def test_explain_at_a_regular_point_has_no_singular_note(capsys):
    assert main(["explain", "sqrt(x)", "--at", "x=4"]) == 0
    out = capsys.readouterr().out
    assert "not finite" not in out and re.search(r"^x\s+0\.250\s+0\.250$", out, re.M)


def test_explain_shows_operands_in_the_order_written(capsys):
    # Issue 14 (13): the README says "exactly as written", but x2*4.3 printed as 4.3 * x2
    assert main(["explain", "x1*x2 + x2*4.3 + 30", "--at", "x1=2,x2=3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^t1\s+mul\s+x2 \* 4\.3\s", out, re.M), out


def test_a_variable_given_twice_in_at_is_an_error(capsys):
    assert main(["explain", "sin(x)*y", "--at", "x=1,x=2,y=2"]) == 2
    assert "--at gives x twice" in capsys.readouterr().err


def test_the_graph_note_does_not_mention_finite_differences(tmp_path):
    assert main(["graph", "sqrt(x)", "--at", "x=0", "-o", str(tmp_path / "g.dot")]) == 0
    text = (tmp_path / "g.dot").read_text()
    assert "not finite at this point" in text and "finite difference" not in text
