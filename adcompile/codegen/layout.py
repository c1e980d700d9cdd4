"""Black's layout, written directly: statements and collections split the way
black splits them (line length 88, one item per line with the trailing commas
black calls magic), so running black on generated code changes nothing."""

from __future__ import annotations

LINE = 88
INDENT = "    "


class ListText(list):
    """A returned array as text: ``[a, b]``, or ``np.array([a, b])`` with ``wrap``."""

    def __init__(self, items, wrap: str | None = None, title: str | None = None):
        super().__init__(items)
        self.wrap, self.title = wrap, title


def tuple_text(text) -> str:
    """A nested list of texts as a Python tuple on one line (a ``ListText`` as a list)."""
    if isinstance(text, ListText):
        inner = "[" + ", ".join(tuple_text(t) for t in text) + "]"
        return f"{text.wrap}({inner})" if text.wrap else inner
    if isinstance(text, list):
        inner = ", ".join(tuple_text(t) for t in text)
        return f"({inner},)" if len(text) == 1 else f"({inner})"
    return text


def literal(value) -> str:
    """A module constant's value (a string, a number, nested tuples) as Python."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return tuple_text([literal(v) for v in value])
    return str(value)


def layout_collection(open_: str, items: list, indent: str, close: str,
                      is_tuple: bool = True) -> list[str]:
    """``open_ a, b close`` on one line if it fits, else one item per line.

    ``open_`` ends with a bracket and ``close`` starts with its partner.  Items
    may be lists (nested tuples), each laid out the same way one level deeper,
    with the trailing commas black calls magic, so black keeps the layout.
    """
    flat = ", ".join(tuple_text(i) for i in items)
    if is_tuple and len(items) == 1:
        flat += ","
    one = f"{indent}{open_}{flat}{close}"
    if len(one) <= LINE or not items:
        return [one]
    inner = indent + INDENT
    lines = [indent + open_]
    for item in items:
        if isinstance(item, ListText):  # a row of a returned array
            lines += layout_collection("[", item, inner, "],", is_tuple=False)
        elif isinstance(item, list):
            lines += layout_collection("(", item, inner, "),")
        else:
            lines.append(f"{inner}{item},")
    return lines + [indent + close]


def layout_del(names: list[str], indent: str) -> list[str]:
    """``del a, b`` on one line if it fits, else one ``del`` per name (black leaves both)."""
    line = f"{indent}del {', '.join(names)}"
    return [line] if len(line) <= LINE else [f"{indent}del {n}" for n in names]


def flat_text(expr: tuple) -> str:
    """An expression form (``("call", f, [args])``, ``("infix", left, symbol, right)`` or
    ``("text", s)``) on one line."""
    kind = expr[0]
    if kind == "call":
        return f"{expr[1]}({', '.join(expr[2])})"
    if kind == "infix":
        return f"{expr[1]} {expr[2]} {expr[3]}"
    return expr[1]


def layout_assignment(lhs: str, expr: tuple, indent: str) -> list[str]:
    """One assignment, split the way black splits a line that is too long."""
    kind = expr[0]
    rhs = flat_text(expr)
    line = f"{indent}{lhs} {rhs}"
    if len(line) <= LINE:
        return [line]
    inner = indent + INDENT
    if kind == "call":
        body = f"{inner}{', '.join(expr[2])}"
        if len(body) <= LINE or len(expr[2]) == 1:
            return [f"{indent}{lhs} {expr[1]}(", body, f"{indent})"]
        return [f"{indent}{lhs} {expr[1]}("] + [f"{inner}{a}," for a in expr[2]] + [f"{indent})"]
    body = f"{inner}{rhs}"
    if kind == "infix" and len(body) > LINE:
        return [f"{indent}{lhs} (", f"{inner}{expr[1]}", f"{inner}{expr[2]} {expr[3]}", f"{indent})"]
    return [f"{indent}{lhs} (", body, f"{indent})"]
