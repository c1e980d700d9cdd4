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


class ParseError(AdcompileError):
    """A mistake in the expression text, with its position.

    ``pos`` is the offset into ``text``; ``line`` and ``column`` are 1-based.
    """

    def __init__(self, message: str, text: str = "", pos: int = 0, source: str | None = None):
        self.message = message
        self.text = text
        self.pos = max(0, min(pos, len(text)))
        self.source = source
        self.line = text.count("\n", 0, self.pos) + 1
        self.column = self.pos - (text.rfind("\n", 0, self.pos) + 1) + 1
        super().__init__(self.render())

    def render(self) -> str:
        where = f"line {self.line}, column {self.column}"
        if self.source:
            head = f"{self.source}:{self.line}:{self.column}: {self.message}"
        else:
            head = f"{self.message} (at {where})"
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
        return f"    {shown}{visible(line[col:])}{suffix}\n    {' ' * len(shown)}^"
