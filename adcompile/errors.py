"""The errors adcompile reports to its users.

``ParseError`` is a ``ValueError`` that knows where in the text the problem
is, and renders the offending line with a caret under the character, like
Python's own syntax errors.  ``CompileError`` covers bad options (an unknown
``--wrt`` name, an unwritable ``-o`` path, ...).  The CLI prints either one on
stderr and exits with status 2; nothing else ever reaches a user as a
traceback for a mistake of theirs.
"""

from __future__ import annotations

import unicodedata

_WINDOW = 60  # characters of context shown on each side of a very long line


class AdcompileError(ValueError):
    """Base of the errors that describe a user's mistake."""


class CompileError(AdcompileError):
    """An option or request that cannot be honoured."""


def visible(text: str) -> str:
    """Show control and invisible format characters as escapes (U+202E ...)."""
    out = []
    for ch in text:
        if ch == "\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def line_and_column(text: str, pos: int) -> tuple[int, int]:
    """The 1-based line and column of offset ``pos`` in ``text``."""
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def caret_padding(shown: str) -> str:
    """Blanks as wide as ``shown`` on a terminal, so a caret after them lines up.

    Tabs are kept as tabs (they expand to the same tab stop as in the line
    above), East Asian wide characters take two columns and combining marks
    none.
    """
    out = []
    for ch in shown:
        if ch == "\t":
            out.append("\t")
        elif unicodedata.category(ch) in ("Mn", "Me"):
            continue
        else:
            out.append("  " if unicodedata.east_asian_width(ch) in ("W", "F") else " ")
    return "".join(out)


class ParseError(AdcompileError):
    """A mistake in the expression text, with its position.

    ``pos`` is the offset into ``text``; ``line`` and ``column`` are 1-based.
    """

    def __init__(self, message: str, text: str = "", pos: int = 0, source: str | None = None):
        self.message = message
        self.text = text
        self.pos = max(0, min(pos, len(text)))
        self.source = source
        self.line, self.column = line_and_column(text, self.pos)
        super().__init__(self.render())

    def render(self) -> str:
        if self.source:
            head = f"{self.source}:{self.line}:{self.column}: {self.message}"
        else:
            head = f"line {self.line}, column {self.column}: {self.message}"
        return head + "\n" + self.excerpt()

    def excerpt(self) -> str:
        """The offending line, with a caret under the character."""
        start = self.text.rfind("\n", 0, self.pos) + 1
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        line, col = self.text[start:end], self.pos - start
        prefix = ""
        if col > _WINDOW:
            cut = col - _WINDOW
            line, col, prefix = line[cut:], col - cut, "..."
        suffix = "..." if len(line) > col + _WINDOW else ""
        line = line[: col + _WINDOW]
        shown = visible(prefix + line[:col])
        return f"    {shown}{visible(line[col:])}{suffix}\n    {caret_padding(shown)}^"
