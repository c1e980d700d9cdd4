"""Printing ``explain``'s passes: aligned text, Markdown, or JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap

from adcompile.explain.passes import FINITE_DIFFERENCE_NOTE, SINGULAR_NOTE, Passes


def number(value: float, digits: int) -> str:
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.{digits}e}"
    return f"{value:.{digits}f}"


def layout(headers: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [headers] + rows) for i in range(len(headers))]
    numeric = [all(_is_number(r[i]) for r in rows if r[i]) for i in range(len(headers))]

    def line(cells):
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def forward_rows(passes: Passes, digits: int) -> list[list[str]]:
    return [[s.name, s.op, s.definition, number(s.value, digits)] for s in passes.forward]


def backward_rows(passes: Passes, digits: int) -> list[list[str]]:
    out = passes.output
    rows = []
    for step in passes.backward:
        label = f"d{out}/d{step.name}"
        if not step.contributions:
            rows.append([label, "(seed)", "", "", number(step.adjoint, digits)])
            continue
        for k, c in enumerate(step.contributions):
            rows.append([label if k == 0 else "", c.consumer, number(c.adjoint, digits),
                         f"{c.local_text} = {number(c.local, digits)}", number(c.value, digits)])
        if len(step.contributions) > 1:
            rows.append(["", "sum", "", "", number(step.adjoint, digits)])
    return rows


def gradient_rows(passes: Passes, digits: int) -> list[list[str]]:
    return [[name, number(g, digits), number(passes.finite_difference[name], digits)]
            for name, g in passes.gradient.items()]


def render(passes: Passes, expression: str, digits: int = 3, markdown: bool = False) -> str:
    out = passes.output
    at = ", ".join(f"{k}={v:g}" for k, v in passes.point.items())
    heading = (lambda t: f"### {t}") if markdown else (lambda t: t)
    lines = [f"explain: {expression}" if len(expression) < 300 else "explain:", f"at {at}", ""]
    lines += [heading("forward pass, in topological order"), ""] if markdown else [
        heading("forward pass, in topological order")]
    lines += layout(["node", "op", "definition", "value"], forward_rows(passes, digits), markdown)
    lines += ["", heading(f"backward pass, in reverse order: d{out}/d(node) sums the adjoint of "
                          "each use times its local derivative")]
    lines += [""] if markdown else []
    lines += layout(["adjoint", "from", "its adjoint", "x local derivative", "= contribution"],
                    backward_rows(passes, digits), markdown)
    lines += ["", heading("gradient, with central finite differences")]
    lines += [""] if markdown else []
    lines += layout(["variable", f"d{out}/d(variable)", "finite difference"],
                    gradient_rows(passes, digits), markdown)
    if passes.singular:
        lines += [""] + textwrap.wrap(f"{SINGULAR_NOTE} {FINITE_DIFFERENCE_NOTE}", 88)
    return "\n".join(lines) + "\n"


def to_json(passes: Passes, expression: str) -> str:
    """The passes as strict JSON: a number that is not finite is the string
    ``"inf"``, ``"-inf"`` or ``"nan"`` (JSON has no such numbers)."""
    data = {"expression": expression, **dataclasses.asdict(passes), "singular": passes.singular}
    return json.dumps(_finite_or_text(data), indent=1, allow_nan=False) + "\n"


def _finite_or_text(data):
    """``data`` with every non-finite float replaced by its text (nesting depth <= 4)."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {k: _finite_or_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite_or_text(v) for v in data]
    return data

