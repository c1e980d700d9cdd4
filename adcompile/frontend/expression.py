"""One statement's tokens -> nodes, by operator precedence, without recursion.

The expression parser is a shunting-yard over an explicit stack of pending
operators and open brackets (``frames.py``): a binary operator first reduces
the operators of higher precedence, a closing bracket reduces down to its
frame, and each reduction builds its node at once.  A sum of 10^5 terms or a
10^4-deep nest of calls therefore needs no recursion.  Indexing and lists
(``indexing.py``) and generators (``generators.py``) are mixins that work the
same stacks.

The precedence is Python's, loosest first:

    a if c else b            (right-associative: a if c else b if d else e)
    or
    and
    not                      (prefix)
    <  <=  >  >=  ==  !=     (chained: 0 < x < 1 is (0 < x) and (x < 1))
    +  -
    *  /
    -x  +x                   (prefix)
    **  ^                    (right-associative; -x**2 is -(x**2))

A comparison, ``and``, ``or`` and ``not`` make a *condition*, which has no
derivative and is not a number: it may be assigned to a step and used where a
condition is expected (``where``'s first argument, after ``if``, with ``and``,
``or``, ``not``), and nowhere else.  Every operand remembers the tokens it
spans, so a condition where a number is expected (or the reverse) is an error
that quotes it and says what to write instead.
"""

from __future__ import annotations

import difflib
from typing import NamedTuple, Protocol

from adcompile.errors import ParseError
from adcompile.frontend.frames import (MISPLACED_FOR, Frame, Pending, Subscript, Vector, bracket_label,
                                       brackets)
from adcompile.frontend.generators import GeneratorSyntax
from adcompile.frontend.indexing import IndexingSyntax
from adcompile.frontend.language import FUNCTIONS
from adcompile.frontend.lexer import NAME, NUM, OP, Lexer, Token
from adcompile.frontend.statements import detokenize
from adcompile.ir.graph import Graph, Node

_ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "^": "pow"}
_COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
_LOGICAL = {"and": "logical_and", "or": "logical_or"}
_PRECEDENCE = {"if": 1, "else": 1, "or": 2, "and": 3, "not": 4, **dict.fromkeys(_COMPARISONS, 5),
               "+": 6, "-": 6, "*": 7, "/": 7, "neg": 8, "plus": 8, "**": 9, "^": 9}
_RIGHT_ASSOC = {"**", "^"}
_PREFIXES = {"neg": "-", "plus": "+", "not": "not"}
_NOT_MAY_FOLLOW = {"and", "or", "not", "if", "else"}  # where Python lets 'not' start an operand
_NOT_A_VALUE = {"if", "else", "and", "or"}  # keywords that cannot start a value (others are names)
_LONGEST_QUOTE = 60  # characters of an operand quoted in a message


class Span(NamedTuple):
    """Where an operand is (its first and last token in the statement's tokens), and
    whether it is a condition.  The kind is the parser's, not the node's: a comparison
    of constants folds to the number 1.0 or 0.0, and is still a condition."""

    first: int
    last: int
    condition: bool = False


class ProgramScope(Protocol):
    """What an expression asks of the program around it (``text.Parser``)."""

    graph: Graph
    lexer: Lexer
    bindings: dict[str, int]  # the loop names of the enclosing generators
    output_like_at: set[int]
    condition_steps: set[str]  # the steps (and vector steps) that hold conditions

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
        self.spans: list[Span] = []  # each operand's tokens, for messages
        self.stack: list = []  # Pending | Frame
        self.outputs: list = []
        self.output_names: list[str | None] = []
        self.output_conditions: list[bool] = []  # whether each output is a condition
        self.match, self.first_for = brackets(tokens)

    def error(self, message: str, pos: int) -> ParseError:
        return self.p.lexer.error(message, pos)

    # --- the operand stack, with each operand's span ---
    def push(self, value, first: int, last: int, condition: bool = False) -> None:
        self.operands.append(value)
        self.spans.append(Span(first, last, condition))

    def pop(self) -> tuple:
        """The top operand and its span, removed."""
        return self.operands.pop(), self.spans.pop()

    def take(self, start: int) -> tuple[list, list[Span]]:
        """The operands from ``start`` on and their spans, removed."""
        values, spans = self.operands[start:], self.spans[start:]
        del self.operands[start:], self.spans[start:]
        return values, spans

    def push_vector(self, items: list[Node], spans: list[Span], first: int, last: int) -> None:
        """A vector step's value: its elements are all numbers or all conditions."""
        condition = bool(spans) and spans[0].condition
        for span in spans:
            if span.condition != condition:
                kind = "a condition" if span.condition else "a number"
                raise self.error(f"the elements of a vector step are all numbers or all "
                                 f"conditions, but this one is {kind} and the first is not",
                                 self.tokens[span.first].pos)
        self.push(Vector(items, condition), first, last, condition)

    def parse(self) -> tuple[list, list[str | None]]:
        expect_operand, i, toks = True, 0, self.tokens
        first_of_item = 0
        if -1 in self.first_for:
            raise self.error(MISPLACED_FOR, toks[self.first_for[-1]].pos)
        while i < len(toks):
            tok = toks[i]
            if expect_operand:
                i, expect_operand = self._operand(i)
            elif self._infix(tok, i):
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
            self.push(self.g.const(float(tok.text.replace("_", ""))), i, i)
            return i + 1, False
        if tok.kind == NAME and (tok.text in _NOT_A_VALUE or tok.text == "not"):
            return self._keyword_operand(tok, i)
        if tok.kind == NAME and nxt is not None and nxt.kind == OP and nxt.text == "(":
            return self._open_call(tok, nxt, i)
        if tok.kind == NAME and nxt is not None and nxt.kind == OP and nxt.text == "[":
            return self._index(tok, i)
        if tok.kind == NAME:
            node = self.p.resolve_name(tok)
            self.push(node, i, i, tok.text in self.p.condition_steps and tok.text not in self.p.bindings)
            return i + 1, False
        if tok.kind == OP and tok.text == "(":
            if i in self.first_for:
                raise self.error(MISPLACED_FOR, self.tokens[self.first_for[i]].pos)
            frame = Frame("paren", tok.pos, operands_before=len(self.operands), open_pos=tok.pos,
                          first=i)
            self.stack.append(frame)
            return i + 1, True
        if tok.kind == OP and tok.text == "[":
            return self._open_list(tok, i)
        if tok.kind == OP and tok.text in ("-", "+"):
            self.stack.append(Pending("neg" if tok.text == "-" else "plus", tok.pos, i))
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
        self.stack.append(Frame("call", tok.pos, tok.text, len(self.operands), paren.pos, first=i))
        return i + 2, True

    def _keyword_operand(self, tok: Token, i: int) -> tuple[int, bool]:
        """A keyword where a value is expected: ``not`` starts one; the others cannot."""
        if tok.text != "not":
            raise self.error(f"a value is expected here, not '{tok.text}'", tok.pos)
        top = self.stack[-1] if self.stack else None
        if isinstance(top, Pending) and top.symbol not in _NOT_MAY_FOLLOW:
            shown = _PREFIXES.get(top.symbol, top.symbol)
            raise self.error(f"'not' cannot follow '{shown}' without parentheses: '{shown}' "
                             "needs a number, and 'not ...' is a condition", tok.pos)
        self.stack.append(Pending("not", tok.pos, i))
        return i + 1, True

    # --- operators ---
    def _infix(self, tok: Token, i: int) -> bool:
        """An operator after a value (False if ``tok`` is none): reduce what binds
        tighter, then push it."""
        if tok.kind == OP and tok.text in _ARITHMETIC or tok.kind == NAME and tok.text in _LOGICAL:
            prec = _PRECEDENCE[tok.text]
            self._reduce_above(prec, equal_too=tok.text not in _RIGHT_ASSOC)
            self.stack.append(Pending(tok.text, tok.pos, i))
        elif tok.kind == OP and tok.text in _COMPARISONS:
            self._comparison(tok, i)
        elif tok.kind == NAME and tok.text == "if":
            top = self._reduce_above(_PRECEDENCE["if"], equal_too=False)
            if isinstance(top, Pending) and top.symbol == "if":
                raise self.error("a conditional expression used as a condition needs "
                                 "parentheses: a if (b if c else d) else e", tok.pos)
            self.stack.append(Pending("if", tok.pos, i))
        elif tok.kind == NAME and tok.text == "else":
            top = self._reduce_above(_PRECEDENCE["else"], equal_too=False)
            if not (isinstance(top, Pending) and top.symbol == "if"):
                raise self.error("'else' without 'if': a conditional expression is written "
                                 "a if condition else b", tok.pos)
            self.stack[-1] = Pending("else", top.pos, i)
        else:
            return False
        return True

    def _comparison(self, tok: Token, i: int) -> None:
        """Push a comparison; after another one, chain them: in ``a < b < c`` the first
        is reduced to ``a < b`` now, and ``b`` stays as the left operand of ``b < c``."""
        top = self._reduce_above(_PRECEDENCE[tok.text], equal_too=False)
        chain, chain_first = None, -1
        if isinstance(top, Pending) and top.symbol in _COMPARISONS:
            middle, middle_span = self.operands[-1], self.spans[-1]
            self._reduce()
            chain, chain_span = self.pop()
            chain_first = chain_span.first
            self.push(middle, *middle_span)
        self.stack.append(Pending(tok.text, tok.pos, i, chain, chain_first))

    def _reduce_above(self, prec: int, equal_too: bool) -> Pending | Frame | None:
        """Reduce the pending operators that bind tighter than ``prec`` (or as tight,
        if ``equal_too``); return the new top of the stack."""
        while self.stack and isinstance(self.stack[-1], Pending):
            top_prec = _PRECEDENCE[self.stack[-1].symbol]
            if top_prec > prec or (equal_too and top_prec == prec):
                self._reduce()
            else:
                break
        return self.stack[-1] if self.stack else None

    def _reduce(self) -> None:
        top = self.stack.pop()
        if top.symbol in _PREFIXES:
            self._reduce_prefix(top)
        elif top.symbol == "if":
            raise self.error("this 'if' has no 'else': a conditional expression is written "
                             "a if condition else b", top.pos)
        elif top.symbol == "else":
            self._reduce_choice()
        else:
            self._reduce_binary(top)

    def _reduce_prefix(self, top: Pending) -> None:
        a, span = self.pop()
        if top.symbol == "not":
            self.need_condition(span)
            node = self.g("logical_not", a)
        else:
            self.need_number(span)
            node = self.g("neg", a) if top.symbol == "neg" else a
        self.push(node, top.index, span.last, top.symbol == "not")

    def _reduce_choice(self) -> None:
        """``a if c else b``: where(c, a, b)."""
        (b, b_span), (c, c_span), (a, a_span) = self.pop(), self.pop(), self.pop()
        self.need_number(a_span)
        self.need_condition(c_span)
        self.need_number(b_span)
        self.push(self.g("where", c, a, b), a_span.first, b_span.last)

    def _reduce_binary(self, top: Pending) -> None:
        (b, b_span), (a, a_span) = self.pop(), self.pop()
        first = a_span.first
        if top.symbol in _LOGICAL:
            self.need_condition(a_span)
            self.need_condition(b_span)
            node = self.g(_LOGICAL[top.symbol], a, b)
        else:
            self.need_number(a_span)
            self.need_number(b_span)
            if top.symbol in _COMPARISONS:
                node = self.g(_COMPARISONS[top.symbol], a, b)
                if top.chain is not None:
                    node, first = self.g("logical_and", top.chain, node), top.chain_first
            else:
                node = self.g(_ARITHMETIC[top.symbol], a, b)
        self.push(node, first, b_span.last, top.symbol not in _ARITHMETIC)

    def _reduce_to_frame(self) -> Frame | None:
        while self.stack and not isinstance(self.stack[-1], Frame):
            self._reduce()
        return self.stack[-1] if self.stack else None

    # --- numbers and conditions ---
    def need_number(self, span: Span, what: str = "") -> None:
        """Refuse a condition where a number is expected, saying how to make it one."""
        if not span.condition:
            return
        quote = self._quote(span)
        if quote is None:
            message = (f"{what}this is a condition, not a number: for 1 where it holds and 0 "
                       "where not, write where(condition, 1, 0)")
        else:
            message = f"{what}{quote} is a condition, not a number: use where({quote}, 1, 0)"
        raise self.error(message, self.tokens[span.first].pos)

    def need_condition(self, span: Span) -> None:
        """Refuse a number where a condition is expected, saying how to make one."""
        if span.condition:
            return
        quote = self._quote(span)
        if quote is None:
            message = ("this is a number, not a condition: write a comparison, such as "
                       "value > 0 or value != 0")
        else:
            shown = f"({quote})" if self._choice_at_top(span) else quote
            message = (f"{quote} is a number, not a condition: write a comparison, such as "
                       f"{shown} > 0 or {shown} != 0")
        raise self.error(message, self.tokens[span.first].pos)

    def _inside(self, span: Span) -> tuple[int, int]:
        """The operand's tokens without the parentheses that enclose it all."""
        first, last = span.first, span.last
        if self.tokens[first].text == "(" and self.match.get(first) == last:
            return first + 1, last - 1
        return first, last

    def _quote(self, span: Span) -> str | None:
        """The operand's text (without enclosing parentheses), or None if it is long."""
        first, last = self._inside(span)
        if last - first > _LONGEST_QUOTE:
            return None
        text = detokenize(self.tokens[first : last + 1])
        return text if len(text) <= _LONGEST_QUOTE else None

    def _choice_at_top(self, span: Span) -> bool:
        """Whether the operand is a conditional expression not in parentheses."""
        depth, (first, last) = 0, self._inside(span)
        for tok in self.tokens[first : last + 1]:
            if tok.kind == OP and tok.text in ("(", "["):
                depth += 1
            elif tok.kind == OP and tok.text in (")", "]"):
                depth -= 1
            elif depth == 0 and tok.kind == NAME and tok.text == "if":
                return True
        return False

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
            args, spans = self.take(frame.operands_before)
            self.push(self._call(frame, args, spans), frame.first, i)
        else:
            value, span = self.pop()
            self.push(value, frame.first, i, span.condition)
        return i + 1, False

    def _call(self, frame: Frame, args: list[Node], spans: list[Span]) -> Node:
        fn = FUNCTIONS[frame.name]
        if not fn.accepts(len(args)):
            raise self.error(f"{fn.name}() takes {fn.arity_text()}, but {len(args)} "
                             f"{'was' if len(args) == 1 else 'were'} given", frame.pos)
        for k, span in enumerate(spans):
            if k in fn.conditions:
                self.need_condition(span)
            else:
                self.need_number(span)
        return fn.build(self.g, args)

    def _finish_item(self, item_tokens: list[Token]) -> None:
        frame = self._reduce_to_frame()
        if frame is not None:
            raise self.error(f"{bracket_label(frame)} is never closed", frame.open_pos)
        value, span = self.pop()
        if self.allow_tuple:  # the program's outputs are numbers; a step may be a condition
            self.need_number(span, what="the output ")
        self.outputs.append(value)
        self.output_conditions.append(span.condition)
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
    if tok.kind == NAME and tok.text == "is":
        return ep.error("'is' is not supported: compare numbers with == or !=", tok.pos)
    if tok.kind == NAME and tok.text == "in" or (
            tok.kind == NAME and tok.text == "not" and i + 1 < len(toks) and toks[i + 1].text == "in"):
        return ep.error("'in' is not supported here: it is only part of "
                        "'for i in range(n)' in a generator", tok.pos)
    if tok.kind in (NAME, NUM):
        return ep.error(f"missing operator before '{tok.text}'", tok.pos)
    return ep.error(f"unexpected '{tok.text}'", tok.pos)
