"""The three ways in: programs with named steps, traced Python functions, files and stdin."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from support import POINT, SEED_FORWARD, SEED_GRADIENT, close

import adcompile
from adcompile import cos, exp, sin
from adcompile.cli import main

STEPS = ["f0 = beta0 + omega0*x", "h1 = sin(f0)", "f1 = beta1 + omega1*h1", "h2 = exp(f1)",
         "f2 = beta2 + omega2*h2", "h3 = cos(f2)", "f3 = beta3 + omega3*h3"]
PROGRAM = "; ".join(STEPS) + "; (f3 - y)**2"


def udl_model(x, y, beta0, beta1, beta2, beta3, omega0, omega1, omega2, omega3):
    f0 = beta0 + omega0 * x
    h1 = sin(f0)
    f1 = beta1 + omega1 * h1
    h2 = exp(f1)
    f2 = beta2 + omega2 * h2
    h3 = cos(f2)
    f3 = beta3 + omega3 * h3
    return (f3 - y) ** 2


# --- program form ---
def test_program_keeps_the_seeds_forward_names_and_adjoint_names():
    source = adcompile.compile(PROGRAM, name="loss").source
    for step in STEPS:
        name = step.split(" =")[0]
        assert f"    {name} = " in source
        assert f"    d_{name} = " in source
    assert "d_f3 = " in source  # the seed's dl/df3, not a temporary's name


@pytest.mark.parametrize("k", range(len(STEPS)))
def test_program_step_values_match_the_seed_table(k):
    program = "; ".join(STEPS[: k + 1]) + "; " + STEPS[k].split(" =")[0]
    m = adcompile.compile(program)
    expected = list(SEED_FORWARD.values())[k]
    assert round(m.f(**{a: POINT[a] for a in m.ARGS}), 3) == expected


def test_program_gradient_matches_the_seed_table():
    m = adcompile.compile(PROGRAM, name="loss")
    value, grad = m.grad_loss(**POINT)
    assert round(value, 3) == SEED_FORWARD[list(SEED_FORWARD)[-1]]
    for name, g in zip(m.WRT, grad):
        if name in SEED_GRADIENT:
            assert round(g, 3) == SEED_GRADIENT[name], name


def test_assigned_names_are_intermediates_not_arguments():
    m = adcompile.compile("a = x*y; b = a + 1; b*b")
    assert m.ARGS == ("x", "y")


def test_a_step_merged_by_optimization_may_vanish_but_kept_steps_keep_names():
    source = adcompile.compile("a = x*1; b = a*y; b + 1").source
    assert "\n    b = " in source and "\n    a = " not in source


PROGRAM_ERRORS = [
    ("a = x; a = 2; a", "'a' is assigned twice", 1, 8),
    ("b = a + 1; a = 2; b", "'a' is used before it is assigned", 1, 5),
    ("a = frob(x); a", "unknown function 'frob'", 1, 5),
    ("a = x\nb = a +\nb", "the program must end", 2, 1),  # a newline after + continues
]


@pytest.mark.parametrize("text, message, line, column", PROGRAM_ERRORS)
def test_program_errors_say_what_and_where(text, message, line, column):
    with pytest.raises(adcompile.ParseError) as info:
        adcompile.compile(text)
    assert message in str(info.value)
    assert (info.value.line, info.value.column) == (line, column)


@pytest.mark.parametrize("text, message, line, column", PROGRAM_ERRORS)
def test_file_errors_name_the_file_line_and_column(tmp_path, capsys, text, message, line, column):
    path = tmp_path / "model.adc"
    path.write_text(text.replace("; ", "\n"))
    assert main(["-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert f"{path}:" in err and "^" in err


# --- tracing ---
def test_traced_model_gives_the_programs_gradient_exactly():
    traced = adcompile.compile(udl_model)
    program = adcompile.compile(PROGRAM, args=list(traced.ARGS))
    args = [POINT[a] for a in traced.ARGS]
    assert traced.grad_udl_model(*args) == program.grad_f(*args)
    assert traced.name == "udl_model"


def test_args_follow_the_signature_order():
    def model(x, beta0, omega0, beta1, omega1):
        return beta1 + omega1 * sin(beta0 + omega0 * x)

    m = adcompile.compile(model)
    assert m.ARGS == ("x", "beta0", "omega0", "beta1", "omega1")
    value, grad = m.grad_model(x=2.3, beta0=1.0, omega0=0.1, beta1=2.0, omega1=-0.4)
    assert close(value, 2.0 - 0.4 * math.sin(1.23))
    assert close(grad[3], 1.0) and close(grad[4], math.sin(1.23))


def mixed(x, y):
    return (2 - x) * (3 / y) + 2**x - x**3 + (1 + y) * 4 - -x + abs(x - 5) + 0.5 * y / 2


def test_tracing_with_mixed_numbers_and_reflected_operators():
    m = adcompile.compile(mixed)
    for x, y in [(0.3, 1.7), (-1.2, 0.4), (2.0, -3.0)]:
        assert close(m.mixed(x, y), mixed(x, y))  # the same function on plain floats
    assert adcompile.check(mixed).ok


def test_op_functions_compute_numbers_from_numbers():
    assert adcompile.sin(1.0) == math.sin(1.0)
    assert adcompile.max(1.0, 3.0, 2.0) == 3.0
    assert close(adcompile.log(8.0, 2.0), 3.0)
    with pytest.raises(ValueError):
        adcompile.log(-1.0)
    with pytest.raises(TypeError, match="takes 1 argument"):
        adcompile.sin(1.0, 2.0)


def test_gradient_decorator():
    @adcompile.gradient
    def energy(x, y):
        return x * x * y + sin(y)

    value, grad = energy(2.0, 0.5)
    assert close(value, 2.0 + math.sin(0.5))
    assert close(grad[0], 2.0) and close(grad[1], 4.0 + math.cos(0.5))
    assert "def grad_energy" in energy.module.source


def branch(x):
    return x if x > 0 else -x


def uses_math(x):
    return math.sin(x)


def uses_int(x):
    return [1, 2][x]


@pytest.mark.parametrize("fn, words", [
    (branch, ["Branching on", "adcompile.where(cond, a, b)", "adcompile.where(x > 0, x, 0.0)"]),
    (uses_math, ["float()", "adcompile.sin"]),
    (uses_int, ["index"]),
])
def test_branching_or_converting_a_traced_value_is_a_clear_error(fn, words):
    with pytest.raises(adcompile.TracingError) as info:
        adcompile.compile(fn)
    for word in words:
        assert word in str(info.value)


def test_star_args_cannot_be_traced():
    with pytest.raises(adcompile.CompileError, match=r"\*args"):
        adcompile.compile(lambda *args: args[0])


def test_returning_something_else_is_a_clear_error():
    with pytest.raises(adcompile.CompileError, match="returned a str"):
        adcompile.compile(lambda x: "x")


# --- files and stdin ---
def test_file_and_stdin_give_the_same_module_as_text(tmp_path, capsys):
    path = tmp_path / "udl.adc"
    path.write_text("# the seed's model\n" + "\n".join(STEPS) + "\n(f3 - y)**2  # the loss\n")
    assert main(["-f", str(path), "--name", "loss", "-q", "-o", str(tmp_path / "a.py")]) == 0
    source = (tmp_path / "a.py").read_text()
    assert f"adcompile -f {path} --name loss" in source
    done = subprocess.run([sys.executable, "-m", "adcompile", "-", "--name", "loss"],
                          input=PROGRAM, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    body = lambda s: s[s.index("ARGS = "):]  # noqa: E731
    assert body(done.stdout) == body(source)


@pytest.mark.parametrize("argv, message", [
    (["-f", "/nonexistent/model.adc"], "no such file"),
    (["x", "-f", "model.adc"], "not both"),
    ([], "no expression"),
])
def test_input_mistakes_are_errors_without_traceback(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_stdin_errors_are_located_in_stdin():
    done = subprocess.run([sys.executable, "-m", "adcompile", "-"], input="a = x +\n  (y",
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "<stdin>:2:3: '(' is never closed" in done.stderr
