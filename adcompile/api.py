"""The public Python API: ``compile`` and ``check``.

Both take the same inputs (expression text or a SymPy expression) and the
same options as the command line, and share one pipeline (``compiler.py``).
"""

from __future__ import annotations

import builtins
import math
from typing import Callable, Sequence

import sympy as sp

from .check import CheckReport, Reference, Row, compare, reference_failed, time_limit
from .compiler import TRACED, Built, Options, build
from .errors import CompileError
from .explain import has_singular_step
from .graph import Graph, evaluate
from .module import CompiledModule
from .parse import Program, parse
from .quantities import call_all, plan
from .sympy_bridge import from_sympy, leaves_double_range, symbol, to_sympy
from .trace import default_name, describe, trace


def _names(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def make_options(name: str | None, args, wrt, backend: str = "math", format: bool | None = None,
                 source_file: str | None = None, hessian: bool = False, jvp: bool = False,
                 hvp: bool = False) -> Options:
    return Options(name=name or "f", args=_names(args), wrt=_names(wrt), backend=backend,
                   format=format, source_file=source_file, hessian=hessian, jvp=jvp, hvp=hvp)


def read_program(expr, graph: Graph, source_file: str | None = None) -> tuple[Program, str]:
    """Any supported input as a Program in ``graph``, plus its text for the header."""
    if isinstance(expr, str):
        return parse(expr, graph, source=source_file), expr
    if isinstance(expr, sp.Basic) or (
        isinstance(expr, (tuple, list)) and builtins.all(isinstance(e, sp.Basic) for e in expr)
    ):
        return from_sympy(expr, graph), str(expr)
    if isinstance(expr, dict):
        return _read_outputs(expr, graph), "; ".join(f"{k}: {v}" for k, v in expr.items())
    if callable(expr):
        return trace(expr, graph), TRACED + describe(expr)
    raise CompileError(f"cannot compile a {type(expr).__name__}: give expression text, "
                       "a SymPy expression or a Python function")


def _read_outputs(exprs: dict, graph: Graph) -> Program:
    """Several named outputs, each expression text, sharing one graph."""
    outputs, names, variables = [], [], {}
    for key, text in exprs.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise CompileError("give several outputs as a dict of name -> expression text")
        program = parse(text, graph)
        if len(program.outputs) != 1:
            raise CompileError(f"output {key!r} must be a single expression")
        outputs.append(program.outputs[0])
        names.append(key)
        variables.update(program.variables)
    return Program(outputs, names, variables=variables)


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
    hessian: bool = False,
    jvp: bool = False,
    hvp: bool = False,
) -> CompiledModule:
    """Compile ``expr`` into a module with ``NAME`` and ``grad_NAME``.

    ``expr`` is expression text (see the README for the language) or a SymPy
    expression.  ``args`` fixes the argument order (default: natural sort of
    the variable names); ``wrt`` picks the variables to differentiate (default:
    all of ``args``).  ``hessian``, ``jvp`` and ``hvp`` add ``hessian_NAME``,
    ``jvp_NAME`` and ``hvp_NAME``.  A dict ``{"r1": text, "r2": text}`` (or a
    program ending in a tuple ``r1, r2``) has several outputs: the module then
    has ``NAME``, ``jacobian_NAME`` and ``vjp_NAME``.  With ``check=True`` the
    result is first compared with SymPy, and ``CompileError`` is raised if
    they disagree.
    """
    if name is None and callable(expr) and not isinstance(expr, sp.Basic):
        name = default_name(expr)
    options = make_options(name, args, wrt, backend, format, hessian=hessian, jvp=jvp, hvp=hvp)
    module = CompiledModule(build_module(expr, options))
    if check:
        report = check_module(expr, module)
        if not report.ok:
            raise CompileError("the generated code disagrees with SymPy:\n" + str(report))
    return module


def gradient(fn: Callable) -> Callable:
    """Decorator: compile the Python function ``fn`` and return its ``grad_`` function.

    The result takes ``fn``'s arguments and returns ``(value, gradient)``; its
    ``.module`` attribute is the whole compiled module.
    """
    module = compile(fn)
    grad = getattr(module, "grad_" + module.name)
    grad.module = module
    grad.__wrapped__ = fn
    return grad


def check(
    expr,
    *,
    args: str | Sequence[str] | None = None,
    wrt: str | Sequence[str] | None = None,
    points: int = 20,
    seed: int = 0,
    hessian: bool = False,
    jvp: bool = False,
    hvp: bool = False,
    backend: str = "math",
    timeout: float | None = 120.0,
) -> CheckReport:
    """Compile ``expr`` and compare every function it gets with SymPy: the value and
    gradient, and the Hessian, products or Jacobian when asked for (or, for
    several outputs, always the Jacobian and vjp).

    SymPy gets ``timeout`` seconds to differentiate (its derivatives swell on
    some expressions); past that the report fails and says so.

    Returns a ``CheckReport``: ``report.ok``, the worst absolute and relative
    error per quantity, and where they occur.  ``str(report)`` is the
    printable report.
    """
    options = make_options(None, args, wrt, backend, hessian=hessian, jvp=jvp, hvp=hvp)
    module = CompiledModule(build_module(expr, options))
    return check_module(expr, module, points=points, seed=seed, timeout=timeout)


def _overflows(program: Program, point: dict[str, float]) -> bool:
    """Whether a step overflows a double at ``point``.  With every variable nan, only
    a constant step can (``pow(2 + sin(1e5), 1e15)``), and SymPy can exhaust memory
    on such a step; elsewhere mpmath can (``sin`` of SymPy's exact 10**(10**46000))."""
    try:
        evaluate(program.outputs, point)
    except OverflowError:
        return True
    except (ArithmeticError, ValueError, TypeError, KeyError):
        pass
    return False


def check_module(expr, module: CompiledModule, points: int = 20, seed: int = 0,
                 timeout: float | None = 120.0) -> CheckReport:
    """Compare an already compiled module with SymPy's reading of ``expr``:
    every function it has (value, gradient, Hessian, Jacobian, products)."""
    built = module._built
    iface, options = built.interface, built.options
    flags = {"hessian": options.hessian, "jvp": options.jvp, "hvp": options.hvp}
    raw = Graph(fold=False, algebra=False)
    program, text = read_program(expr, raw, options.source_file)
    several = len(program.outputs) > 1
    if _overflows(program, {name: math.nan for name in program.variables}):
        return CheckReport(text, [Row("value")], 0, 0, seed, problems=[
            "a step with no variables in it exceeds a double's range, so the generated code "
            "overflows at every point; nothing to compare (SymPy was not asked)"])
    try:
        with time_limit(timeout):
            exprs = to_sympy(program.outputs)
            quantities, vectors = plan(exprs, [symbol(w) for w in iface.wrt], iface.wrt, flags, seed)
            reference = Reference(quantities.exprs, [symbol(a) for a in iface.args])
    except Exception as exc:  # SymPy's own failures (RecursionError, its internal bugs) and the time limit
        return reference_failed(text, ["value"], seed, exc)

    def ours(point: list[float]) -> list[float]:
        results = call_all(module, module.name, point, vectors, several, flags)
        return [read(results) for read in quantities.readers]

    def excuse(point: dict[str, float]) -> str | None:
        if leaves_double_range(program.outputs, point):
            return "range"
        return "singular" if has_singular_step(program.outputs, point) else None

    return compare(text, reference, ours, iface.args, quantities.labels, points=points, seed=seed,
                   excuse=excuse, overflows=lambda point: _overflows(program, point))
