"""Indexing, ``len`` and lists in an expression: ``x[i]``, ``x[i, j]``,
``x[i][j]``, ``len(x)`` and a vector step's ``[a, b, c]``.

An index must be a whole number known when compiling (numbers, ``len(...)``
and the names of enclosing generator loops), so ``x[i]`` is read as one
element: a variable ``x[2]`` of an array argument, or a vector step's node.
``x[0]`` and ``x[i]`` with a bound loop name take a shortcut that builds no
node for the index.  The names themselves (bounds, shapes, elements) are the
``Parser``'s business (``arrays.py``); this module only reads the syntax.
"""

from __future__ import annotations

from adcompile.frontend.frames import MISPLACED_FOR, Frame, Subscript, bracket_label
from adcompile.frontend.lexer import NAME, NUM, OP, Token


class IndexingSyntax:
    """A mixin of ``ExpressionParser``: the brackets that index and make lists.

    It uses the host's token list, operand stack (``push``, ``pop``, ``take``, which keep
    each operand's tokens for messages, and ``need_number``), operator stack, bracket table
    (``match``, ``first_for``) and program parser ``p``; each method returns
    the next token's index and whether an operand is expected there, as the
    host's loop does.
    """

    def _index(self, tok: Token, i: int) -> tuple[int, bool]:
        """``NAME[...]``; a single number or loop name as the index takes a shortcut."""
        toks = self.tokens
        if i + 1 in self.first_for:
            raise self.error(MISPLACED_FOR, toks[self.first_for[i + 1]].pos)
        simple = (i + 3 < len(toks) and toks[i + 3].text == "]" and toks[i + 3].kind == OP
                  and (i + 4 == len(toks) or toks[i + 4].text != "["))
        inner = toks[i + 2] if simple else None
        if inner is not None and inner.kind == NAME and inner.text in self.p.bindings:
            k = self.p.bindings[inner.text]
        elif inner is not None and inner.kind == NUM and inner.text.isdigit():
            k = int(inner.text)
        else:
            return self._open_index(Subscript(tok), i + 1, i)
        self.p.check_indexable(tok)
        self.push(self.p.element(Subscript(tok, (k,)), inner.pos), i, i + 3,
                  tok.text in self.p.condition_steps)
        return i + 4, False

    def _open_index(self, ref: Subscript, bracket: int, first: int) -> tuple[int, bool]:
        """Read ``[...]`` after ``ref``; ``bracket`` is the index of the '[', ``first``
        that of the array's name."""
        open_tok = self.tokens[bracket]
        if not ref.index:
            self.p.check_indexable(ref.name)
        frame = Frame("index", ref.name.pos, ref.name.text, len(self.operands), open_tok.pos,
                       starts=[self._start_of(bracket + 1)], ref=ref, first=first)
        self.stack.append(frame)
        return bracket + 1, True

    def _close_bracket(self, tok: Token, i: int) -> tuple[int, bool]:
        frame = self._reduce_to_frame()
        if frame is None:
            raise self.error("unmatched ']'", tok.pos)
        if frame.kind not in ("index", "list"):
            raise self.error(f"{bracket_label(frame)} is never closed", frame.open_pos)
        self.stack.pop()
        items, spans = self.take(frame.operands_before)
        if frame.kind == "list":  # a vector step's elements may be numbers or conditions
            self.push_vector(items, spans, frame.first, i)
            return i + 1, False
        for span in spans:
            self.need_number(span)
        indices = tuple(self.p.static_int(node, start, "an index")
                        for node, start in zip(items, frame.starts))
        ref = Subscript(frame.ref.name, frame.ref.index + indices)
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if nxt is not None and nxt.kind == OP and nxt.text == "[":
            return self._open_index(ref, i + 1, frame.first)
        self.push(self.p.element(ref, frame.starts[0]), frame.first, i,
                  ref.name.text in self.p.condition_steps)
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
        self.push(self.g.const(float(self.p.length(inner))), i, i + 3)
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
        self.stack.append(Frame("list", tok.pos, "[", len(self.operands), tok.pos, first=i))
        return i + 1, True
