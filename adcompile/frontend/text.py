"""Text -> graph, with an iterative parser that never evaluates its input.

The language is Python's arithmetic: numbers, names, ``pi``, ``+ - * / **``
(``^`` means ``**``), unary ``-``/``+``, parentheses and calls of the functions
in ``language.py``, with Python's precedence (``-x**2`` is ``-(x**2)``, ``**``
is right-associative), and conditions: comparisons (chained as in Python),
``and``, ``or``, ``not``, that choose in ``where(c, a, b)`` and ``a if c else b``
(the table is in ``expression.py``).  A *program* is a sequence of statements ``name =
expr`` separated by newlines or ``;``, ending in an expression (or a tuple of
expressions: several outputs).  ``#`` starts a comment.  Arrays are indexed
(``x[i]``), and generators over ``range`` (``sum(x[i] for i in range(3))``,
``h = [... for j in range(n)]``) are unrolled while they are read.

Parsing is a shunting-yard over an explicit operator stack, so a sum of 10^5
terms or a 10^4-deep nest of calls needs no recursion (Python's own
``ast.parse`` fails on both).  Nodes are built as soon as an operator is
reduced, so the parser's only output is the graph itself.

Anything that is not in the language (attributes, strings, lambdas, ``is``,
``in``, keyword arguments, unknown functions, wrong arity, a condition where a
number is expected or the reverse) raises
``ParseError`` with the position of the offending character.

The pieces, in the order text flows through them: ``lexer.py`` (tokens),
``statements.py`` (statements and joined lines), ``expression.py`` (one
statement's operators, with ``indexing.py`` and ``generators.py`` for the
vector syntax, over the stack records of ``frames.py``), ``arrays.py`` (what
an index refers to) and this module, which resolves names and assignments;
``joined_lines.py`` re-words an error on a joined line.
"""

from __future__ import annotations

from adcompile.errors import ParseError, line_and_column
from adcompile.frontend.arrays import ArrayNames
from adcompile.frontend.expression import ExpressionParser
from adcompile.frontend.frames import Vector
from adcompile.frontend.joined_lines import blame_join, no_output_error
from adcompile.frontend.language import CONSTANTS
from adcompile.frontend.lexer import Lexer, Token
from adcompile.frontend.program import Program, Shape
from adcompile.frontend.statements import Statement, is_assignment, one_line_program, split_statements
from adcompile.ir.graph import Graph, Node

__all__ = ["Parser", "parse", "one_line_program", "ParseError"]


class Parser(ArrayNames):
    """Parses a whole program into one graph, statement by statement.

    A name assigned anywhere in the program is a step; using it before (or in)
    its own assignment is an error, never a silent new variable.

    An argument indexed anywhere (``x[0]``), or declared in ``shapes``, is an
    array: its elements are the variables ``x[0]``, ... (``element_name``), and
    the name alone is not a value.  An undeclared array's length along each axis
    is one more than the largest index used.  A vector step (``h = [...]``)
    records its elements as the steps ``h_0``, ``h_1``, ...  (Arrays, vector
    steps and loop names are ``ArrayNames``, in arrays.py.)
    """

    def __init__(self, text: str, graph: Graph, source: str | None = None,
                 shapes: dict[str, Shape] | None = None):
        self.text = text
        self.graph = graph
        self.lexer = Lexer(text, source)
        ArrayNames.__init__(self, shapes)
        self.steps: dict[str, Node] = {}
        self.step_pos: dict[str, int] = {}
        self.variables: dict[str, Node] = {}
        self.assigned_at: dict[str, int] = {}  # every assigned name -> its first assignment
        self.target: Token | None = None  # the name being assigned by the current statement
        # Where an assignment failed on what only an output may hold (its own
        # name, a top-level comma): the sign of an output joined to it by mistake.
        self.output_like_at: set[int] = set()
        self.condition_steps: set[str] = set()  # steps (and vector steps) assigned a condition

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

    def parse(self) -> Program:
        statements = split_statements(self.lexer.tokens())
        if not statements:
            raise self.lexer.error("the input is empty: write an expression", len(self.text))
        for stmt in statements:
            if is_assignment(stmt.tokens):
                self.assigned_at.setdefault(stmt.tokens[0].text, stmt.tokens[0].pos)
        self.find_arrays(statements)
        outputs, names = [], []
        for k, stmt in enumerate(statements):
            try:
                outputs, names = self._statement(stmt, last=k == len(statements) - 1)
            except ParseError as err:
                blamed = blame_join(self.lexer, stmt, err, k == len(statements) - 1,
                                    self.output_like_at)
                if blamed is err:
                    raise
                raise blamed from None
        return Program(outputs, names, dict(self.steps), dict(self.variables),
                       shapes=self.shapes(), vector_steps=tuple(self.vectors))

    def _statement(self, stmt: Statement, last: bool) -> tuple[list[Node], list[str | None]]:
        tokens = stmt.tokens
        if is_assignment(tokens):
            self._assign(tokens[0], tokens[2:], tokens[1])
            if last:
                raise no_output_error(self.lexer, stmt)
            return [], []
        if not last:
            raise self.lexer.error(
                "only the last statement may be a bare expression; "
                "name this one (name = ...) or remove it", tokens[0].pos)
        return ExpressionParser(self, tokens, allow_tuple=True).parse()

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
        expression = ExpressionParser(self, tokens, allow_tuple=False, allow_vector=True)
        (node,), _ = expression.parse()
        self.target = None
        self.step_pos[name] = target.pos
        if expression.output_conditions[0]:
            self.condition_steps.add(name)
        if isinstance(node, Vector):
            labels = self.vector_step(name, node.items)
            if node.condition:  # its elements' own names are conditions too
                self.condition_steps.update(labels)
        else:
            self.steps[name] = node


def parse(text: str, graph: Graph | None = None, source: str | None = None,
          shapes: dict[str, Shape] | None = None) -> Program:
    """Parse an expression or program into ``graph`` (a fresh one by default).

    ``shapes`` declares array arguments (``{"x": (3,)}``); an undeclared name
    indexed with constants is an array whose length covers the indices used.
    """
    graph = graph if graph is not None else Graph()
    return Parser(text, graph, source, shapes).parse()
