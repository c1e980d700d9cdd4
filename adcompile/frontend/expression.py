"""One statement's tokens -> nodes, by operator precedence, without recursion.

The expression parser is a shunting-yard over an explicit stack of pending
operators and open brackets (``frames.py``): a binary operator first reduces
the operators of higher precedence (``**`` is right-associative, unary minus
binds tighter than ``*`` but looser than ``**``), a closing bracket reduces
down to its frame, and each reduction builds its node at once.  A sum of
10^5 terms or a 10^4-deep nest of calls therefore needs no recursion.
Indexing and lists (``indexing.py``) and generators (``generators.py``) are
mixins that work the same stacks.
"""

from __future__ import annotations

import difflib
from typing import Protocol

from adcompile.errors import ParseError
from adcompile.frontend.frames import MISPLACED_FOR, Frame, Subscript, bracket_label, brackets
from adcompile.frontend.generators import GeneratorSyntax
from adcompile.frontend.indexing import IndexingSyntax
from adcompile.frontend.language import FUNCTIONS
from adcompile.frontend.lexer import NAME, NUM, OP, Lexer, Token
from adcompile.ir.graph import Graph, Node

_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "^": "pow"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4, "^": 4}
_RIGHT_ASSOC = {"**", "^"}


class ProgramScope(Protocol):
    """What an expression asks of the program around it (``text.Parser``)."""

    graph: Graph
    lexer: Lexer
    bindings: dict[str, int]  # the loop names of the enclosing generators
    output_like_at: set[int]

    def resolve_name(self, tok: Token) -> Node: ...
    def check_indexable(self, tok: Token) -> None: ...
    def check_index_name(self, tok: Token) -> None: ...
    def bind(self, name: str, value: int | None) -> None: ...
    def static_int(self, node: Node, pos: int, what: str) -> int: ...
    def length(self, tok: Token) -> int: ...
    def element(self, ref: Subscript, pos: int) -> Node: ...


class ExpressionParser(IndexingSyntax, GeneratorSyntax):
    """Shunting-yard over one statement's tokens; builds nodes as it reduces.

    A generator (``sum(... for i in range(n))``, ``[... for i in range(n)]``)
    is unrolled without recursion: its frame keeps the loops' positions, and
    the token pointer jumps back to the body for each binding.  ``parser`` is
    the program's ``Parser``: it owns the graph and resolves names.
    """

    def __init__(self, parser: ProgramScope, tokens: list[Token], allow_tuple: bool,
                 allow_vector: bool = False):
        self.p = parser
        self.g = parser.graph
        self.tokens = tokens
        self.allow_tuple = allow_tuple
        self.allow_vector = allow_vector  # a list may be the whole statement (a vector step)
        self.operands: list = []  # nodes; a Vector only as a vector step's whole value
        self.stack: list = []  # ("bin", symbol, pos) | ("neg", pos) | Frame
        self.outputs: list = []
        self.output_names: list[str | None] = []
        self.match, self.first_for = brackets(tokens)

    def error(self, message: str, pos: int) -> ParseError:
        return self.p.lexer.error(message, pos)

    def parse(self) -> tuple[list, list[str | None]]:
        expect_operand, i, toks = True, 0, self.tokens
        first_of_item = 0
        if -1 in self.first_for:
            raise self.error(MISPLACED_FOR, toks[self.first_for[-1]].pos)
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
                raise _unexpected_after_operand(self, toks, i)
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
                raise self.error(MISPLACED_FOR, self.tokens[self.first_for[i]].pos)
            frame = Frame("paren", tok.pos, operands_before=len(self.operands), open_pos=tok.pos)
            self.stack.append(frame)
            return i + 1, True
        if tok.kind == OP and tok.text == "[":
            return self._open_list(tok, i)
        if tok.kind == OP and tok.text == "-":
            self.stack.append(("neg", tok.pos))
            return i + 1, True
        if tok.kind == OP and tok.text == "+":
            return i + 1, True
        if tok.kind == OP and tok.text in (")", "]") and self.stack and isinstance(self.stack[-1], Frame):
            raise _missing_value(self, tok, self.stack[-1])
        if tok.kind == OP and tok.text == "=":
            raise self.error("'=' is not expected here", tok.pos)
        if tok.kind == NAME and tok.text == "for":
            raise self.error("a value is expected before 'for'", tok.pos)
        raise self.error(f"a value is expected here, not '{tok.text}'", tok.pos)

    def _open_call(self, tok: Token, paren: Token, i: int) -> tuple[int, bool]:
        if tok.text == "len":
            return self._length(i)
        if tok.text == "sum" and i + 1 in self.first_for:
            return self._open_generator(tok, i + 1, collect=False)
        if i + 1 in self.first_for:
            raise self.error(MISPLACED_FOR, self.tokens[self.first_for[i + 1]].pos)
        if tok.text not in FUNCTIONS:
            hint = difflib.get_close_matches(tok.text, list(FUNCTIONS), n=1, cutoff=0.6)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise self.error(f"unknown function '{tok.text}'{suggestion}", tok.pos)
        self.stack.append(Frame("call", tok.pos, tok.text, len(self.operands), paren.pos))
        return i + 2, True

    # --- operators ---
    def _binary(self, tok: Token) -> None:
        prec = _PRECEDENCE[tok.text]
        while self.stack and not isinstance(self.stack[-1], Frame):
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

    def _reduce_to_frame(self) -> Frame | None:
        while self.stack and not isinstance(self.stack[-1], Frame):
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
            raise self.error(f"{bracket_label(frame)} is never closed", frame.open_pos)
        self.stack.pop()
        if frame.kind == "range":
            return self._range_read(frame)
        if frame.kind == "call":
            args = self.operands[frame.operands_before :]
            del self.operands[frame.operands_before :]
            self.operands.append(self._call(frame, args))
        return i + 1, False

    def _call(self, frame: Frame, args: list[Node]) -> Node:
        fn = FUNCTIONS[frame.name]
        if not fn.accepts(len(args)):
            raise self.error(f"{fn.name}() takes {fn.arity_text()}, but {len(args)} "
                             f"{'was' if len(args) == 1 else 'were'} given", frame.pos)
        return fn.build(self.g, args)

    def _finish_item(self, item_tokens: list[Token]) -> None:
        frame = self._reduce_to_frame()
        if frame is not None:
            raise self.error(f"{bracket_label(frame)} is never closed", frame.open_pos)
        self.outputs.append(self.operands.pop())
        single = len(item_tokens) == 1 and item_tokens[0].kind == NAME
        self.output_names.append(item_tokens[0].text if single else None)


def _missing_value(ep: ExpressionParser, tok: Token, frame: Frame) -> ParseError:
    """The error for a closing bracket where a value is expected."""
    empty = len(ep.operands) == frame.operands_before
    if frame.kind == "call" and empty:
        return ep.error(f"{frame.name}() needs {FUNCTIONS[frame.name].arity_text()}", tok.pos)
    if frame.kind == "range" and empty:
        return ep.error("range() needs 1 to 3 arguments", tok.pos)
    if empty and frame.kind == "paren":
        return ep.error("empty parentheses: a value is expected here", tok.pos)
    if frame.kind == "index":
        return ep.error(f"an index is expected before '{tok.text}'", tok.pos)
    return ep.error(f"a value is expected before '{tok.text}'", tok.pos)


def _unexpected_after_operand(ep: ExpressionParser, toks: list[Token], i: int) -> ParseError:
    """The error for token ``i``, which follows a complete value but is no operator."""
    tok, prev = toks[i], toks[i - 1]
    if tok.kind == OP and tok.text == "=":
        inside_call = any(isinstance(f, Frame) and f.kind == "call" for f in ep.stack)
        if inside_call:
            return ep.error("keyword arguments are not supported", tok.pos)
        return ep.error("'=' can only follow the name at the start of a statement", tok.pos)
    if tok.kind == OP and tok.text == "(":
        return ep.error(f"'{prev.text}' is not a function; did you forget an operator?", tok.pos)
    if tok.kind == OP and tok.text == "[":
        return ep.error("only a name can be indexed (an array argument such as x[0], "
                        "or a vector step)", tok.pos)
    if prev.kind == NAME and prev.text == "lambda":
        return ep.error("lambda expressions are not supported", prev.pos)
    if tok.kind in (NAME, NUM):
        return ep.error(f"missing operator before '{tok.text}'", tok.pos)
    return ep.error(f"unexpected '{tok.text}'", tok.pos)
