"""The records the expression parser keeps on its stack while it reads.

An operator waiting for its right operand is ``Pending`` (with, for a chained
comparison, the condition so far).  An open bracket is a ``Frame`` (a parenthesis, a call, a subscript, a list or
the ``range(...)`` of a generator); a generator being unrolled is a
``GeneratorFrame`` that remembers where its body is and which binding of its
loop names comes next.  ``Subscript`` is an array being indexed and
``Vector`` a list's value.  ``brackets`` pairs a statement's brackets once,
up front, so that a generator's extent and its first ``for`` are known
before its body is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adcompile.frontend.lexer import NAME, OP, Token
from adcompile.ir.graph import Node

MISPLACED_FOR = ("'for' is only supported in sum(... for i in range(n)) and in "
                 "a vector step h = [... for i in range(n)]")


@dataclass
class Frame:
    """An open bracket: a parenthesis, a call whose arguments are being read, a
    subscript ``x[...]``, a list ``[...]`` or a ``range(...)`` of a generator."""

    kind: str  # "paren", "call", "index", "list", "range" or "gen" (a GeneratorFrame)
    pos: int  # of the '(' or of the function's (or array's) name
    name: str = ""
    operands_before: int = 0
    open_pos: int = -1  # of the '(' or '[' (a call's is after its name)
    starts: list[int] = field(default_factory=list)  # where each argument or index begins
    ref: "Subscript | None" = None  # an index frame's array and the indices before it
    level: int = -1  # a range frame's loop in its generator
    first: int = -1  # index of the token where the bracketed value starts (its name or bracket)


@dataclass
class Pending:
    """An operator on the stack, waiting for its right operand (or, for ``if``, its ``else``).

    ``symbol`` is the operator as written (``+``, ``<``, ``and``, ``if``, ``else``),
    or ``neg`` / ``not`` for a prefix.  In a chained comparison (``0 < x < 1``),
    ``chain`` is the condition of the comparisons before this one (``0 < x``),
    which starts at token ``chain_first``."""

    symbol: str
    pos: int  # of the operator in the text
    index: int  # of the operator in the statement's tokens
    chain: Node | None = None
    chain_first: int = -1


@dataclass
class Loop:
    """One ``for NAME in range(...)`` of a generator."""

    name: Token
    range_name: Token
    range_open: int  # index of range's '(' in the statement's tokens


@dataclass
class GeneratorFrame(Frame):
    """``sum(BODY for i in range(..) ...)`` or ``[BODY for i in range(..) ...]``,
    unrolled by jumping back to the body once per binding of the loop names."""

    collect: bool = False  # a list comprehension (True) or a sum (False)
    body_start: int = 0
    body_end: int = 0  # index of the first 'for'
    close: int = 0  # index of the closing ')' or ']'
    loops: list[Loop] = field(default_factory=list)
    ranges: list[range] = field(default_factory=list)
    at: list[int] = field(default_factory=list)  # each loop's position in its range
    saved: dict[str, int | None] = field(default_factory=dict)  # outer bindings to restore
    total: Node | None = None
    items: list[Node] = field(default_factory=list)
    item_spans: list = field(default_factory=list)  # each item's Span, for the vector's kind


@dataclass
class Subscript:
    """An array (or vector step) being indexed, and the indices read so far."""

    name: Token
    index: tuple[int, ...] = ()


@dataclass
class Vector:
    """The value of a list or list comprehension: a vector step's elements (all numbers,
    or all conditions)."""

    items: list[Node]
    condition: bool = False


def brackets(tokens: list[Token]) -> tuple[dict[int, int], dict[int, int]]:
    """Each bracket's matching closer, and the first ``for`` directly inside it
    (under the key -1, the first ``for`` outside every bracket)."""
    match: dict[int, int] = {}
    first_for: dict[int, int] = {}
    opened: list[int] = []
    for k, tok in enumerate(tokens):
        if tok.kind == OP and tok.text in ("(", "["):
            opened.append(k)
        elif tok.kind == OP and tok.text in (")", "]") and opened:
            o = opened.pop()
            if (tokens[o].text == "(") == (tok.text == ")"):
                match[o] = k
        elif tok.kind == NAME and tok.text == "for":
            first_for.setdefault(opened[-1] if opened else -1, k)
    return match, first_for


def bracket_label(frame: Frame) -> str:
    """How an error names an open bracket: ``'('``, ``'sin('``, ``'x['``, ``'['``."""
    if frame.kind == "paren":
        return "'('"
    if frame.kind == "index":
        return f"'{frame.name}['"
    if frame.kind == "list" or (frame.kind == "gen" and frame.name == "["):
        return "'['"
    return f"'{frame.name}('"
