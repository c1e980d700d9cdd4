"""The public Python API: ``compile``, ``check`` and ``gradient``.

They take the same inputs (expression text, a SymPy expression or a Python
function) and the same options as the command line, and share one pipeline
(``pipeline.py``).  The check itself is ``adcompile.verify``; ``check_module``
is the glue that reads the input again for it and names what to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from adcompile.interface import Options, normalize_layouts, normalize_shapes
from adcompile.pipeline import Built, build, check_function_name
from adcompile.errors import CompileError
from adcompile.compiled_module import CompiledModule, built_of
from adcompile.frontend.reader import is_sympy, new_graph, read_program
from adcompile.frontend.trace import default_name, describe

if TYPE_CHECKING:  # the check imports SymPy: only a check loads it
    from adcompile.verify import CheckReport


def _names(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def make_options(name: str | None, args, wrt, backend: str = "math", format: bool | None = None,
                 source_file: str | None = None, hessian: bool = False, jvp: bool = False,
                 hvp: bool = False, cli: bool = False, shapes: dict | None = None,
                 jacobian: str = "dense", one_step_per_line: bool = False) -> Options:
    """The options of one call; ``cli`` says messages should name the --flags."""
    options = Options(name=name or "f", args=_names(args), wrt=_names(wrt), backend=backend,
                      format=format, source_file=source_file, hessian=hessian, jvp=jvp, hvp=hvp,
                      cli=cli, one_step_per_line=bool(one_step_per_line))
    options.shapes = normalize_shapes(shapes, options)
    options.hessian, options.jacobian = normalize_layouts(hessian, jacobian, options)
    return options


def build_module(expr, options: Options, progress: Callable | None = None) -> Built:
    graph = new_graph(expr)
    program, text = read_program(expr, graph, options.source_file, options.shapes)
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
    hessian: bool | str = False,
    jvp: bool = False,
    hvp: bool = False,
    shapes: dict | None = None,
    jacobian: str = "dense",
    one_step_per_line: bool = False,
) -> CompiledModule:
    """Compile ``expr`` into a module with ``NAME`` and ``grad_NAME``.

    ``expr`` is expression text (see the README for the language), a SymPy
    expression, or a Python function, which is traced: called once with a
    graph node for each parameter (positional ones, and keyword-only ones
    without a default; a keyword-only default or a ``functools.partial``
    keyword is a constant).  ``name`` defaults to ``f``, or to the function's
    own name where that is a usable one (``_loss`` is).  ``args`` fixes the
    argument order (default: a function's signature, else natural sort of the
    variable names); ``wrt`` picks the variables to differentiate (default:
    all of ``args``).  ``hessian``, ``jvp`` and ``hvp`` add ``hessian_NAME``,
    ``jvp_NAME`` and ``hvp_NAME``.  A dict ``{"r1": text, "r2": text}`` (or a
    program ending in a tuple ``r1, r2``) has several outputs: the module then
    has ``NAME``, ``jacobian_NAME`` and ``vjp_NAME``.  ``backend`` is ``"math"``
    (scalars, Python's ``math``) or ``"numpy"`` (arrays, elementwise, with ``sum``
    and ``mean``); ``format=True`` runs black on the module (by default it
    does not run: the printer already writes black's layout).  With
    ``check=True`` the result is first compared with SymPy, and
    ``CompileError`` is raised if they disagree or the check is inconclusive.
    ``one_step_per_line=True`` writes every operation on a line of its own, as
    the seed's passes (by default a step used once is written inside the step
    that uses it, and a value returned and used nowhere else in the return).
    """
    if name is None and callable(expr) and not is_sympy(expr):
        name = _function_name(expr)
    options = make_options(name, args, wrt, backend, format, hessian=hessian, jvp=jvp, hvp=hvp,
                           shapes=shapes, jacobian=jacobian, one_step_per_line=one_step_per_line)
    module = CompiledModule(build_module(expr, options))
    if check:
        report = check_module(expr, module)
        if report.inconclusive:
            raise CompileError("the check against SymPy was inconclusive, so no module is "
                               "returned:\n" + str(report))
        if not report.ok:
            raise CompileError("the generated code disagrees with SymPy:\n" + str(report))
    return module


def _function_name(fn: Callable) -> str:
    """A traced function's own name, or ``f`` where the module cannot use it (``np``)."""
    name = default_name(fn)
    try:
        return check_function_name(name)
    except CompileError:
        return "f"


def gradient(fn: Callable | None = None, *, name: str | None = None,
             shapes: dict | None = None, wrt: str | Sequence[str] | None = None,
             backend: str = "math") -> Callable:
    """Decorator: compile the Python function ``fn`` and return its ``grad_`` function.

    Use it as ``@adcompile.gradient`` or ``@adcompile.gradient(name="g")``; the
    name (default: the function's own) names the module's functions, and
    ``shapes``, ``wrt`` and ``backend`` are ``compile``'s.  The result takes
    ``fn``'s arguments and returns ``(value, gradient)``; its ``.module``
    attribute is the whole compiled module.
    """
    if fn is None:
        return lambda function: gradient(function, name=name, shapes=shapes, wrt=wrt, backend=backend)
    module = compile(fn, name=name, shapes=shapes, wrt=wrt, backend=backend)
    if hasattr(module, "OUTPUTS"):
        raise CompileError(f"{describe(fn)} returns {len(module.OUTPUTS)} values, so it has a "
                           "Jacobian, not a gradient: use adcompile.compile(fn) and its "
                           "jacobian_ and vjp_ functions")
    grad = getattr(module, "grad_" + check_function_name(module.name))
    grad.module = module
    grad.traced = fn  # not __wrapped__: inspect.getsource(grad) shows the generated code
    return grad


def check(
    expr,
    *,
    args: str | Sequence[str] | None = None,
    wrt: str | Sequence[str] | None = None,
    points: int = 20,
    seed: int = 0,
    hessian: bool | str = False,
    jvp: bool = False,
    hvp: bool = False,
    backend: str = "math",
    timeout: float | None = 120.0,
    shapes: dict | None = None,
    jacobian: str = "dense",
) -> CheckReport:
    """Compile ``expr`` and compare every function it gets with SymPy: the value and
    gradient, and the Hessian, products or Jacobian when asked for (or, for
    several outputs, always the Jacobian and vjp).

    SymPy gets ``timeout`` seconds (None or ``math.inf``: no limit) to build its
    reference (its derivatives swell on some expressions).  Where it cannot
    build one, past the time limit or because the expression is nested too
    deeply even for the deep stack it runs with, the check is inconclusive:
    nothing is compared, ``report.inconclusive`` is true and ``report.ok``
    false, and the report says why.

    Returns a ``CheckReport``: ``report.ok`` (it agrees), ``report.status``
    (``"agrees"``, ``"disagrees"`` or ``"inconclusive"``), the worst absolute
    and relative error per quantity, and where they occur.  ``str(report)`` is
    the printable report.  ``points`` must be at least 1 and ``timeout``
    greater than 0 (else ``CompileError``, a ``ValueError``).
    """
    from adcompile.verify import check_options

    check_options(points, seed, timeout)
    options = make_options(None, args, wrt, backend, hessian=hessian, jvp=jvp, hvp=hvp,
                           shapes=shapes, jacobian=jacobian)
    module = CompiledModule(build_module(expr, options))
    return check_module(expr, module, points=points, seed=seed, timeout=timeout)


def check_module(expr, module: CompiledModule, points: int = 20, seed: int = 0,
                 timeout: float | None = 120.0) -> CheckReport:
    """Compare an already compiled module with SymPy's reading of ``expr``:
    every function it has (value, gradient, Hessian, Jacobian, products).
    ``expr`` is read again with nothing folded or rewritten for the reference;
    ``check_program`` checks the options."""
    from adcompile.verify import Subject, check_program

    built = built_of(module)
    iface, options = built.interface, built.options
    raw = new_graph(expr, fold=False, algebra=False)
    program, text = read_program(expr, raw, options.source_file, options.shapes)
    subject = Subject(module, module.name, iface.args, iface.wrt,
                      hessian=bool(options.hessian), jvp=options.jvp, hvp=options.hvp,
                      shapes=iface.shapes, sparse_hessian=options.hessian == "sparse",
                      sparse_jacobian=options.jacobian == "sparse")
    report = check_program(program, text, subject, points=points, seed=seed, timeout=timeout)
    report.backend = options.backend
    return report
