"""Errors on a joined line, blamed on what joined it.

A newline inside brackets or after a trailing operator does not end a
statement (``statements.py``), so a forgotten ``)`` or a stray ``+`` at the
end of a line makes the parser read the next line as part of this statement,
and the error it then finds is on the innocent next line.  ``blame_join``
turns such an error into one about the bracket or operator that did the
joining, when that is the real mistake.
"""

from __future__ import annotations

from adcompile.errors import ParseError, line_and_column
from adcompile.frontend.lexer import OP, Lexer, Token
from adcompile.frontend.statements import Join, Statement, is_assignment


def no_output_error(lexer: Lexer, stmt: Statement) -> ParseError:
    """The error for a program whose last statement is an assignment."""
    target = stmt.tokens[0]
    hint = ""
    operator = joining_operator(stmt.joins)
    if operator is not None:
        line, _ = line_and_column(lexer.text, operator.pos)
        hint = f"; the '{operator.text}' at the end of line {line} joins the next line to this statement"
    return lexer.error(
        f"the program must end with an expression, its output (for example: {target.text}){hint}",
        target.pos)


def joining_operator(joins: list[Join]) -> Token | None:
    """The first trailing operator that joined a line to the statement, if any."""
    for join in joins:
        if join.before.kind == OP and join.before.text not in ("(", ",", ")", "[", "]"):
            return join.before
    return None


def blame_join(lexer: Lexer, stmt: Statement, err: ParseError, last: bool,
               output_like_at: set[int]) -> ParseError:
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
        return lexer.error(f"{never_closed[-1].label} is never closed", never_closed[-1].pos)
    before = join.before
    starts_statement = (is_assignment(stmt.tokens, join.first)
                        and before.text not in ("(", ",", "["))
    if starts_statement and before.kind == OP and before.text != ")":
        return lexer.error(
            f"nothing follows '{before.text}': the next line starts a new statement", before.pos)
    if starts_statement and join.innermost is not None:
        return lexer.error(
            f"{join.innermost.label} is not closed before the next statement starts",
            join.innermost.pos)
    if (last and err.pos in output_like_at and is_assignment(stmt.tokens)
            and joining_operator(joins) is not None):
        return no_output_error(lexer, stmt)
    return err
