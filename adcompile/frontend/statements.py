"""Tokens -> statements: split at ``;`` and at the newlines that end a statement.

A newline ends a statement unless a bracket is open or the line ends with an
operator; then it joins the next line to the statement, and the join is
recorded (``Join``) so that an error on the joined line can be blamed on what
joined it (``joined_lines.py``).  ``one_line_program`` writes a program's
statements back on one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from adcompile.frontend.lexer import END, KEYWORDS, NAME, NEWLINE, OP, Lexer, Token


class Open(NamedTuple):
    """An opening bracket: where it is and how to name it ("'('" or "'sin('")."""

    pos: int
    label: str


@dataclass
class Join:
    """A newline that did not end its statement: an open bracket or a trailing operator."""

    first: int  # index, in the statement's tokens, of the next line's first token
    before: Token  # the last token before the newline
    innermost: Open | None  # the innermost bracket open at the newline


@dataclass
class Statement:
    """One statement's tokens, the lines joined into it and the brackets left open."""

    tokens: list[Token]
    joins: list[Join] = field(default_factory=list)
    unclosed: list[Open] = field(default_factory=list)  # brackets open at the end of the text


def split_statements(tokens: list[Token]) -> list[Statement]:
    """Split at ``;`` and at newlines outside brackets and after a complete value.

    A newline inside brackets or after an operator joins the next line to the
    statement; each such join is recorded so that an error on the joined line
    can be blamed on the bracket or operator that caused the join.
    """
    statements: list[Statement] = []
    current, opened = Statement([]), []
    for tok in tokens:
        if tok.kind == END or (not opened and tok.kind == OP and tok.text == ";"):
            if current.joins and current.joins[-1].first == len(current.tokens):
                current.joins.pop()  # newlines at the very end join nothing
            if current.tokens:
                current.unclosed = list(opened)
                statements.append(current)
            current = Statement([])
        elif tok.kind == NEWLINE:
            if current.tokens and _newline_continues(current.tokens[-1], opened):
                if not current.joins or current.joins[-1].first != len(current.tokens):
                    innermost = opened[-1] if opened else None
                    current.joins.append(Join(len(current.tokens), current.tokens[-1], innermost))
            elif current.tokens:
                statements.append(current)
                current = Statement([])
        else:
            if tok.kind == OP and tok.text in ("(", "["):
                prev = current.tokens[-1] if current.tokens else None
                named = prev is not None and prev.kind == NAME
                label = f"'{prev.text}{tok.text}'" if named else f"'{tok.text}'"
                opened.append(Open(tok.pos, label))
            elif tok.kind == OP and tok.text in (")", "]") and opened:
                opened.pop()
            current.tokens.append(tok)
    return statements


def _newline_continues(last: Token, opened: list[Open]) -> bool:
    return bool(opened) or (last.kind == OP and last.text not in (")", "]"))


def is_assignment(tokens: list[Token], at: int = 0) -> bool:
    """Whether ``tokens[at:]`` starts with ``name =``."""
    return (len(tokens) > at + 1 and tokens[at].kind == NAME
            and tokens[at + 1].kind == OP and tokens[at + 1].text == "=")


def one_line_program(text: str) -> str:
    """The program on one line, statements joined by '; ', comments dropped.

    Used to quote a multi-line program in a regeneration command.  It parses
    to the same graph as ``text``: a line may only be joined to the next inside
    brackets or after an operator, so no keyword (``and``, ``else``) ends one.
    """
    statements = split_statements(Lexer(text, None).tokens())
    return "; ".join(detokenize(s.tokens) for s in statements)


def detokenize(tokens: list[Token]) -> str:
    """Tokens written back as text, spaced as one writes them (``sin(a + 1)``, ``-b``)."""
    out: list[str] = []
    prev: Token | None = None
    for tok in tokens:
        glue = (
            prev is None
            or tok.text in (")", ",", "]")
            or (prev.kind == OP and prev.text in ("(", "["))
            or (tok.text in ("(", "[") and prev.kind == NAME and prev.text not in KEYWORDS)
            or (prev.kind == OP and prev.text in "+-" and _is_prefix(out))
        )
        out.append(tok.text if glue else " " + tok.text)
        prev = tok
    return "".join(out)


def _is_prefix(out: list[str]) -> bool:
    """Whether the '+'/'-' just written is a sign rather than a binary operator."""
    if len(out) < 2:
        return True
    before = out[-2].strip()
    return before in ("(", "[", ",", "=", "+", "-", "*", "/", "**", "^",
                      "<", "<=", ">", ">=", "==", "!=") or before in KEYWORDS
