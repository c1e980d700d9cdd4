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


NOT_TAKEN = "not taken"


def value_text(value: float | bool | None, digits: int) -> str:
    """A forward value: a number, a condition's ``true`` or ``false``, or ``not taken``."""
    if value is None:
        return NOT_TAKEN
    if isinstance(value, bool):
        return "true" if value else "false"
    return number(value, digits)


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
    if text in ("true", "false", NOT_TAKEN):  # aligned with the numbers of their column
        return True
    try:
        float(text)
        return True
    except ValueError:
        return False


def has_branches(passes: Passes) -> bool:
    return any(s.branch for s in passes.forward)


def forward_rows(passes: Passes, digits: int) -> list[list[str]]:
    rows = [[s.name, s.op, s.definition, value_text(s.value, digits)] for s in passes.forward]
    if has_branches(passes):  # a column saying which branch each where takes
        for row, step in zip(rows, passes.forward):
            row.append(f"{step.branch} ({_branch_operand(step)})" if step.branch else "")
    return rows


def _branch_operand(step) -> str:
    """The operand a where's definition ``a if c else b`` names for its branch."""
    then, rest = step.definition.split(" if ", 1)
    return then if step.branch == "then" else rest.split(" else ", 1)[1]


def not_shown_note(passes: Passes) -> list[str]:
    """Which forward steps the backward pass has no row for, and why."""
    shown = {s.name for s in passes.backward}
    skipped = [s.name for s in passes.forward if s.name not in shown and not s.taken]
    conditions = [s.name for s in passes.forward if s.name not in shown and s.taken]
    parts = []
    if conditions:
        parts.append(f"for {', '.join(conditions)} (conditions, and what only conditions use, "
                     "have no derivative)")
    if skipped:
        parts.append(f"for {', '.join(skipped)} (needed only by a branch not taken)")
    return textwrap.wrap("no adjoint rows " + " nor ".join(parts) + ".", 88) if parts else []


def backward_rows(passes: Passes, digits: int) -> list[list[str]]:
    out = passes.output
    rows = []
    for step in passes.backward:
        label = f"d{out}/d{step.name}"
        if not step.contributions:  # the output; or a variable with no derivative path here
            origin = "(seed)" if step is passes.backward[0] else "(none)"
            rows.append([label, origin, "", "", number(step.adjoint, digits)])
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
    headers = ["node", "op", "definition", "value"] + (["branch taken"] if has_branches(passes) else [])
    lines += layout(headers, forward_rows(passes, digits), markdown)
    lines += ["", heading(f"backward pass, in reverse order: d{out}/d(node) sums the adjoint of "
                          "each use times its local derivative")]
    lines += [""] if markdown else []
    lines += layout(["adjoint", "from", "its adjoint", "x local derivative", "= contribution"],
                    backward_rows(passes, digits), markdown)
    note = not_shown_note(passes)
    lines += [""] + note if note else []
    lines += ["", heading("gradient, with central finite differences")]
    lines += [""] if markdown else []
    lines += layout(["variable", f"d{out}/d(variable)", "finite difference"],
                    gradient_rows(passes, digits), markdown)
    if passes.singular:
        lines += [""] + textwrap.wrap(f"{SINGULAR_NOTE} {FINITE_DIFFERENCE_NOTE}", 88)
    return "\n".join(lines) + "\n"


def to_json(passes: Passes, expression: str) -> str:
    """The passes as strict JSON: a number that is not finite is the string
    ``"inf"``, ``"-inf"`` or ``"nan"`` (JSON has no such numbers).  A condition's
    value is ``true`` or ``false``; a step not taken has value ``null`` and
    ``"taken": false``; a where has ``"branch": "then"`` or ``"else"``."""
    data = {"expression": expression, **dataclasses.asdict(passes), "singular": passes.singular}
    for step in data["forward"] + data["backward"]:  # branch keys only where they say something
        if step["branch"] is None:
            del step["branch"]
        if step["taken"]:
            del step["taken"]
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

