"""The benchmark's rows: each an expression, the parameters it is differentiated
by, and a point to call it at."""

from __future__ import annotations

import random
from dataclasses import dataclass

ACTIVATIONS = ("sin", "exp", "cos", "tanh")
UDL = "(beta3 + omega3*cos(beta2 + omega2*exp(beta1 + omega1*sin(beta0 + omega0*x))) - y)**2"
UDL_POINT = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4,
                 omega2=2.0, omega3=3.0, x=2.3, y=2.0)


@dataclass
class Case:
    name: str
    text: str
    wrt: list[str]
    point: dict[str, float]
    nested_depth: int = 0
    in_table: bool = True  # False: measured only for the plot's sweep over N


def udl() -> Case:
    wrt = [f"{p}{i}" for p in ("beta", "omega") for i in range(4)]
    return Case("UDL loss", UDL, wrt, dict(UDL_POINT))


def nested(depth: int) -> Case:
    """The seed's model nested ``depth`` layers deep, activations cycling.

    Small weights keep every layer's value in a range where exp stays finite.
    """
    h = "x"
    for i in range(depth):
        h = f"{ACTIVATIONS[i % 4]}(beta{i} + omega{i}*{h})"
    rng = random.Random(depth)
    point = {"x": 0.7, "y": 0.3}
    for i in range(depth):
        point[f"beta{i}"] = rng.uniform(-0.5, 0.5)
        point[f"omega{i}"] = rng.uniform(-0.5, 0.5)
    wrt = [f"{p}{i}" for i in range(depth) for p in ("beta", "omega")]
    return Case(f"nested N={depth:,}", f"({h} - y)**2", wrt, point, nested_depth=depth)


def sum_of_products(n: int) -> Case:
    rng = random.Random(n)
    point = {f"{p}{i}": rng.uniform(-1, 1) for i in range(n) for p in ("a", "b")}
    text = " + ".join(f"a{i}*b{i}" for i in range(n))
    return Case(f"sum of {n:,} products", text, list(point), point)


def mlp(inputs: int = 4, hidden: int = 16) -> Case:
    """A one-hidden-layer tanh network's squared error, written in scalars as a program."""
    rng = random.Random(0)
    lines, params = [], []
    for j in range(hidden):
        terms = " + ".join(f"W{j}_{i}*x{i}" for i in range(inputs))
        lines.append(f"h{j} = tanh(b{j} + {terms})")
        params += [f"W{j}_{i}" for i in range(inputs)] + [f"b{j}"]
    output = " + ".join(f"V{j}*h{j}" for j in range(hidden))
    lines.append(f"out = c + {output}")
    lines.append("(out - y)**2")
    params += [f"V{j}" for j in range(hidden)] + ["c"]
    point = {p: rng.uniform(-0.5, 0.5) for p in params}
    point.update({f"x{i}": rng.uniform(-1, 1) for i in range(inputs)}, y=0.25)
    return Case(f"MLP {inputs}-{hidden}-1 ({len(params)} params)", "\n".join(lines), params, point)


def rosenbrock(n: int) -> Case:
    """SciPy's Rosenbrock function of n scalars x0 ... x(n-1), written out."""
    text = " + ".join(f"100*(x{i + 1} - x{i}**2)**2 + (1 - x{i})**2" for i in range(n - 1))
    rng = random.Random(n)
    point = {f"x{i}": rng.uniform(-1.5, 1.5) for i in range(n)}
    return Case(f"Rosenbrock n={n}", text, list(point), point)


TABLE_DEPTHS = {True: (10, 20, 100), False: (10, 20, 100, 1000, 10000)}
PLOT_DEPTHS = {True: (1, 2, 5, 10, 20, 50, 100),
               False: (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)}


def nested_cases(quick: bool = False) -> list[Case]:
    """The nested rows by increasing depth: the table's, and the plot's sweep (not in the table)."""
    table = TABLE_DEPTHS[quick]
    cases = []
    for depth in sorted(set(table) | set(PLOT_DEPTHS[quick])):
        case = nested(depth)
        case.in_table = depth in table
        cases.append(case)
    return cases


def all_cases(quick: bool = False) -> list[Case]:
    return [udl(), *nested_cases(quick), sum_of_products(1000 if quick else 10000), mlp(),
            rosenbrock(10), *([] if quick else [rosenbrock(100)])]
