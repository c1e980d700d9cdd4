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
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from adcompile.errors import ParseError, line_and_column
from adcompile.ir.graph import Graph, Node
from adcompile.frontend.language import CONSTANTS, FUNCTIONS
from adcompile.frontend.program import Program, normalize_name

NUM, NAME, OP, NEWLINE, END = "number", "name", "op", "newline", "end"

_NUMBER = re.compile(
    r"(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?"
)
_ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\f]+")
_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", ",", "=", ";")

# Characters outside the language, with what to tell the user.
_REFUSED = {
    ".": "attribute access is not supported",
    "[": "subscripts are not supported",
    "]": "subscripts are not supported",
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
    """An open parenthesis, or a call whose arguments are being read."""

    kind: str  # "paren" or "call"
    pos: int  # of the '(' or of the function's name
    name: str = ""
    operands_before: int = 0
    open_pos: int = -1  # of the '(' (a call's is after its name)


class _ExpressionParser:
    """Shunting-yard over one statement's tokens; builds nodes as it reduces."""

    def __init__(self, parser: "Parser", tokens: list[Token], allow_tuple: bool):
        self.p = parser
        self.g = parser.graph
        self.tokens = tokens
        self.allow_tuple = allow_tuple
        self.operands: list[Node] = []
        self.stack: list = []  # ("bin", symbol, pos) | ("neg", pos) | _Frame
        self.outputs: list[Node] = []
        self.output_names: list[str | None] = []

    def error(self, message: str, pos: int) -> ParseError:
        return self.p.lexer.error(message, pos)

    def parse(self) -> tuple[list[Node], list[str | None]]:
        expect_operand, i, toks = True, 0, self.tokens
        first_of_item = 0
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
                self._close(tok)
                i += 1
            else:
                raise self._unexpected_after_operand(toks, i)
        end = toks[-1].pos + len(toks[-1].text) if toks else 0
        if expect_operand:
            raise self.error("the expression ends where a value is expected", end)
        self._finish_item(toks[first_of_item:])
        return self.outputs, self.output_names

    # --- operands ---
    def _operand(self, i: int) -> tuple[int, bool]:
        tok = self.tokens[i]
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if tok.kind == NUM:
            self.operands.append(self.g.const(float(tok.text.replace("_", ""))))
            return i + 1, False
        if tok.kind == NAME and nxt is not None and nxt.kind == OP and nxt.text == "(":
            self._open_call(tok, nxt)
            return i + 2, True
        if tok.kind == NAME:
            self.operands.append(self.p.resolve_name(tok))
            return i + 1, False
        if tok.kind == OP and tok.text == "(":
            frame = _Frame("paren", tok.pos, operands_before=len(self.operands), open_pos=tok.pos)
            self.stack.append(frame)
            return i + 1, True
        if tok.kind == OP and tok.text == "-":
            self.stack.append(("neg", tok.pos))
            return i + 1, True
        if tok.kind == OP and tok.text == "+":
            return i + 1, True
        if tok.kind == OP and tok.text == ")" and self.stack and isinstance(self.stack[-1], _Frame):
            frame = self.stack[-1]
            if frame.kind == "call" and len(self.operands) == frame.operands_before:
                raise self.error(f"{frame.name}() needs {FUNCTIONS[frame.name].arity_text()}", tok.pos)
            if len(self.operands) == frame.operands_before and frame.kind == "paren":
                raise self.error("empty parentheses: a value is expected here", tok.pos)
            raise self.error("a value is expected before ')'", tok.pos)
        if tok.kind == OP and tok.text == "=":
            raise self.error("'=' is not expected here", tok.pos)
        raise self.error(f"a value is expected here, not '{tok.text}'", tok.pos)

    def _open_call(self, tok: Token, paren: Token) -> None:
        if tok.text not in FUNCTIONS:
            hint = difflib.get_close_matches(tok.text, list(FUNCTIONS), n=1, cutoff=0.6)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise self.error(f"unknown function '{tok.text}'{suggestion}", tok.pos)
        self.stack.append(_Frame("call", tok.pos, tok.text, len(self.operands), paren.pos))

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
        return False

    def _close(self, tok: Token) -> None:
        frame = self._reduce_to_frame()
        if frame is None:
            raise self.error("unmatched ')'", tok.pos)
        self.stack.pop()
        if frame.kind == "call":
            args = self.operands[frame.operands_before :]
            del self.operands[frame.operands_before :]
            self.operands.append(self._call(frame, args))

    def _call(self, frame: _Frame, args: list[Node]) -> Node:
        fn = FUNCTIONS[frame.name]
        if not fn.accepts(len(args)):
            raise self.error(f"{fn.name}() takes {fn.arity_text()}, but {len(args)} "
                             f"{'was' if len(args) == 1 else 'were'} given", frame.pos)
        return fn.build(self.g, args)

    def _finish_item(self, item_tokens: list[Token]) -> None:
        frame = self._reduce_to_frame()
        if frame is not None:
            what = "'('" if frame.kind == "paren" else f"'{frame.name}('"
            raise self.error(f"{what} is never closed", frame.open_pos)
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
        if prev.kind == NAME and prev.text == "lambda":
            return self.error("lambda expressions are not supported", prev.pos)
        if tok.kind in (NAME, NUM):
            return self.error(f"missing operator before '{tok.text}'", tok.pos)
        return self.error(f"unexpected '{tok.text}'", tok.pos)


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
            if tok.kind == OP and tok.text == "(":
                prev = current.tokens[-1] if current.tokens else None
                label = f"'{prev.text}('" if prev is not None and prev.kind == NAME else "'('"
                opened.append(_Open(tok.pos, label))
            elif tok.kind == OP and tok.text == ")" and opened:
                opened.pop()
            current.tokens.append(tok)
    return statements


def _newline_continues(last: Token, opened: list[_Open]) -> bool:
    return bool(opened) or (last.kind == OP and last.text != ")")


def _is_assignment(tokens: list[Token], at: int = 0) -> bool:
    """Whether ``tokens[at:]`` starts with ``name =``."""
    return (len(tokens) > at + 1 and tokens[at].kind == NAME
            and tokens[at + 1].kind == OP and tokens[at + 1].text == "=")


class Parser:
    """Parses a whole program into one graph, statement by statement.

    A name assigned anywhere in the program is a step; using it before (or in)
    its own assignment is an error, never a silent new variable.
    """

    def __init__(self, text: str, graph: Graph, source: str | None = None):
        self.text = text
        self.graph = graph
        self.lexer = _Lexer(text, source)
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
        if name in CONSTANTS:
            return self.graph.const(CONSTANTS[name])
        if name in self.steps:
            return self.steps[name]
        if self.target is not None and name == self.target.text:
            self.output_like_at.add(tok.pos)
            raise self.lexer.error(
                f"'{name}' is used before it is assigned (in its own assignment, at "
                f"{self.where(self.target.pos)}; give the new value a new name)", tok.pos)
        if name in self.assigned_at:
            raise self.lexer.error(
                f"'{name}' is used before it is assigned (assigned later at "
                f"{self.where(self.assigned_at[name])})", tok.pos)
        if name not in self.variables:
            self.variables[name] = self.graph.var(name)
        return self.variables[name]

    def parse(self) -> Program:
        statements = _split_statements(self.lexer.tokens())
        if not statements:
            raise self.lexer.error("the input is empty: write an expression", len(self.text))
        for stmt in statements:
            if _is_assignment(stmt.tokens):
                self.assigned_at.setdefault(stmt.tokens[0].text, stmt.tokens[0].pos)
        outputs, names = [], []
        for k, stmt in enumerate(statements):
            try:
                outputs, names = self._statement(stmt, last=k == len(statements) - 1)
            except ParseError as err:
                blamed = self._blame_join(stmt, err, last=k == len(statements) - 1)
                if blamed is err:
                    raise
                raise blamed from None
        return Program(outputs, names, dict(self.steps), dict(self.variables))

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
            if join.before.kind == OP and join.before.text not in ("(", ",", ")"):
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
        starts_statement = _is_assignment(stmt.tokens, join.first) and before.text not in ("(", ",")
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
        if name in self.steps:
            raise self.lexer.error(
                f"'{name}' is assigned twice (first at {self.where(self.step_pos[name])}); "
                "each name may be assigned only once", target.pos)
        self.target = target
        (node,), _ = _ExpressionParser(self, tokens, allow_tuple=False).parse()
        self.target = None
        self.steps[name] = node
        self.step_pos[name] = target.pos


def parse(text: str, graph: Graph | None = None, source: str | None = None) -> Program:
    """Parse an expression or program into ``graph`` (a fresh one by default)."""
    return Parser(text, graph if graph is not None else Graph(), source).parse()


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
            or tok.text in (")", ",")
            or (prev.kind == OP and prev.text == "(")
            or (tok.text == "(" and prev.kind == NAME)
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
    return before in ("(", ",", "=", "+", "-", "*", "/", "**", "^")
