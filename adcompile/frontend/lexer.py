"""Text -> tokens: numbers, names, operators, newlines, and nothing else.

The lexer reads the whole text once, left to right, and refuses every
character outside the language (strings, attributes, bitwise operators, ...) with a
``ParseError`` that points at that character and says what is not supported.
Names are normalized (NFKC, ``program.normalize_name``) as they are read, so
that two spellings of one name are one name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from adcompile.errors import ParseError
from adcompile.frontend.program import normalize_name

NUM, NAME, OP, NEWLINE, END = "number", "name", "op", "newline", "end"

_NUMBER = re.compile(
    r"(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?"
)
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\f]+")
_OPERATORS = ("**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",",
              "=", ";", "<", ">")
# Python's keywords that the language reads (conditions, choices, generators) or
# refuses by name; they are never variables.
KEYWORDS = frozenset({"and", "or", "not", "if", "else", "for", "in", "is", "lambda"})

# Characters outside the language, with what to tell the user.
_REFUSED = {
    ".": "attribute access is not supported",
    "{": "braces are not supported",
    "}": "braces are not supported",
    "'": "strings are not supported",
    '"': "strings are not supported",
    ":": "':' is not supported (no lambdas, slices or annotations)",
    "!": "'!' is not supported: write 'not' for negation and '!=' for 'not equal'",
    "%": "the % operator is not supported",
    "@": "the @ operator is not supported",
    "&": "bitwise operators are not supported; combine conditions with and, or, not",
    "|": "bitwise operators are not supported; combine conditions with and, or, not",
    "~": "bitwise operators are not supported; combine conditions with and, or, not",
}


@dataclass
class Token:
    """One token: its kind (NUM, NAME, OP, NEWLINE or END), its text, its offset."""

    kind: str
    text: str
    pos: int


class Lexer:
    """Splits a text into tokens; also makes the ParseErrors that point into it."""

    def __init__(self, text: str, source: str | None):
        self.text, self.source = text, source

    def error(self, message: str, pos: int) -> ParseError:
        return ParseError(message, self.text, pos, self.source)

    def tokens(self) -> list[Token]:
        text, pos, out = self.text, 0, []
        while pos < len(text):
            ch = text[pos]
            m = _SPACE.match(text, pos)
            if m:
                pos = m.end()
            elif ch in "\r\n":
                out.append(Token(NEWLINE, "\n", pos))
                pos += 1
            elif ch == "#":
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end
            elif ch == "\\" and text[pos + 1 : pos + 2] == "\n":
                pos += 2
            elif ch.isdigit() or (ch == "." and text[pos + 1 : pos + 2].isdigit()):
                pos = self._number(pos, out)
            elif ch == "_" or ch.isidentifier():
                pos = self._name(pos, out)
            else:
                pos = self._operator(pos, out)
        out.append(Token(END, "", len(text)))
        return out

    def _number(self, pos: int, out: list) -> int:
        m = _NUMBER.match(self.text, pos)
        end = m.end() if m else pos + 1
        if m is None or end < len(self.text) and (self.text[end] in "_." or self._starts_name(end)):
            bad = end if m else pos
            if m and self.text[end] in "eE":
                raise self.error("malformed number: the exponent has no digits", end)
            if m and self._starts_name(end):
                raise self.error(
                    "a number cannot be followed directly by a name "
                    "(implicit multiplication is not supported: write 2*x)",
                    end,
                )
            raise self.error("malformed number", bad)
        value = float(self.text[pos:end].replace("_", ""))
        if value == float("inf"):
            raise self.error("number too large for a float", pos)
        out.append(Token(NUM, self.text[pos:end], pos))
        return end

    def _starts_name(self, pos: int) -> bool:
        ch = self.text[pos]
        return ch == "_" or ch.isidentifier()

    def _name(self, pos: int, out: list) -> int:
        text = self.text
        m = _ASCII_NAME.match(text, pos)
        end = m.end() if m else pos + 1
        while end < len(text) and ("a" + text[end]).isidentifier():
            end += 1
        name = normalize_name(text[pos:end])
        if not name.isidentifier():
            raise self.error(f"'{text[pos:end]}' is not a valid name", pos)
        out.append(Token(NAME, name, pos))
        return end

    def _operator(self, pos: int, out: list) -> int:
        text = self.text
        if text.startswith("//", pos):
            raise self.error("floor division (//) is not supported; use /", pos)
        if text.startswith(":=", pos):
            raise self.error("':=' is not supported: assign a step on its own line (name = ...)", pos)
        if text.startswith("<<", pos) or text.startswith(">>", pos):
            raise self.error("shift operators (<< and >>) are not supported", pos)
        for op in _OPERATORS:
            if text.startswith(op, pos):
                out.append(Token(OP, op, pos))
                return pos + len(op)
        ch = text[pos]
        if ch in _REFUSED:
            raise self.error(_REFUSED[ch], pos)
        name = unicodedata.name(ch, "")
        shown = f"U+{ord(ch):04X}" + (f" ({name})" if name else "")
        raise self.error(f"unexpected character {shown}", pos)

