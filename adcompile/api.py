"""The public Python API: ``compile`` and ``check``.

Both take the same inputs (expression text or a SymPy expression) and the
same options as the command line, and share one pipeline (``compiler.py``).
"""

from __future__ import annotations

import builtins
from typing import Callable, Sequence

import sympy as sp

from .check import CheckReport, Reference, compare, reference_failed
from .compiler import Built, Options, build
from .errors import CompileError
from .graph import Graph
from .module import CompiledModule
from .parse import Program, parse
from .sympy_bridge import from_sympy, symbol, to_sympy


def _names(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def make_options(name: str | None, args, wrt, backend: str = "math", format: bool | None = None,
                 source_file: str | None = None) -> Options:
    return Options(name=name or "f", args=_names(args), wrt=_names(wrt), backend=backend,
                   format=format, source_file=source_file)


def read_program(expr, graph: Graph, source_file: str | None = None) -> tuple[Program, str]:
    """Any supported input as a Program in ``graph``, plus its text for the header."""
    if isinstance(expr, str):
        return parse(expr, graph, source=source_file), expr
    if isinstance(expr, sp.Basic) or (
        isinstance(expr, (tuple, list)) and builtins.all(isinstance(e, sp.Basic) for e in expr)
    ):
        return from_sympy(expr, graph), str(expr)
    raise CompileError(f"cannot compile a {type(expr).__name__}: give expression text or a SymPy expression")


def build_module(expr, options: Options, progress: Callable | None = None) -> Built:
    graph = Graph()
    program, text = read_program(expr, graph, options.source_file)
    return build(program, graph, text, options, progress)


def compile(
    expr,
    name: str | None = None,
    *,
    args: str | Sequence[str] | None = None,
    wrt: str | Sequence[str] | None = None,
    backend: str = "math",
    format: bool | None = None,
    check: bool = False,
) -> CompiledModule:
    """Compile ``expr`` into a module with ``NAME`` and ``grad_NAME``.

    ``expr`` is expression text (see the README for the language) or a SymPy
    expression.  ``args`` fixes the argument order (default: natural sort of
    the variable names); ``wrt`` picks the variables to differentiate (default:
    all of ``args``).  With ``check=True`` the result is first compared with
    SymPy, and ``CompileError`` is raised if they disagree.
    """
    options = make_options(name, args, wrt, backend, format)
    module = CompiledModule(build_module(expr, options))
    if check:
        report = check_module(expr, module)
        if not report.ok:
            raise CompileError("the generated code disagrees with SymPy:\n" + str(report))
    return module


def check(
    expr,
    *,
    args: str | Sequence[str] | None = None,
    wrt: str | Sequence[str] | None = None,
    points: int = 20,
    seed: int = 0,
) -> CheckReport:
    """Compile ``expr`` and compare its value and gradient with SymPy's.

    Returns a ``CheckReport``: ``report.ok``, the worst absolute and relative
    error per quantity, and where they occur.  ``str(report)`` is the
    printable report.
    """
    options = make_options(None, args, wrt)
    module = CompiledModule(build_module(expr, options))
    return check_module(expr, module, points=points, seed=seed)


def check_module(expr, module: CompiledModule, points: int = 20, seed: int = 0) -> CheckReport:
    """Compare an already compiled module with SymPy's reading of ``expr``."""
    iface = module._built.interface
    raw = Graph(fold=False, algebra=False)
    program, text = read_program(expr, raw, module._built.options.source_file)
    try:
        reference = Reference(
            to_sympy(program.outputs)[0],
            [symbol(a) for a in iface.args],
            [symbol(w) for w in iface.wrt],
        )
    except (RecursionError, ArithmeticError, ValueError, TypeError) as exc:
        return reference_failed(text, iface.wrt, seed, exc)
    f = getattr(module, module.name)
    grad_f = getattr(module, "grad_" + module.name)

    def ours(point: list[float]) -> list[float]:
        value, gradient = grad_f(*point)
        if f(*point) != value and value == value:
            raise ValueError(f"{module.name} and grad_{module.name} disagree on the value")
        return [value, *gradient]

    labels = ["value"] + [f"d/d{w}" for w in iface.wrt]
    return compare(text, reference, ours, iface.args, labels, points=points, seed=seed)
