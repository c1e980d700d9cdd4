"""Hypothesis strategies for random expressions in adcompile's language.

Every op of the table appears, wrapped where needed so that its argument stays
inside its domain and bounded (``log(1 + u**2)``, ``asin(0.9*tanh(u))``), so
most random points are valid.  Nesting, repeated variables and repeated
subexpressions (which hash-consing shares) come from the recursion itself.
"""

from __future__ import annotations

from hypothesis import strategies as st

VARIABLES = ["x", "y", "z"]
CONSTANTS = ["0", "1", "2", "3", "0.5", "2.5", "1e-3", "(-1.5)", "(-2)", "pi", "1e5", "1e-5"]

UNARY = [
    "sin({})", "cos({})", "tan(0.5*tanh({}))", "exp(tanh({}))", "expm1(tanh({}))",
    "log(1 + ({})**2)", "log1p(({})**2)", "log2(2 + sin({}))", "log10(2 + cos({}))",
    "sqrt(1 + ({})**2)", "cbrt({})", "asin(0.9*tanh({}))", "acos(0.9*tanh({}))",
    "atan({})", "sinh(tanh({}))", "cosh(tanh({}))", "tanh({})", "asinh({})",
    "acosh(1.5 + ({})**2)", "atanh(0.9*tanh({}))", "abs({})", "sign({})", "relu({})",
    "sigmoid({})", "softplus({})", "erf({})", "erfc({})", "-({})", "+({})",
]
BINARY = [
    "({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (2 + tanh({}))", "({}) / ({})",
    "(1 + ({})**2) ** tanh({})", "pow(2 + sin({}), {})", "({}) ** 2", "({}) ** 3",
    "atan2({}, {})", "hypot({}, {})", "max({}, {})", "min({}, {})", "log(2 + sin({}), 3 + cos({}))",
]
# branches: comparisons, boolean combinations, both ways to choose (nesting comes from the
# pool, as for every template).  SymPy differentiates Piecewise slowly, so they have their
# own profile (branch_expressions) rather than slowing every case of the main one.
BRANCHES = [
    "where({} > 0.3, {}, 1.5)", "({} if {} <= 0.2 else -0.5)", "where({} < 1, log(1 + ({})**2), 0.5)",
    "where((0 < {} < 2) or not ({} >= -1), x * y, sin(z))", "where({} != 0, {}, 0.0)",
    "where({} == {}, 1.0, 2.0)", "where((x > -1) and (x < 1), sqrt(1 - x*x) * ({}), {})",
]


@st.composite
def expressions(draw, max_steps: int = 24, max_length: int = 400, branches: bool = False) -> str:
    """A random expression built up step by step from a pool of subexpressions.

    Each step applies a unary or binary template to recent members of the pool
    (so nesting is deep) or to any member (so subexpressions repeat, which the
    graph then shares).
    """
    pool = [draw(st.sampled_from(VARIABLES))]

    def pick() -> str:
        if draw(st.booleans()):
            return pool[len(pool) - 1 - draw(st.integers(0, min(2, len(pool) - 1)))]
        return pool[draw(st.integers(0, len(pool) - 1))]

    for _ in range(draw(st.integers(4, max_steps))):
        kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "binary", "leaf"]))
        if kind == "leaf":
            new = draw(st.sampled_from(VARIABLES + CONSTANTS))
        elif kind == "unary":
            new = draw(st.sampled_from(UNARY)).format(pick())
        else:
            template = draw(st.sampled_from(BINARY + BRANCHES if branches else BINARY))
            new = template.format(pick(), pick()) if template.count("{}") == 2 else template.format(pick())
        if len(new) > max_length:
            break
        pool.append(new)
    return pool[-1] if any(v in pool[-1] for v in VARIABLES) else f"({pool[-1]}) * x"


@st.composite
def programs(draw, max_steps: int = 16) -> str:
    """A random program of named steps: each step applies a template to earlier
    steps or variables by name, and the last line combines the last steps."""
    names = list(VARIABLES)
    lines = []
    for k in range(draw(st.integers(2, max_steps))):
        recent = names[-3:]
        pick = lambda: draw(st.sampled_from(recent if draw(st.booleans()) else names))  # noqa: E731
        if draw(st.booleans()):
            body = draw(st.sampled_from(UNARY)).format(pick())
        else:
            template = draw(st.sampled_from(BINARY))
            body = template.format(pick(), pick()) if template.count("{}") == 2 else template.format(pick())
        lines.append(f"s{k} = {body}")
        names.append(f"s{k}")
    separator = draw(st.sampled_from(["\n", "; "]))
    return separator.join(lines + [f"{names[-1]} + {names[-2]} * x"])


@st.composite
def vector_programs(draw) -> tuple[str, dict]:
    """A random model over indexed vectors: a random expression whose variables become
    elements (``x[i]``, ``w[i]``, ``x[i+1]``), summed over an unrolled range, either
    directly or through a vector step; returns the text and its shapes."""
    import re

    n = draw(st.integers(2, 4))
    body = draw(expressions(max_steps=8))
    elements = {"x": "x[i]", "y": "w[i]", "z": "x[i+1]"}
    body = re.sub(r"\b[xyz]\b", lambda m: elements[m.group(0)], body)
    if draw(st.booleans()):
        text = f"sum({body} for i in range(len(x) - 1)) + x[0]*w[-1]"
    else:
        text = (f"h = [{body} for i in range({n - 1})]\n"
                "sum(h[j] * w[j] for j in range(len(h))) + x[-1]")
    return text, {"x": n, "w": n}
