"""Generators: ``sum(BODY for i in range(..) ...)`` and ``[BODY for i in range(..) ...]``.

A generator is unrolled while it is read, without recursion: its frame
(``GeneratorFrame``) records where the body starts and ends, and the token
pointer jumps back to the body once per binding of the loop names, like an
odometer over the loops (the last loop turns fastest).  A loop's ``range``
bounds are read as ordinary expressions each time its loop is entered, so
they may use the outer loops' names; they must be whole numbers known when
compiling.  A sum adds the body's values left to right; a list collects them
as a vector step's elements.
"""

from __future__ import annotations

from adcompile.frontend.frames import MISPLACED_FOR, Frame, GeneratorFrame, Loop
from adcompile.frontend.lexer import NAME, OP, Token


class GeneratorSyntax:
    """A mixin of ``ExpressionParser``: reading and unrolling generators.

    It uses the host's token list, operand stack (``push``, ``pop``, ``take``, which keep
    each operand's tokens for messages, and ``need_number``), operator stack, bracket table
    (``match``, ``first_for``) and program parser ``p`` (which binds the loop
    names); each method returns the next token's index and whether an operand
    is expected there, as the host's loop does.
    """

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
        gen = GeneratorFrame("gen", tok.pos, "[" if collect else tok.text, len(self.operands),
                         toks[opener].pos, first=opener if collect else opener - 1, collect=collect, body_start=opener + 1,
                         body_end=body_end, close=close, loops=loops,
                         ranges=[range(0)] * len(loops), at=[0] * len(loops),
                         saved={lp.name.text: self.p.bindings.get(lp.name.text) for lp in loops})
        self.stack.append(gen)
        return self._enter_loop(gen, 0)

    def _header(self, k: int, close: int) -> list[Loop]:
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
            loops.append(Loop(name, rng, k + 4))
            k = end + 1
        return loops

    def _enter_loop(self, gen: GeneratorFrame, level: int) -> tuple[int, bool]:
        """Read the range of loop ``level`` (its bounds may use the outer loops' names)."""
        for loop in gen.loops[level:]:
            self.p.bind(loop.name.text, gen.saved[loop.name.text])
        loop = gen.loops[level]
        frame = Frame("range", loop.range_name.pos, "range", len(self.operands),
                       self.tokens[loop.range_open].pos,
                       starts=[self._start_of(loop.range_open + 1)], level=level)
        self.stack.append(frame)
        return loop.range_open + 1, True

    def _range_read(self, frame: Frame) -> tuple[int, bool]:
        args, spans = self.take(frame.operands_before)
        for span in spans:
            self.need_number(span)
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

    def _descend(self, gen: GeneratorFrame, level: int) -> tuple[int, bool]:
        """Bind loop ``level`` to its current value, then go to the next loop or the body."""
        self.p.bind(gen.loops[level].name.text, gen.ranges[level][gen.at[level]])
        if level + 1 < len(gen.loops):
            return self._enter_loop(gen, level + 1)
        return gen.body_start, True

    def _advance(self, gen: GeneratorFrame, level: int) -> tuple[int, bool]:
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
            self.push_vector(gen.items, gen.item_spans, gen.first, gen.close)
        else:
            self.push(gen.total if gen.total is not None else self.g.const(0.0), gen.first, gen.close)
        return gen.close + 1, False

    def _end_of_body(self, tok: Token, i: int) -> tuple[int, bool]:
        frame = self._reduce_to_frame()
        if not isinstance(frame, GeneratorFrame) or frame.body_end != i:
            raise self.error(MISPLACED_FOR, tok.pos)
        value, span = self.pop()
        if not frame.collect:  # a sum adds numbers; a vector step may hold conditions
            self.need_number(span)
        if frame.collect:
            frame.items.append(value)
            frame.item_spans.append(span)
        else:
            frame.total = value if frame.total is None else self.g("add", frame.total, value)
        return self._advance(frame, len(frame.loops) - 1)

