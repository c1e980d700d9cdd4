"""The expression language: what parses, to what, and what is refused where."""

from __future__ import annotations

import math

import pytest

import adcompile
from adcompile import ParseError
from adcompile.cli import main
from adcompile.ir.graph import Graph, format_ir
from adcompile.frontend.text import one_line_program, parse


def value(text: str, **at) -> float:
    m = adcompile.compile(text, args=list(at) or None)
    return m.f(**at)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2", 2.0),
        ("2.5 + .5", 3.0),
        ("1e-3 * 1000", 1.0),
        ("1_000 + 1", 1001.0),
        ("-2**2", -4.0),
        ("2**-1", 0.5),
        ("2**3**2", 512.0),
        ("2^3^2", 512.0),
        ("-x**2", -9.0),
        ("(-x)**2", 9.0),
        ("10 - 4 - 3", 3.0),
        ("64 / 4 / 2", 8.0),
        ("2 * 3 + 4 * 5", 26.0),
        ("+x - -x", 6.0),
        ("2**-x*3", 2**-3 * 3),
        ("pi", math.pi),
        ("log(8, 2)", 3.0),
        ("max(1, x, 2)", 3.0),
        ("min(5, x, 4)", 3.0),
        ("pow(x, 2)", 9.0),
        ("hypot(x, 4)", 5.0),
        ("atan2(1, 1) * 4", math.pi),
        ("sin(x)**2 + cos(x)**2", 1.0),
    ],
)
def test_values_follow_python_precedence(text, expected):
    at = {"x": 3.0} if "x" in text else {}
    assert value(text, **at) == pytest.approx(expected, rel=1e-15)


def test_newlines_inside_parentheses_and_after_operators_continue():
    assert value("(x +\n 1)", x=1.0) == 2.0
    assert value("x +\n 1", x=1.0) == 2.0


def test_unicode_names_and_nfkc_merge():
    m = adcompile.compile("ω0 * β0 + ﬁ - fi")
    assert m.ARGS == ("fi", "β0", "ω0")
    assert m.f(fi=1.0, β0=2.0, ω0=3.0) == 6.0


def test_function_names_may_be_variables_when_not_called():
    m = adcompile.compile("abs(max) + sum")
    assert m.ARGS == ("max", "sum")
    assert m.f(max=-2.0, sum=1.0) == 3.0


REFUSED = [
    ("sinn(x)", "unknown function 'sinn'; did you mean 'sin'?", 1),
    ("x +", "ends where a value is expected", 4),
    ("x.y", "attribute access", 2),
    ("x[0.5]", "an index must be a whole number, not 0.5", 3),
    ("'abc'", "strings", 1),
    ('"abc"', "strings", 1),
    ("lambda x: x", "lambdas", 9),
    ("log(x, base=2)", "keyword arguments", 12),
    ("x < 1", "the output x < 1 is a condition, not a number: use where(x < 1, 1, 0)", 1),
    ("x == 1", "the output x == 1 is a condition", 1),
    ("x if x else y", "x is a number, not a condition: write a comparison, such as x > 0", 6),
    ("x is y", "'is' is not supported", 3),
    ("x ! y", "'!' is not supported", 3),
    ("atan2(x)", "atan2() takes 2 arguments, but 1 was given", 1),
    ("sin(x, y)", "sin() takes 1 argument, but 2 were given", 1),
    ("sin()", "sin() needs 1 argument", 5),
    ("sin(x,)", "a value is expected before ')'", 7),
    ("(x + 1", "'(' is never closed", 1),
    ("sin(x", "'sin(' is never closed", 4),  # the caret is under the '(' left open
    ("x + 1)", "unmatched ')'", 6),
    ("2x", "implicit multiplication", 2),
    ("x y", "missing operator before 'y'", 3),
    ("1e", "exponent has no digits", 2),
    ("1.2.3", "malformed number", 4),
    ("1e999", "too large", 1),
    ("__import__('os').system('x')", "strings", 12),
    ("x // 2", "floor division", 3),
    ("x % 2", "%", 3),
    ("x @ y", "@", 3),
    ("x\u202e", "U+202E", 2),
    ("", "empty", 1),
    ("f(x)", "unknown function 'f'", 1),
    ("x(1)", "unknown function 'x'", 1),
    ("(x, y)", "tuples are not supported inside parentheses", 3),
    ("2 (x)", "is not a function", 3),
    ("sin(x) = 2", "'=' can only follow the name", 8),
    ("x = 1", "must end with an expression", 1),
    ("pi = 3; pi", "constant", 1),
]


@pytest.mark.parametrize("text, message, column", REFUSED, ids=[r[0] or "empty" for r in REFUSED])
def test_bad_input_is_a_parse_error_with_position(text, message, column):
    with pytest.raises(ParseError) as info:
        adcompile.compile(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert message in str(err)
    assert err.column == column, str(err)
    caret_line = str(err).splitlines()[-1]
    assert caret_line.index("^") == 4 + column - 1


def test_error_excerpt_of_a_long_line_is_a_window():
    text = " + ".join(f"x{i}" for i in range(5000)) + " + sinn(x)"
    with pytest.raises(ParseError) as info:
        adcompile.compile(text)
    lines = str(info.value).splitlines()
    assert "sinn" in lines[1] and len(lines[1]) < 200
    assert lines[2].index("^") == lines[1].index("sinn")


def test_one_line_program_parses_to_the_same_graph():
    text = "a = x*2  # double\nb = sin(a +\n  1)\n-b**2 + f(1) if 0 else -b"
    with pytest.raises(ParseError):
        parse(text)
    text = "a = x*2  # double\nb = sin(a +\n  1)\n-b**2, max(a, -b)"
    flat = one_line_program(text)
    assert "\n" not in flat and "#" not in flat
    assert flat == "a = x * 2; b = sin(a + 1); -b ** 2, max(a, -b)"
    g1, g2 = Graph(), Graph()
    p1, p2 = parse(text, g1), parse(flat, g2)
    assert len(g1.nodes) == len(g2.nodes)
    assert format_ir(p1.outputs) == format_ir(p2.outputs)


# --- a name assigned anywhere is a step: using it before or in its assignment is an error ---
def test_use_before_assignment_has_one_caret_and_names_the_assignment():
    with pytest.raises(ParseError) as info:
        adcompile.compile("a = x + 1; b = c*2; c = a*y; b")
    err = info.value
    assert (err.line, err.column) == (1, 16)  # the use of c in b = c*2
    lines = str(err).splitlines()
    assert lines[0] == ("line 1, column 16: 'c' is used before it is assigned "
                        "(assigned later at line 1, column 21)")
    assert lines[2].index("^") == 4 + 16 - 1


@pytest.mark.parametrize("text, name, line, column, assigned_at", [
    ("a = a * 3.0; a", "a", 1, 5, "line 1, column 1"),
    ("a = 2*x\nb = x*b + a\nb", "b", 2, 7, "line 2, column 1"),
    ("q = sin(q)\nq", "q", 1, 9, "line 1, column 1"),
])
def test_a_name_used_in_its_own_assignment_is_used_before_it_is_assigned(
        text, name, line, column, assigned_at):
    with pytest.raises(ParseError) as info:
        adcompile.compile(text)
    err = info.value
    assert f"'{name}' is used before it is assigned (in its own assignment, at {assigned_at}" in str(err)
    assert (err.line, err.column) == (line, column)


# --- errors in multi-line programs are reported where the mistake is ---
MULTI_LINE_ERRORS = [
    ("h1 = sin(x\nh2 = cos(h1)\nh2\n", "'sin(' is never closed", 1, 9),
    ("h1 = (x\nh2 = cos(h1)\nh2\n", "'(' is never closed", 1, 6),
    ("h1 = sin(x) +\nh2 = cos(h1)\nh2\n", "nothing follows '+'", 1, 13),
    ("h1 = x *\n\n# a comment\nh2 = cos(h1)\nh2\n", "nothing follows '*'", 1, 8),
    ("h1 = sin(x\nh2 = cos(h1))\nh2\n", "'sin(' is not closed before the next statement starts", 1, 9),
    ("y = sin(x +\n1\nz = 2\nz", "'sin(' is never closed", 1, 8),
    ("a = x\nb = a +\nb", "the '+' at the end of line 2 joins the next line to this statement", 2, 1),
    # a genuine mistake on a continued line is still reported on that line
    ("y = sin(x +\n1 2)\ny", "missing operator before '2'", 2, 3),
    ("y = log(x,\n base=2)\ny", "keyword arguments are not supported", 2, 6),
    ("a = x +\n  (y", "'(' is never closed", 2, 3),
]


@pytest.mark.parametrize("text, message, line, column", MULTI_LINE_ERRORS)
def test_multi_line_errors_point_at_the_open_bracket_or_dangling_operator(text, message, line, column):
    with pytest.raises(ParseError) as info:
        adcompile.compile(text)
    err = info.value
    assert message in str(err)
    assert (err.line, err.column) == (line, column), str(err)


def test_multi_line_statements_inside_brackets_and_after_operators_still_parse():
    text = "h1 = max(x,\n  y,\n  2)\nh2 = (h1 +\n 1) * 2\nh3 = sin(x\n + 1)\nh2 + h3"
    assert value(text, x=3.0, y=1.0) == pytest.approx((3.0 + 1.0) * 2 + math.sin(4.0), rel=1e-15)


def test_cli_reports_an_unclosed_bracket_in_a_file_on_its_line(tmp_path, capsys):
    path = tmp_path / "bad.adc"
    path.write_text("h1 = sin(x\nh2 = cos(h1)\nh2\n")
    assert main(["-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"adcompile: error: {path}:1:9: 'sin(' is never closed",
        "    h1 = sin(x",
        "    " + " " * 8 + "^",
    ]


# --- the caret lines up under tabs and wide characters ---
def test_caret_follows_tabs_in_the_source_line():
    with pytest.raises(ParseError) as info:
        adcompile.compile("x\t+ sinn(x)")
    source_line, caret_line = str(info.value).splitlines()[1:]
    for tabsize in (4, 8):
        assert (caret_line.expandtabs(tabsize).index("^")
                == source_line.expandtabs(tabsize).index("sinn"))


def test_cli_caret_follows_leading_tabs_on_a_later_line(tmp_path, capsys):
    path = tmp_path / "tabs.adc"
    path.write_text("a = x\n\t\th1 = sin(a) + \t# comment\nh2 = cos(h1)\nh2\n")
    assert main(["-f", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (f"adcompile: error: {path}:2:15: "
                        "nothing follows '+': the next line starts a new statement")
    assert lines[2].expandtabs().index("^") == lines[1].expandtabs().index("+")


def test_caret_counts_a_wide_character_as_two_columns():
    with pytest.raises(ParseError) as info:
        adcompile.compile("\u4e2d + sinn(x)")  # 中, two columns wide on a terminal
    assert str(info.value).splitlines()[2] == "    " + " " * 5 + "^"
