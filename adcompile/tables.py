"""Printing ``explain``'s passes: aligned text, Markdown, or JSON."""

from __future__ import annotations

import dataclasses
import json

from .explain import Passes


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
    return "\n".join(lines) + "\n"


def to_json(passes: Passes, expression: str) -> str:
    data = {"expression": expression, **dataclasses.asdict(passes)}
    return json.dumps(data, indent=1) + "\n"

