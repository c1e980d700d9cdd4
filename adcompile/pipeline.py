"""The pipeline: input -> graph -> derivatives -> module source.

``build`` is the one place that strings the stages together, for every kind
of input (expression text, a SymPy expression) and every set of requested
functions; the CLI and the Python API are both thin shells over it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from typing import Callable

from adcompile.codegen.backends import MODULE_NAMES as BACKEND_MODULES, get_backend
from adcompile.codegen.printer import ArrayParam, ModuleSpec, generate
from adcompile.errors import CompileError, visible
from adcompile.ad.derivatives import Request, build_functions
from adcompile.ir.graph import APPLY, Graph, Node, reachable
from adcompile.ir.safe_branches import safe_branches
from adcompile.codegen.names import NameAllocator, is_reserved_word, python_name
from adcompile.frontend.reader import TRACED
from adcompile.frontend.program import Program, element_indices
from adcompile.frontend.text import one_line_program, parse
from adcompile.interface import (
    Interface,
    Options,
    check_identifier,
    element_nodes,
    element_python_name,
    resolve_interface,
)
from adcompile.version import __version__

HEADER_EXPRESSION_LIMIT = 2000  # longer expressions are not repeated in the header
STDIN = "<stdin>"  # the source name of standard input


@dataclass
class Built:
    """A compiled module: its text (without the header's ``-o``) and metadata."""

    body: str
    interface: Interface
    options: Options
    expression: str
    line_count: int = 0
    formatted: bool = False  # black ran on the body (format=True)
    stats: dict = field(default_factory=dict)

    def header(self, output: str | None = None) -> list[str]:
        return header_lines(self.expression, self.options, output)

    def source(self, output: str | None = None) -> str:
        return "\n".join("# " + h if h else "#" for h in self.header(output)) + "\n" + self.body


# module-level names a generated function must not take (nor a dunder, __name__ ...):
# the module's constants and the modules its helpers refer to by name
MODULE_NAMES = BACKEND_MODULES + ("ARGS", "WRT", "SHAPES", "OUTPUTS", "HESSIAN_NONZERO",
                                  "JACOBIAN_NONZERO", "HESSIAN_ROWS", "HESSIAN_COLS",
                                  "JACOBIAN_ROWS", "JACOBIAN_COLS")


def check_function_name(name: str, options: Options | None = None) -> str:
    """The function name as generated code spells it, or a ``CompileError``.

    Private names (``_loss``) are fine: the function names are reserved before
    the helpers (``_relu``, ``_sum_to``, ...) are named, so a helper gives way.
    """
    options = options or Options()
    shown = options.spelled("name", name)
    normal = check_identifier(name, "name", options)
    if is_reserved_word(normal) or python_name(normal) != normal:
        raise CompileError(f"{shown} is a Python keyword; choose another name")
    if normal in MODULE_NAMES or (normal.startswith("__") and normal.endswith("__")):
        raise CompileError(f"{shown} would clash with a name the module defines; "
                           "choose another name")
    return normal


def build(
    program: Program,
    graph: Graph,
    expression: str,
    options: Options,
    progress: Callable[[str, int, int], None] | None = None,
) -> Built:
    """Differentiate ``program`` and generate its module."""
    name = check_function_name(options.name, options)
    backend = get_backend(options.backend)
    iface = resolve_interface(program, options)
    several = len(program.outputs) > 1
    if several and (options.hessian or options.hvp):
        raise CompileError(f"{options.spelled('hessian')} and {options.spelled('hvp')} need a "
                           "single output; this program has "
                           f"{len(program.outputs)} (use the Jacobian functions)")
    reduced = _check_backend(program, backend, options)
    params = _Parameters(graph, iface)
    direction = (params.extra("v_", iface.python_wrt, params.wrt_shapes)
                 if options.jvp or options.hvp else [])
    output_names = _output_names(program)
    cotangents = params.extra("c_", output_names) if several else []
    # on arrays both branches of a where are computed: make the one not taken safe
    outputs = safe_branches(graph, program.outputs) if backend.arrays else program.outputs
    request = Request(name, graph, tuple(outputs), _flat(params.args), _flat(params.wrt),
                      bool(options.hessian), options.jvp, options.hvp, reduced=reduced,
                      elementwise=backend.arrays and not reduced,
                      direction=tuple(direction), cotangents=tuple(cotangents),
                      arrays=tuple(params.arrays), wrt_shapes=params.wrt_shapes,
                      wrt_names=tuple(iface.python_wrt),
                      sparse_hessian=options.hessian == "sparse",
                      sparse_jacobian=options.jacobian == "sparse")
    derivatives = build_functions(request, progress)
    functions = derivatives.functions
    if backend.fused:  # over the points: each function, or a twin of each scalar one
        functions = _fused_functions(request, derivatives.functions, reduced, progress)
    constants = [("ARGS", tuple(iface.python_args)), ("WRT", tuple(iface.python_wrt))]
    if iface.shapes:  # the array arguments' shapes, by Python name
        constants.append(("SHAPES", iface.python_shapes()))
    if several:
        constants.append(("OUTPUTS", tuple(output_names)))
    spec = ModuleSpec(backend=backend, header=[], constants=constants + derivatives.constants,
                      functions=functions, param_names=params.names,
                      labels=program.labels(), hints=derivatives.hints,
                      fused=backend.fused, one_step_per_line=options.one_step_per_line)
    if progress:
        progress("printing", 0, 1)
    built = Built(generate(spec), iface, options, expression)
    built.line_count = built.body.count("\n")
    if options.format:  # only when asked: the printer already writes black's layout
        if progress:
            progress("formatting with black", 0, 1)
        built.body = format_with_black(built.body)
        built.formatted = True
    return built


def _fused_functions(request: Request, scalar: list, reduced: bool, progress) -> list:
    """On a backend with fused loops (numba): a program that reduces arrays is one loop per
    function; any other keeps its scalar functions and gains a twin of each that runs over
    arrays of points elementwise, ``grad_f_points`` (the numpy backend's semantics)."""
    if reduced:
        return [replace(fn, fused=True) for fn in scalar]
    over_points = build_functions(replace(request, elementwise=True), progress).functions
    return scalar + [replace(fn, name=points_name(fn.name), fused=True) for fn in over_points]


def points_name(function: str) -> str:
    """The name of a scalar function's twin over arrays of points (numba backend)."""
    return f"{function}_points"


def _check_backend(program: Program, backend, options: Options) -> bool:
    """Refuse ops the backend cannot print; say whether the output is reduced."""
    reduced = False
    for node in reachable(program.outputs):
        if node.kind != APPLY:
            continue
        if not backend.can_print(node.op):
            raise CompileError(f"{node.op.name}() reduces an array, which needs "
                               f"{options.spelled('backend', 'numpy')} or "
                               f"{options.spelled('backend', 'numba')} (the {backend.name} "
                               "backend works on one point at a time)")
        reduced = reduced or node.op.reduction
    return reduced


def _flat(groups: list[list[Node]]) -> tuple[Node, ...]:
    return tuple(node for group in groups for node in group)


def _output_names(program: Program) -> list[str]:
    names = [n if n is not None else f"out{k}" for k, n in enumerate(program.output_names)]
    return [python_name(n) for n in names]


class _Parameters:
    """The generated functions' parameters as variable nodes, and their Python names:
    the ARGS, then any extra parameters (directions ``v_x``, cotangents ``c_r1``).

    An array parameter is one name in the signature (``x``) and an ``ArrayParam``
    whose elements are variable nodes named ``x_0``, ``x_1``, ... in the code."""

    def __init__(self, graph: Graph, iface: Interface):
        self.graph = graph
        self.names: dict[int, str] = {}
        self.alloc = NameAllocator(iface.python_args)
        self.arrays: list[ArrayParam] = []
        self.args = self._group(iface.args, iface.python_args, iface.shapes)
        by_arg = dict(zip(iface.args, self.args))
        self.wrt = [by_arg[w] for w in iface.wrt]
        self.wrt_shapes = tuple(iface.shapes.get(w) for w in iface.wrt)

    def _group(self, names: list[str], pythons: list[str], shapes: dict) -> list[list[Node]]:
        groups = []
        for name, python in zip(names, pythons):
            shape = shapes.get(name)
            groups.append(self._name(python, shape, element_nodes(self.graph, name, shape)))
        return groups

    def _name(self, python: str, shape, nodes: list[Node]) -> list[Node]:
        """Name a parameter's nodes: the scalar itself, or each element (``x_0``) of an
        array, which becomes an ``ArrayParam``."""
        if shape is None:
            self.names[nodes[0].id] = python
            return nodes
        for node, index in zip(nodes, element_indices(shape)):
            self.names[node.id] = self.alloc.take(element_python_name(python, index))
        self.arrays.append(ArrayParam(python, shape, tuple(nodes)))
        return nodes

    def extra(self, prefix: str, names: list[str], shapes: tuple = ()) -> list[Node]:
        """Parameters beyond ARGS, named clear of ARGS (``v_x``, or ``v_x_`` if
        ``v_x`` is an argument), flat; an array one (``shapes``) has one node per element.

        Their nodes are variables with names no expression can spell, so they
        never merge with a user's variable of the same name.
        """
        nodes = []
        for k, name in enumerate(names):
            python = self.alloc.take_with_underscores(prefix + name)
            shape = shapes[k] if k < len(shapes) else None
            nodes += self._name(python, shape, element_nodes(self.graph, f"\0{python}", shape))
        return nodes


def format_with_black(source: str) -> str:
    import black

    return black.format_str(source, mode=black.Mode())


def compile_text(text: str, options: Options, progress=None) -> Built:
    graph = Graph()
    program = parse(text, graph, source=options.source_file)
    return build(program, graph, text, options, progress)


# --- the header ---
def command_line(expression: str, options: Options, output: str | None) -> str:
    """The adcompile command that regenerates the module."""
    if options.source_file not in (None, STDIN):
        words = ["adcompile", "-f", options.source_file]
    else:
        words = ["adcompile", one_line(expression)]
    if options.name != "f":
        words += ["--name", options.name]
    if options.args is not None:
        words += ["--args", ",".join(options.args)]
    if options.wrt is not None:
        words += ["--wrt", ",".join(options.wrt)]
    for arg, shape in options.shapes.items():
        words += ["--shape", f"{arg}={'x'.join(str(n) for n in shape)}"]
    if options.backend != "math":
        words += ["--backend", options.backend]
    words += [f"--{flag}" for flag in ("hessian", "jvp", "hvp") if getattr(options, flag)]
    if options.hessian == "sparse":
        words[words.index("--hessian")] = "--hessian=sparse"
    if options.jacobian == "sparse":
        words.append("--jacobian=sparse")
    if options.one_step_per_line:
        words.append("--one-step-per-line")
    if options.format:
        words.append("--format")
    if output is not None:
        words += ["-o", output]
    return shlex.join(words)


def one_line(text: str) -> str:
    """The text on a single line: newlines become '; ' or spaces, comments go."""
    if "\n" not in text and "\r" not in text and "#" not in text:
        return text
    return one_line_program(text)


def header_lines(expression: str, options: Options, output: str | None) -> list[str]:
    lines = [f"Generated by adcompile {__version__}. Do not edit: regenerate instead."]
    if expression.startswith(TRACED):
        lines.append(f"Traced from {expression}; regenerate with adcompile.compile() on it.")
    elif len(expression) <= HEADER_EXPRESSION_LIMIT:
        lines.append("Expression:")
        lines += ["    " + visible(line) for line in expression.strip().splitlines()]
        lines.append("Regenerate with:")
        lines.append("    " + visible(command_line(expression, options, output)))
    else:
        lines.append(f"The expression is {len(expression):,} characters long; not repeated here.")
        if options.source_file not in (None, STDIN):
            lines.append("Regenerate with:")
            lines.append("    " + visible(command_line(expression, options, output)))
    return lines
