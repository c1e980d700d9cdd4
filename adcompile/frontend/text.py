"""Text -> graph, with an iterative parser that never evaluates its input.

The language is Python's arithmetic: numbers, names, ``pi``, ``+ - * / **``
(``^`` means ``**``), unary ``-``/``+``, parentheses and calls of the functions
in ``language.py``, with Python's precedence (``-x**2`` is ``-(x**2)``, ``**``
is right-associative).  A *program* is a sequence of statements ``name =
expr`` separated by newlines or ``;``, ending in an expression (or a tuple of
expressions: several outputs).  ``#`` starts a comment.

Parsing is a shunting-yard over an explicit operator stack, so a sum of 10^5
terms or a 10^4-deep nest of calls needs no recursion (Python's own
``ast.parse`` fails on both).  Nodes are built as soon as an operator is
reduced, so the parser's only output is the graph itself.

Anything that is not in the language (attributes, subscripts, strings,
lambdas, comparisons, keyword arguments, unknown functions, wrong arity)
raises ``ParseError`` with the position of the offending character.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from adcompile.errors import ParseError, line_and_column
from adcompile.ir.graph import Graph, Node, evaluate, reachable
from adcompile.ir.node import CONST, VAR
from adcompile.frontend.language import CONSTANTS, FUNCTIONS
from adcompile.frontend.program import Program, Shape, element_name, normalize_name

NUM, NAME, OP, NEWLINE, END = "number", "name", "op", "newline", "end"

_NUMBER = re.compile(
    r"(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?"
)
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\f]+")
_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", "=", ";")

# Characters outside the language, with what to tell the user.
_REFUSED = {
    ".": "attribute access is not supported",
    "{": "braces are not supported",
    "}": "braces are not supported",
    "'": "strings are not supported",
    '"': "strings are not supported",
    ":": "':' is not supported (no lambdas, slices or annotations)",
    "<": "comparisons are not supported; use max, min, relu or abs",
    ">": "comparisons are not supported; use max, min, relu or abs",
    "!": "comparisons are not supported; use max, min, relu or abs",
    "%": "the % operator is not supported",
    "@": "the @ operator is not supported",
    "&": "bitwise operators are not supported",
    "|": "bitwise operators are not supported",
    "~": "bitwise operators are not supported",
}

_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "^": "pow"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4, "^": 4}
_RIGHT_ASSOC = {"**", "^"}


@dataclass
class Token:
    kind: str
    text: str
    pos: int


class _Lexer:
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
        if text.startswith("==", pos):
            raise self.error("comparisons are not supported; use max, min, relu or abs", pos)
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


@dataclass
class _Frame:
    """An open bracket: a parenthesis, a call whose arguments are being read, a
    subscript ``x[...]``, a list ``[...]`` or a ``range(...)`` of a generator."""

    kind: str  # "paren", "call", "index", "list", "range" or "gen" (a _Generator)
    pos: int  # of the '(' or of the function's (or array's) name
    name: str = ""
    operands_before: int = 0
    open_pos: int = -1  # of the '(' or '[' (a call's is after its name)
    starts: list[int] = field(default_factory=list)  # where each argument or index begins
    ref: "_Subscript | None" = None  # an index frame's array and the indices before it
    level: int = -1  # a range frame's loop in its generator


@dataclass
class _Loop:
    """One ``for NAME in range(...)`` of a generator."""

    name: Token
    range_name: Token
    range_open: int  # index of range's '(' in the statement's tokens


@dataclass
class _Generator(_Frame):
    """``sum(BODY for i in range(..) ...)`` or ``[BODY for i in range(..) ...]``,
    unrolled by jumping back to the body once per binding of the loop names."""

    collect: bool = False  # a list comprehension (True) or a sum (False)
    body_start: int = 0
    body_end: int = 0  # index of the first 'for'
    close: int = 0  # index of the closing ')' or ']'
    loops: list[_Loop] = field(default_factory=list)
    ranges: list[range] = field(default_factory=list)
    at: list[int] = field(default_factory=list)  # each loop's position in its range
    saved: dict[str, int | None] = field(default_factory=dict)  # outer bindings to restore
    total: Node | None = None
    items: list[Node] = field(default_factory=list)


@dataclass
class _Subscript:
    """An array (or vector step) being indexed, and the indices read so far."""

    name: Token
    index: tuple[int, ...] = ()


@dataclass
class _Vector:
    """The value of a list or list comprehension: a vector step's elements."""

    items: list[Node]


def _brackets(tokens: list[Token]) -> tuple[dict[int, int], dict[int, int]]:
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


def _label(frame: _Frame) -> str:
    """How an error names an open bracket: ``'('``, ``'sin('``, ``'x['``, ``'['``."""
    if frame.kind == "paren":
        return "'('"
    if frame.kind == "index":
        return f"'{frame.name}['"
    if frame.kind == "list" or (frame.kind == "gen" and frame.name == "["):
        return "'['"
    return f"'{frame.name}('"


class _ExpressionParser:
    """Shunting-yard over one statement's tokens; builds nodes as it reduces.

    A generator (``sum(... for i in range(n))``, ``[... for i in range(n)]``)
    is unrolled without recursion: its frame keeps the loops' positions, and
    the token pointer jumps back to the body for each binding.
    """

    def __init__(self, parser: "Parser", tokens: list[Token], allow_tuple: bool,
                 allow_vector: bool = False):
        self.p = parser
        self.g = parser.graph
        self.tokens = tokens
        self.allow_tuple = allow_tuple
        self.allow_vector = allow_vector  # a list may be the whole statement (a vector step)
        self.operands: list = []  # nodes; a _Vector only as a vector step's whole value
        self.stack: list = []  # ("bin", symbol, pos) | ("neg", pos) | _Frame
        self.outputs: list = []
        self.output_names: list[str | None] = []
        self.match, self.first_for = _brackets(tokens)

    _misplaced_for = ("'for' is only supported in sum(... for i in range(n)) and in "
                      "a vector step h = [... for i in range(n)]")

    def error(self, message: str, pos: int) -> ParseError:
        return self.p.lexer.error(message, pos)

    def parse(self) -> tuple[list, list[str | None]]:
        expect_operand, i, toks = True, 0, self.tokens
        first_of_item = 0
        if -1 in self.first_for:
            raise self.error(self._misplaced_for, toks[self.first_for[-1]].pos)
        while i < len(toks):
            tok = toks[i]
            if expect_operand:
                i, expect_operand = self._operand(i)
            elif tok.kind == OP and tok.text in _BINARY:
                self._binary(tok)
                expect_operand = True
                i += 1
            elif tok.kind == OP and tok.text == ",":
                if self._comma(tok, toks, first_of_item, i):
                    first_of_item = i + 1
                expect_operand = True
                i += 1
            elif tok.kind == OP and tok.text == ")":
                i, expect_operand = self._close(tok, i)
            elif tok.kind == OP and tok.text == "]":
                i, expect_operand = self._close_bracket(tok, i)
            elif tok.kind == NAME and tok.text == "for":
                i, expect_operand = self._end_of_body(tok, i)
            else:
                raise self._unexpected_after_operand(toks, i)
        end = toks[-1].pos + len(toks[-1].text) if toks else 0
        if expect_operand:
            raise self.error("the expression ends where a value is expected", end)
        self._finish_item(toks[first_of_item:])
        return self.outputs, self.output_names

    def _start_of(self, k: int) -> int:
        """The position of token ``k`` (or of the end of the statement)."""
        toks = self.tokens
        return toks[k].pos if k < len(toks) else toks[-1].pos + len(toks[-1].text)

    # --- operands ---
    def _operand(self, i: int) -> tuple[int, bool]:
        tok = self.tokens[i]
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if tok.kind == NUM:
            self.operands.append(self.g.const(float(tok.text.replace("_", ""))))
            return i + 1, False
        if tok.kind == NAME and nxt is not None and nxt.kind == OP and nxt.text == "(":
            return self._open_call(tok, nxt, i)
        if tok.kind == NAME and nxt is not None and nxt.kind == OP and nxt.text == "[":
            return self._index(tok, i)
        if tok.kind == NAME:
            self.operands.append(self.p.resolve_name(tok))
            return i + 1, False
        if tok.kind == OP and tok.text == "(":
            if i in self.first_for:
                raise self.error(self._misplaced_for, self.tokens[self.first_for[i]].pos)
            frame = _Frame("paren", tok.pos, operands_before=len(self.operands), open_pos=tok.pos)
            self.stack.append(frame)
            return i + 1, True
        if tok.kind == OP and tok.text == "[":
            return self._open_list(tok, i)
        if tok.kind == OP and tok.text == "-":
            self.stack.append(("neg", tok.pos))
            return i + 1, True
        if tok.kind == OP and tok.text == "+":
            return i + 1, True
        if tok.kind == OP and tok.text in (")", "]") and self.stack and isinstance(self.stack[-1], _Frame):
            raise self._missing_value(tok, self.stack[-1])
        if tok.kind == OP and tok.text == "=":
            raise self.error("'=' is not expected here", tok.pos)
        if tok.kind == NAME and tok.text == "for":
            raise self.error("a value is expected before 'for'", tok.pos)
        raise self.error(f"a value is expected here, not '{tok.text}'", tok.pos)

    def _missing_value(self, tok: Token, frame: _Frame) -> ParseError:
        empty = len(self.operands) == frame.operands_before
        if frame.kind == "call" and empty:
            return self.error(f"{frame.name}() needs {FUNCTIONS[frame.name].arity_text()}", tok.pos)
        if frame.kind == "range" and empty:
            return self.error("range() needs 1 to 3 arguments", tok.pos)
        if empty and frame.kind == "paren":
            return self.error("empty parentheses: a value is expected here", tok.pos)
        if frame.kind == "index":
            return self.error(f"an index is expected before '{tok.text}'", tok.pos)
        return self.error(f"a value is expected before '{tok.text}'", tok.pos)

    def _open_call(self, tok: Token, paren: Token, i: int) -> tuple[int, bool]:
        if tok.text == "len":
            return self._length(i)
        if tok.text == "sum" and i + 1 in self.first_for:
            return self._open_generator(tok, i + 1, collect=False)
        if i + 1 in self.first_for:
            raise self.error(self._misplaced_for, self.tokens[self.first_for[i + 1]].pos)
        if tok.text not in FUNCTIONS:
            hint = difflib.get_close_matches(tok.text, list(FUNCTIONS), n=1, cutoff=0.6)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise self.error(f"unknown function '{tok.text}'{suggestion}", tok.pos)
        self.stack.append(_Frame("call", tok.pos, tok.text, len(self.operands), paren.pos))
        return i + 2, True

    # --- operators ---
    def _binary(self, tok: Token) -> None:
        prec = _PRECEDENCE[tok.text]
        while self.stack and not isinstance(self.stack[-1], _Frame):
            top = self.stack[-1]
            top_prec = _PRECEDENCE[top[1] if top[0] == "bin" else "neg"]
            if top_prec > prec or (top_prec == prec and tok.text not in _RIGHT_ASSOC):
                self._reduce()
            else:
                break
        self.stack.append(("bin", tok.text, tok.pos))

    def _reduce(self) -> None:
        top = self.stack.pop()
        if top[0] == "neg":
            self.operands.append(self.g("neg", self.operands.pop()))
        else:
            b, a = self.operands.pop(), self.operands.pop()
            self.operands.append(self.g(_BINARY[top[1]], a, b))

    def _reduce_to_frame(self) -> _Frame | None:
        while self.stack and not isinstance(self.stack[-1], _Frame):
            self._reduce()
        return self.stack[-1] if self.stack else None

    def _comma(self, tok: Token, toks, first_of_item: int, i: int) -> bool:
        """True when the comma separates top-level outputs."""
        frame = self._reduce_to_frame()
        if frame is None:
            if not self.allow_tuple:
                self.p.output_like_at.add(tok.pos)
                raise self.error("several outputs (a, b) may only be the program's last statement", tok.pos)
            self._finish_item(toks[first_of_item:i])
            return True
        if frame.kind == "paren":
            raise self.error("tuples are not supported inside parentheses; "
                             "write several outputs as a, b without parentheses", tok.pos)
        if frame.kind == "gen":
            what = "sum(... for ...)" if frame.name == "sum" else "[... for ...]"
            raise self.error(f"{what} takes one expression before 'for'", tok.pos)
        frame.starts.append(self._start_of(i + 1))
        return False

    def _close(self, tok: Token, i: int) -> tuple[int, bool]:
        frame = self._reduce_to_frame()
        if frame is None:
            raise self.error("unmatched ')'", tok.pos)
        if frame.kind not in ("paren", "call", "range"):
            raise self.error(f"{_label(frame)} is never closed", frame.open_pos)
        self.stack.pop()
        if frame.kind == "range":
            return self._range_read(frame)
        if frame.kind == "call":
            args = self.operands[frame.operands_before :]
            del self.operands[frame.operands_before :]
            self.operands.append(self._call(frame, args))
        return i + 1, False

    def _call(self, frame: _Frame, args: list[Node]) -> Node:
        fn = FUNCTIONS[frame.name]
        if not fn.accepts(len(args)):
            raise self.error(f"{fn.name}() takes {fn.arity_text()}, but {len(args)} "
                             f"{'was' if len(args) == 1 else 'were'} given", frame.pos)
        return fn.build(self.g, args)

    def _finish_item(self, item_tokens: list[Token]) -> None:
        frame = self._reduce_to_frame()
        if frame is not None:
            raise self.error(f"{_label(frame)} is never closed", frame.open_pos)
        self.outputs.append(self.operands.pop())
        single = len(item_tokens) == 1 and item_tokens[0].kind == NAME
        self.output_names.append(item_tokens[0].text if single else None)

    def _unexpected_after_operand(self, toks: list[Token], i: int) -> ParseError:
        tok, prev = toks[i], toks[i - 1]
        if tok.kind == OP and tok.text == "=":
            inside_call = any(isinstance(f, _Frame) and f.kind == "call" for f in self.stack)
            if inside_call:
                return self.error("keyword arguments are not supported", tok.pos)
            return self.error("'=' can only follow the name at the start of a statement", tok.pos)
        if tok.kind == OP and tok.text == "(":
            return self.error(f"'{prev.text}' is not a function; did you forget an operator?", tok.pos)
        if tok.kind == OP and tok.text == "[":
            return self.error("only a name can be indexed (an array argument such as x[0], "
                              "or a vector step)", tok.pos)
        if prev.kind == NAME and prev.text == "lambda":
            return self.error("lambda expressions are not supported", prev.pos)
        if tok.kind in (NAME, NUM):
            return self.error(f"missing operator before '{tok.text}'", tok.pos)
        return self.error(f"unexpected '{tok.text}'", tok.pos)

    # --- vectors: indexing, len, lists ---
    def _index(self, tok: Token, i: int) -> tuple[int, bool]:
        """``NAME[...]``; a single number or loop name as the index takes a shortcut."""
        toks = self.tokens
        if i + 1 in self.first_for:
            raise self.error(self._misplaced_for, toks[self.first_for[i + 1]].pos)
        simple = (i + 3 < len(toks) and toks[i + 3].text == "]" and toks[i + 3].kind == OP
                  and (i + 4 == len(toks) or toks[i + 4].text != "["))
        inner = toks[i + 2] if simple else None
        if inner is not None and inner.kind == NAME and inner.text in self.p.bindings:
            k = self.p.bindings[inner.text]
        elif inner is not None and inner.kind == NUM and inner.text.isdigit():
            k = int(inner.text)
        else:
            return self._open_index(_Subscript(tok), i + 1)
        self.p.check_indexable(tok)
        self.operands.append(self.p.element(_Subscript(tok, (k,)), inner.pos))
        return i + 4, False

    def _open_index(self, ref: _Subscript, bracket: int) -> tuple[int, bool]:
        """Read ``[...]`` after ``ref``; ``bracket`` is the index of the '['."""
        open_tok = self.tokens[bracket]
        if not ref.index:
            self.p.check_indexable(ref.name)
        frame = _Frame("index", ref.name.pos, ref.name.text, len(self.operands), open_tok.pos,
                       starts=[self._start_of(bracket + 1)], ref=ref)
        self.stack.append(frame)
        return bracket + 1, True

    def _close_bracket(self, tok: Token, i: int) -> tuple[int, bool]:
        frame = self._reduce_to_frame()
        if frame is None:
            raise self.error("unmatched ']'", tok.pos)
        if frame.kind not in ("index", "list"):
            raise self.error(f"{_label(frame)} is never closed", frame.open_pos)
        self.stack.pop()
        items = self.operands[frame.operands_before :]
        del self.operands[frame.operands_before :]
        if frame.kind == "list":
            self.operands.append(_Vector(items))
            return i + 1, False
        indices = tuple(self.p.static_int(node, start, "an index")
                        for node, start in zip(items, frame.starts))
        ref = _Subscript(frame.ref.name, frame.ref.index + indices)
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if nxt is not None and nxt.kind == OP and nxt.text == "[":
            return self._open_index(ref, i + 1)
        self.operands.append(self.p.element(ref, frame.starts[0]))
        return i + 1, False

    def _length(self, i: int) -> tuple[int, bool]:
        """``len(NAME)``: the length of an array's first axis or of a vector step."""
        toks = self.tokens
        inner = toks[i + 2] if i + 2 < len(toks) else None
        close = toks[i + 3] if i + 3 < len(toks) else None
        if (inner is None or inner.kind != NAME or close is None
                or close.kind != OP or close.text != ")"):
            raise self.error("len() takes the name of an array or vector step, as in len(x)",
                             self._start_of(i + 2))
        self.operands.append(self.g.const(float(self.p.length(inner))))
        return i + 4, False

    def _open_list(self, tok: Token, i: int) -> tuple[int, bool]:
        if i not in self.match:
            raise self.error("'[' is never closed", tok.pos)
        if not (self.allow_vector and i == 0 and self.match.get(i) == len(self.tokens) - 1):
            raise self.error("a list [...] can only be the whole right-hand side of an "
                             "assignment (a vector step, such as h = [... for j in range(n)])", tok.pos)
        if i in self.first_for:
            return self._open_generator(tok, i, collect=True)
        if self.match[i] == i + 1:
            raise self.error("an empty list is not a vector step: give at least one element",
                             tok.pos)
        self.stack.append(_Frame("list", tok.pos, "[", len(self.operands), tok.pos))
        return i + 1, True

    # --- generators: sum(... for i in range(..)) and [... for i in range(..)] ---
    def _open_generator(self, tok: Token, opener: int, collect: bool) -> tuple[int, bool]:
        toks, close = self.tokens, self.match.get(opener)
        label = "'['" if collect else f"'{tok.text}('"
        if close is None:
            raise self.error(f"{label} is never closed", toks[opener].pos)
        body_end = self.first_for[opener]
        if body_end == opener + 1:
            raise self.error("a value is expected before 'for'", toks[body_end].pos)
        loops = self._header(body_end, close)
        for loop in loops:
            self.p.check_index_name(loop.name)
        gen = _Generator("gen", tok.pos, "[" if collect else tok.text, len(self.operands),
                         toks[opener].pos, collect=collect, body_start=opener + 1,
                         body_end=body_end, close=close, loops=loops,
                         ranges=[range(0)] * len(loops), at=[0] * len(loops),
                         saved={lp.name.text: self.p.bindings.get(lp.name.text) for lp in loops})
        self.stack.append(gen)
        return self._enter_loop(gen, 0)

    def _header(self, k: int, close: int) -> list[_Loop]:
        """The loops ``for NAME in range(...)`` from token ``k`` to the closer."""
        toks, loops = self.tokens, []

        def at(j: int) -> Token:
            return toks[min(j, close)]

        while k < close:
            if not (at(k).kind == NAME and at(k).text == "for"):
                what = ("conditions ('if') in a generator are not supported"
                        if at(k).text == "if" else
                        f"expected 'for' or the end of the generator, not '{at(k).text}'")
                raise self.error(what, at(k).pos)
            name, keyword, rng, paren = at(k + 1), at(k + 2), at(k + 3), at(k + 4)
            if name.kind != NAME or name.text == "in" or k + 1 >= close:
                raise self.error("a name is expected after 'for'", name.pos)
            if keyword.kind != NAME or keyword.text != "in" or k + 2 >= close:
                raise self.error(f"expected 'in' after 'for {name.text}'", keyword.pos)
            if rng.kind != NAME or rng.text != "range" or k + 3 >= close:
                raise self.error("only a range can be iterated: for i in range(n), "
                                 "range(a, b) or range(a, b, step)", rng.pos)
            if paren.kind != OP or paren.text != "(" or k + 4 >= close:
                raise self.error("expected '(' after 'range'", paren.pos)
            end = self.match.get(k + 4)
            if end is None or end > close:
                raise self.error("'range(' is never closed", paren.pos)
            loops.append(_Loop(name, rng, k + 4))
            k = end + 1
        return loops

    def _enter_loop(self, gen: _Generator, level: int) -> tuple[int, bool]:
        """Read the range of loop ``level`` (its bounds may use the outer loops' names)."""
        for loop in gen.loops[level:]:
            self.p.bind(loop.name.text, gen.saved[loop.name.text])
        loop = gen.loops[level]
        frame = _Frame("range", loop.range_name.pos, "range", len(self.operands),
                       self.tokens[loop.range_open].pos,
                       starts=[self._start_of(loop.range_open + 1)], level=level)
        self.stack.append(frame)
        return loop.range_open + 1, True

    def _range_read(self, frame: _Frame) -> tuple[int, bool]:
        args = self.operands[frame.operands_before :]
        del self.operands[frame.operands_before :]
        if not 1 <= len(args) <= 3:
            raise self.error(f"range() takes 1 to 3 arguments, but {len(args)} were given", frame.pos)
        bounds = [self.p.static_int(node, start, "a bound of range()")
                  for node, start in zip(args, frame.starts)]
        if len(bounds) == 3 and bounds[2] == 0:
            raise self.error("the step of range() must not be zero", frame.starts[2])
        gen = self.stack[-1]
        gen.ranges[frame.level] = range(*bounds)
        gen.at[frame.level] = 0
        if not gen.ranges[frame.level]:
            return self._advance(gen, frame.level - 1)
        return self._descend(gen, frame.level)

    def _descend(self, gen: _Generator, level: int) -> tuple[int, bool]:
        """Bind loop ``level`` to its current value, then go to the next loop or the body."""
        self.p.bind(gen.loops[level].name.text, gen.ranges[level][gen.at[level]])
        if level + 1 < len(gen.loops):
            return self._enter_loop(gen, level + 1)
        return gen.body_start, True

    def _advance(self, gen: _Generator, level: int) -> tuple[int, bool]:
        """The next binding (an odometer over the loops), or the generator's value."""
        while level >= 0:
            gen.at[level] += 1
            if gen.at[level] < len(gen.ranges[level]):
                return self._descend(gen, level)
            level -= 1
        for name, value in gen.saved.items():
            self.p.bind(name, value)
        self.stack.pop()
        if gen.collect:
            self.operands.append(_Vector(gen.items))
        else:
            self.operands.append(gen.total if gen.total is not None else self.g.const(0.0))
        return gen.close + 1, False

    def _end_of_body(self, tok: Token, i: int) -> tuple[int, bool]:
        frame = self._reduce_to_frame()
        if not isinstance(frame, _Generator) or frame.body_end != i:
            raise self.error(self._misplaced_for, tok.pos)
        value = self.operands.pop()
        if frame.collect:
            frame.items.append(value)
        else:
            frame.total = value if frame.total is None else self.g("add", frame.total, value)
        return self._advance(frame, len(frame.loops) - 1)


class _Open(NamedTuple):
    """An opening bracket: where it is and how to name it ("'('" or "'sin('")."""

    pos: int
    label: str


@dataclass
class _Join:
    """A newline that did not end its statement: an open bracket or a trailing operator."""

    first: int  # index, in the statement's tokens, of the next line's first token
    before: Token  # the last token before the newline
    innermost: _Open | None  # the innermost bracket open at the newline


@dataclass
class _Statement:
    tokens: list[Token]
    joins: list[_Join] = field(default_factory=list)
    unclosed: list[_Open] = field(default_factory=list)  # brackets open at the end of the text


def _split_statements(tokens: list[Token]) -> list[_Statement]:
    """Split at ``;`` and at newlines outside brackets and after a complete value.

    A newline inside brackets or after an operator joins the next line to the
    statement; each such join is recorded so that an error on the joined line
    can be blamed on the bracket or operator that caused the join.
    """
    statements: list[_Statement] = []
    current, opened = _Statement([]), []
    for tok in tokens:
        if tok.kind == END or (not opened and tok.kind == OP and tok.text == ";"):
            if current.joins and current.joins[-1].first == len(current.tokens):
                current.joins.pop()  # newlines at the very end join nothing
            if current.tokens:
                current.unclosed = list(opened)
                statements.append(current)
            current = _Statement([])
        elif tok.kind == NEWLINE:
            if current.tokens and _newline_continues(current.tokens[-1], opened):
                if not current.joins or current.joins[-1].first != len(current.tokens):
                    innermost = opened[-1] if opened else None
                    current.joins.append(_Join(len(current.tokens), current.tokens[-1], innermost))
            elif current.tokens:
                statements.append(current)
                current = _Statement([])
        else:
            if tok.kind == OP and tok.text in ("(", "["):
                prev = current.tokens[-1] if current.tokens else None
                named = prev is not None and prev.kind == NAME
                label = f"'{prev.text}{tok.text}'" if named else f"'{tok.text}'"
                opened.append(_Open(tok.pos, label))
            elif tok.kind == OP and tok.text in (")", "]") and opened:
                opened.pop()
            current.tokens.append(tok)
    return statements


def _newline_continues(last: Token, opened: list[_Open]) -> bool:
    return bool(opened) or (last.kind == OP and last.text not in (")", "]"))


def _is_assignment(tokens: list[Token], at: int = 0) -> bool:
    """Whether ``tokens[at:]`` starts with ``name =``."""
    return (len(tokens) > at + 1 and tokens[at].kind == NAME
            and tokens[at + 1].kind == OP and tokens[at + 1].text == "=")


class Parser:
    """Parses a whole program into one graph, statement by statement.

    A name assigned anywhere in the program is a step; using it before (or in)
    its own assignment is an error, never a silent new variable.

    An argument indexed anywhere (``x[0]``), or declared in ``shapes``, is an
    array: its elements are the variables ``x[0]``, ... (``element_name``), and
    the name alone is not a value.  An undeclared array's length along each axis
    is one more than the largest index used.  A vector step (``h = [...]``)
    records its elements as the steps ``h_0``, ``h_1``, ...
    """

    def __init__(self, text: str, graph: Graph, source: str | None = None,
                 shapes: dict[str, Shape] | None = None):
        self.text = text
        self.graph = graph
        self.lexer = _Lexer(text, source)
        self.declared: dict[str, Shape] = {k: tuple(v) for k, v in (shapes or {}).items()}
        self.arrays: set[str] = {k for k, v in self.declared.items() if v}
        self.inferred: dict[str, list[int]] = {}  # undeclared array -> largest index per axis
        self.rank_at: dict[str, tuple[int, int]] = {}  # undeclared array -> (rank, first use)
        self.vectors: dict[str, list[Node]] = {}  # vector steps
        self.bindings: dict[str, int] = {}  # the names bound by the enclosing generators
        self.steps: dict[str, Node] = {}
        self.step_pos: dict[str, int] = {}
        self.variables: dict[str, Node] = {}
        self.assigned_at: dict[str, int] = {}  # every assigned name -> its first assignment
        self.target: Token | None = None  # the name being assigned by the current statement
        # Where an assignment failed on what only an output may hold (its own
        # name, a top-level comma): the sign of an output joined to it by mistake.
        self.output_like_at: set[int] = set()

    def where(self, pos: int) -> str:
        line, column = line_and_column(self.text, pos)
        return f"line {line}, column {column}"

    def resolve_name(self, tok: Token) -> Node:
        name = tok.text
        if name in self.bindings:
            return self.graph.const(float(self.bindings[name]))
        if name in CONSTANTS:
            return self.graph.const(CONSTANTS[name])
        if name in self.steps:
            return self.steps[name]
        if name in self.vectors:
            raise self.lexer.error(
                f"'{name}' is a vector step of {len(self.vectors[name])} "
                f"element{'s' if len(self.vectors[name]) != 1 else ''}, not a single "
                f"value: use one element, as in {name}[0], or sum({name}[i] for i in "
                f"range(len({name})))", tok.pos)
        self._check_assigned(tok)
        if name in self.arrays:
            shape = self.declared.get(name)
            what = f"an array of shape {shape}" if shape else "an array (it is indexed elsewhere)"
            example = f"{name}[{', '.join('0' * len(shape))}]" if shape else f"{name}[0]"
            raise self.lexer.error(
                f"'{name}' is {what}, not a single value: use one element, as in {example}",
                tok.pos)
        if name not in self.variables:
            self.variables[name] = self.graph.var(name)
        return self.variables[name]

    def _check_assigned(self, tok: Token) -> None:
        """Refuse a step used in (or before) its own assignment."""
        name = tok.text
        if self.target is not None and name == self.target.text:
            self.output_like_at.add(tok.pos)
            raise self.lexer.error(
                f"'{name}' is used before it is assigned (in its own assignment, at "
                f"{self.where(self.target.pos)}; give the new value a new name)", tok.pos)
        if name in self.assigned_at:
            raise self.lexer.error(
                f"'{name}' is used before it is assigned (assigned later at "
                f"{self.where(self.assigned_at[name])})", tok.pos)

    # --- vectors ---
    def bind(self, name: str, value: int | None) -> None:
        """Bind a generator's loop name to ``value`` (None: unbind)."""
        if value is None:
            self.bindings.pop(name, None)
        else:
            self.bindings[name] = value

    def check_index_name(self, tok: Token) -> None:
        """A generator's loop name must not hide a constant, a step or an array."""
        name = tok.text
        if name in CONSTANTS or name in self.assigned_at or name in self.arrays:
            what = ("a constant" if name in CONSTANTS else "assigned by the program"
                    if name in self.assigned_at else "an array")
            raise self.lexer.error(f"'{name}' cannot be the index of a loop: it is {what}; "
                                   "choose another name", tok.pos)

    def check_indexable(self, tok: Token) -> None:
        """Refuse indexing what is not an array argument or a vector step."""
        name = tok.text
        if name in self.bindings:
            raise self.lexer.error(f"'{name}' is a loop index (a whole number), not an array; "
                                   "it cannot be indexed", tok.pos)
        if name in CONSTANTS:
            raise self.lexer.error(f"'{name}' is a constant; it cannot be indexed", tok.pos)
        if name in self.steps:
            raise self.lexer.error(f"'{name}' is a single value, not a vector; it cannot be "
                                   "indexed", tok.pos)
        if name not in self.vectors:
            self._check_assigned(tok)
        if name in self.declared and not self.declared[name]:
            raise self.lexer.error(f"'{name}' is declared as a single value; it cannot be "
                                   "indexed", tok.pos)

    def static_int(self, node: Node, pos: int, what: str) -> int:
        """The whole number ``node`` stands for, or a ParseError at ``pos``."""
        if node.kind == CONST:
            value = node.value
        else:
            used = [n.value for n in reachable([node]) if n.kind == VAR]
            if used:
                raise self.lexer.error(
                    f"{what} must be a whole number known when compiling, but it depends on "
                    f"the variable '{used[0]}' (only numbers, len(...) and the names of "
                    "enclosing 'for ... in range(...)' loops may appear in it)", pos)
            try:
                value = evaluate([node])[node.id]
            except (ArithmeticError, ValueError):
                raise self.lexer.error(f"{what} cannot be computed", pos) from None
        if not math.isfinite(value) or value != int(value):
            raise self.lexer.error(f"{what} must be a whole number, not {value:g}", pos)
        return int(value)

    def length(self, tok: Token) -> int:
        """``len(NAME)``: a vector step's length or an array's first axis."""
        name = tok.text
        if name in self.vectors:
            return len(self.vectors[name])
        if self.declared.get(name):
            return self.declared[name][0]
        if name in self.arrays:
            raise self.lexer.error(
                f"the length of '{name}' is not known when compiling: declare its shape "
                f"(shapes={{'{name}': n}} in the API, --shape {name}=n on the command line)",
                tok.pos)
        raise self.lexer.error(f"len() needs an array or a vector step; '{name}' is not one",
                               tok.pos)

    def element(self, ref: "_Subscript", pos: int) -> Node:
        """The node of ``ref``'s element: a vector step's, or an array argument's variable."""
        name = ref.name.text
        if name in self.vectors:
            items = self.vectors[name]
            (k,) = self._in_bounds(ref, (len(items),), pos)
            return items[k]
        shape = self.declared.get(name)
        if shape:
            index = self._in_bounds(ref, shape, pos)
        else:
            index = self._inferred_index(ref, pos)
        key = element_name(name, index)
        if key not in self.variables:
            self.variables[key] = self.graph.var(key)
        return self.variables[key]

    def _in_bounds(self, ref: "_Subscript", shape: Shape, pos: int) -> tuple[int, ...]:
        name, index = ref.name.text, ref.index
        what = "vector step" if name in self.vectors else "array"
        if len(index) != len(shape):
            raise self.lexer.error(
                f"'{name}' is {'a' if what == 'vector step' else 'an'} {what} of shape {shape} "
                f"({len(shape)} ax{'is' if len(shape) == 1 else 'es'}), but {len(index)} "
                f"ind{'ex is' if len(index) == 1 else 'ices are'} given", ref.name.pos)
        out = []
        for k, n in zip(index, shape):
            if not -n <= k < n:
                raise self.lexer.error(
                    f"index {k} is out of range for '{name}' of shape {shape}"
                    f"{self._loop_values()}", pos)
            out.append(k + n if k < 0 else k)
        return tuple(out)

    def _loop_values(self) -> str:
        """`` (where i = 2, j = 0)``: the loop names bound when an error happens."""
        if not self.bindings:
            return ""
        return " (where " + ", ".join(f"{k} = {v}" for k, v in self.bindings.items()) + ")"

    def _inferred_index(self, ref: "_Subscript", pos: int) -> tuple[int, ...]:
        """An undeclared array's index; its length grows to cover the largest index used."""
        name, index = ref.name.text, ref.index
        rank, first = self.rank_at.setdefault(name, (len(index), ref.name.pos))
        if rank != len(index):
            raise self.lexer.error(
                f"'{name}' is indexed with {len(index)} ind{'ex' if len(index) == 1 else 'ices'} "
                f"here but with {rank} at {self.where(first)}", ref.name.pos)
        if any(k < 0 for k in index):
            raise self.lexer.error(
                f"a negative index needs the length of '{name}': declare its shape "
                f"(shapes={{'{name}': n}} in the API, --shape {name}=n on the command line)", pos)
        largest = self.inferred.setdefault(name, list(index))
        for axis, k in enumerate(index):
            largest[axis] = max(largest[axis], k)
        return index

    def shapes(self) -> dict[str, Shape]:
        """The array arguments' shapes: declared, then inferred from the indices used."""
        out = {k: v for k, v in self.declared.items() if v}
        for name, largest in self.inferred.items():
            out[name] = tuple(k + 1 for k in largest)
        return out

    def parse(self) -> Program:
        statements = _split_statements(self.lexer.tokens())
        if not statements:
            raise self.lexer.error("the input is empty: write an expression", len(self.text))
        for stmt in statements:
            if _is_assignment(stmt.tokens):
                self.assigned_at.setdefault(stmt.tokens[0].text, stmt.tokens[0].pos)
        self._find_arrays(statements)
        outputs, names = [], []
        for k, stmt in enumerate(statements):
            try:
                outputs, names = self._statement(stmt, last=k == len(statements) - 1)
            except ParseError as err:
                blamed = self._blame_join(stmt, err, last=k == len(statements) - 1)
                if blamed is err:
                    raise
                raise blamed from None
        return Program(outputs, names, dict(self.steps), dict(self.variables),
                       shapes=self.shapes())

    def _find_arrays(self, statements: list[_Statement]) -> None:
        """Every name indexed somewhere that no statement assigns is an array argument."""
        for stmt in statements:
            toks = stmt.tokens
            for k in range(len(toks) - 1):
                if (toks[k].kind == NAME and toks[k + 1].kind == OP and toks[k + 1].text == "["
                        and toks[k].text not in self.assigned_at):
                    self.arrays.add(toks[k].text)

    def _statement(self, stmt: _Statement, last: bool) -> tuple[list[Node], list[str | None]]:
        tokens = stmt.tokens
        if _is_assignment(tokens):
            self._assign(tokens[0], tokens[2:], tokens[1])
            if last:
                raise self._no_output(stmt)
            return [], []
        if not last:
            raise self.lexer.error(
                "only the last statement may be a bare expression; "
                "name this one (name = ...) or remove it", tokens[0].pos)
        return _ExpressionParser(self, tokens, allow_tuple=True).parse()

    def _no_output(self, stmt: _Statement) -> ParseError:
        """The error for a program whose last statement is an assignment."""
        target = stmt.tokens[0]
        hint = ""
        operator = self._joining_operator(stmt.joins)
        if operator is not None:
            line, _ = line_and_column(self.text, operator.pos)
            hint = f"; the '{operator.text}' at the end of line {line} joins the next line to this statement"
        return self.lexer.error(
            f"the program must end with an expression, its output (for example: {target.text}){hint}",
            target.pos)

    @staticmethod
    def _joining_operator(joins: list[_Join]) -> Token | None:
        """The first trailing operator that joined a line to the statement, if any."""
        for join in joins:
            if join.before.kind == OP and join.before.text not in ("(", ",", ")", "[", "]"):
                return join.before
        return None

    def _blame_join(self, stmt: _Statement, err: ParseError, last: bool) -> ParseError:
        """Blame an error on a joined line on what joined it, when that is the mistake.

        That is a bracket that is never closed; a bracket or trailing operator
        after which the next line starts a new statement (``name =``); or, in a
        last statement that is an assignment, a trailing operator that joined
        what was meant as the program's output (``b = a +`` then ``b``).
        """
        joins = [j for j in stmt.joins if stmt.tokens[j.first].pos <= err.pos]
        if not joins:
            return err
        join = joins[-1]
        line_start = stmt.tokens[join.first].pos
        never_closed = [b for b in stmt.unclosed if b.pos < line_start]
        if never_closed:
            return self.lexer.error(f"{never_closed[-1].label} is never closed", never_closed[-1].pos)
        before = join.before
        starts_statement = (_is_assignment(stmt.tokens, join.first)
                            and before.text not in ("(", ",", "["))
        if starts_statement and before.kind == OP and before.text != ")":
            return self.lexer.error(
                f"nothing follows '{before.text}': the next line starts a new statement", before.pos)
        if starts_statement and join.innermost is not None:
            return self.lexer.error(
                f"{join.innermost.label} is not closed before the next statement starts",
                join.innermost.pos)
        if (last and err.pos in self.output_like_at and _is_assignment(stmt.tokens)
                and self._joining_operator(joins) is not None):
            return self._no_output(stmt)
        return err

    def _assign(self, target: Token, tokens: list[Token], eq: Token) -> None:
        name = target.text
        if not tokens:
            raise self.lexer.error(f"nothing is assigned to '{name}'", eq.pos + 1)
        if name in CONSTANTS:
            raise self.lexer.error(f"'{name}' is a constant and cannot be assigned", target.pos)
        if name in self.step_pos:
            raise self.lexer.error(
                f"'{name}' is assigned twice (first at {self.where(self.step_pos[name])}); "
                "each name may be assigned only once", target.pos)
        if name in self.declared:
            raise self.lexer.error(
                f"'{name}' is declared as an argument of shape {self.declared[name]}, "
                "but the program assigns it", target.pos)
        self.target = target
        (node,), _ = _ExpressionParser(self, tokens, allow_tuple=False, allow_vector=True).parse()
        self.target = None
        self.step_pos[name] = target.pos
        if isinstance(node, _Vector):
            self._vector_step(name, node.items)
        else:
            self.steps[name] = node

    def _vector_step(self, name: str, items: list[Node]) -> None:
        """Record a vector step; its elements are the steps ``name_0``, ``name_1``, ..."""
        self.vectors[name] = items
        for k, node in enumerate(items):
            label = f"{name}_{k}"
            while label in self.assigned_at or label in self.steps or label in self.variables:
                label += "_"
            self.steps[label] = node


def parse(text: str, graph: Graph | None = None, source: str | None = None,
          shapes: dict[str, Shape] | None = None) -> Program:
    """Parse an expression or program into ``graph`` (a fresh one by default).

    ``shapes`` declares array arguments (``{"x": (3,)}``); an undeclared name
    indexed with constants is an array whose length covers the indices used.
    """
    graph = graph if graph is not None else Graph()
    return Parser(text, graph, source, shapes).parse()


def one_line_program(text: str) -> str:
    """The program on one line, statements joined by '; ', comments dropped.

    Used to quote a multi-line program in a regeneration command.  It parses
    to the same graph as ``text``.
    """
    statements = _split_statements(_Lexer(text, None).tokens())
    return "; ".join(_detokenize(s.tokens) for s in statements)


def _detokenize(tokens: list[Token]) -> str:
    out: list[str] = []
    prev: Token | None = None
    for tok in tokens:
        glue = (
            prev is None
            or tok.text in (")", ",", "]")
            or (prev.kind == OP and prev.text in ("(", "["))
            or (tok.text in ("(", "[") and prev.kind == NAME)
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
    return before in ("(", "[", ",", "=", "+", "-", "*", "/", "**", "^")
