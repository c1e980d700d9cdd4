"""Any input as a ``Program``: expression text, a dict of named outputs, a SymPy
expression (or a tuple of them), or a Python function to trace.

``read_program`` is the one place that decides which front end reads an input;
``new_graph`` makes the graph it is read into (a tracing graph for a function,
whose nodes answer NumPy's calls).
"""

from __future__ import annotations

import builtins
import sys

from adcompile.errors import CompileError
from adcompile.frontend.program import Program
from adcompile.frontend.text import parse
from adcompile.frontend.trace import describe, trace, tracing_graph
from adcompile.ir.graph import Graph

TRACED = "the Python function "  # how the text of a traced input begins


def read_program(expr, graph: Graph, source_file: str | None = None,
                 shapes: dict | None = None) -> tuple[Program, str]:
    """Any supported input as a Program in ``graph``, plus its text for the header.
    ``shapes`` declares array arguments' static shapes (``{"x": (3,)}``)."""
    if isinstance(expr, str):
        return parse(expr, graph, source=source_file, shapes=shapes), expr
    if is_sympy(expr) or (
        isinstance(expr, (tuple, list)) and builtins.all(is_sympy(e) for e in expr)
    ):
        from adcompile.frontend.sympy_in import from_sympy

        if shapes:
            raise CompileError("shapes are for expression text and Python functions; a SymPy "
                               "expression's arguments are scalars")
        return from_sympy(expr, graph), str(expr)
    if isinstance(expr, dict):
        return (_read_outputs(expr, graph, shapes),
                "; ".join(f"{k}: {v}" for k, v in expr.items()))
    if callable(expr):
        return trace(expr, graph, shapes=shapes), TRACED + describe(expr)
    raise CompileError(f"cannot compile a {type(expr).__name__}: give expression text, "
                       "a SymPy expression or a Python function")


def is_sympy(expr) -> bool:
    """Whether ``expr`` is a SymPy expression, without importing SymPy: nothing can be
    one unless SymPy has been imported."""
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(expr, sympy.Basic)


def new_graph(expr, **flags) -> Graph:
    """An empty ``Graph(**flags)`` to read ``expr`` into; for a Python function, one that traces."""
    is_function = callable(expr) and not is_sympy(expr)  # as read_program decides
    return tracing_graph(**flags) if is_function else Graph(**flags)


def _read_outputs(exprs: dict, graph: Graph, shapes: dict | None) -> Program:
    """Several named outputs, each expression text, sharing one graph."""
    outputs, names, variables, steps, arrays = [], [], {}, {}, {}
    for key, text in exprs.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise CompileError("give several outputs as a dict of name -> expression text")
        program = parse(text, graph, shapes=shapes)
        if len(program.outputs) != 1:
            raise CompileError(f"output {key!r} must be a single expression")
        outputs.append(program.outputs[0])
        names.append(key)
        variables.update(program.variables)
        for array, shape in program.shapes.items():
            if arrays.setdefault(array, shape) != shape:
                raise CompileError(f"output {key!r} uses {array} with shape {shape}, another "
                                   f"output with shape {arrays[array]}: declare it with shapes=")
        for step, node in program.steps.items():  # their names name the generated code's lines
            steps.setdefault(step, node)
    return Program(outputs, names, steps, variables, shapes=arrays)
