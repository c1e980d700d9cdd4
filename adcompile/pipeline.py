"""The pipeline: input -> graph -> derivatives -> module source.

``build`` is the one place that strings the stages together, for every kind
of input (expression text, a SymPy expression) and every set of requested
functions; the CLI and the Python API are both thin shells over it.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from adcompile.codegen.backends import MODULE_NAMES as BACKEND_MODULES, get_backend
from adcompile.codegen.printer import ModuleSpec, generate
from adcompile.errors import CompileError, visible
from adcompile.ad.derivatives import Request, build_functions
from adcompile.ir.graph import APPLY, Graph, Node, reachable
from adcompile.codegen.names import is_reserved_word, natural_sorted, python_name
from adcompile.frontend.reader import TRACED
from adcompile.frontend.program import Program, normalize_name
from adcompile.frontend.text import one_line_program, parse
from adcompile.version import __version__

from adcompile.codegen.names import NameAllocator

BLACK_MAX_LINES = 2000  # black runs by default only on modules up to this size
HEADER_EXPRESSION_LIMIT = 2000  # longer expressions are not repeated in the header
STDIN = "<stdin>"  # the source name of standard input


@dataclass
class Options:
    name: str = "f"
    args: list[str] | None = None
    wrt: list[str] | None = None
    backend: str = "math"
    format: bool | None = None  # None: black when the module is small enough
    hessian: bool = False
    jvp: bool = False
    hvp: bool = False
    source_file: str | None = None  # where the text came from, for the header
    cli: bool = False  # from the command line: messages name --flags, else keyword=

    def spelled(self, option: str, value: str | None = None) -> str:
        """How the user wrote an option: ``--wrt 'y'`` on the command line, ``wrt='y'`` in Python."""
        if value is None:
            return f"--{option}" if self.cli else f"{option}="
        return f"--{option} {shlex.quote(value)}" if self.cli else f"{option}={value!r}"


@dataclass
class Interface:
    """The generated module's signature: argument and gradient names."""

    args: list[str]  # the user's names, in signature order
    python_args: list[str]  # the same, as Python identifiers
    wrt: list[str]
    python_wrt: list[str]


@dataclass
class Built:
    """A compiled module: its text (without the header's ``-o``) and metadata."""

    body: str
    interface: Interface
    options: Options
    expression: str
    line_count: int = 0
    formatted: bool = False
    stats: dict = field(default_factory=dict)

    def header(self, output: str | None = None) -> list[str]:
        return header_lines(self.expression, self.options, output)

    def source(self, output: str | None = None) -> str:
        return "\n".join("# " + h if h else "#" for h in self.header(output)) + "\n" + self.body


def _check_identifier(name: str, option: str, options: Options) -> str:
    normal = normalize_name(name.strip())
    if not normal.isidentifier():
        raise CompileError(f"{options.spelled(option)} lists {name!r}, which is not a valid name")
    return normal


def resolve_interface(program: Program, options: Options) -> Interface:
    used = list(program.variables)
    if options.args is None:
        args = program.signature if program.signature is not None else natural_sorted(used)
    else:
        flag = options.spelled("args")
        args = [_check_identifier(a, "args", options) for a in options.args]
        counts = Counter(args)
        duplicates = sorted(a for a, n in counts.items() if n > 1)
        if duplicates:
            raise CompileError(f"{flag} lists {', '.join(duplicates)} more than once")
        missing = [v for v in natural_sorted(used) if v not in counts]
        if missing:
            raise CompileError(f"the expression uses {', '.join(missing)}, which {flag} does not list")
        steps = [a for a in args if a in program.steps]
        if steps:
            raise CompileError(f"{flag} lists {', '.join(steps)}, which the program assigns")
    python_args = _python_names(args)
    if options.wrt is None:
        wrt = list(args)
    else:
        wrt = _resolve_wrt(options, args, python_args)
    python_of = dict(zip(args, python_args))
    return Interface(args, python_args, wrt, [python_of[w] for w in wrt])


def _resolve_wrt(options: Options, args: list[str], python_args: list[str]) -> list[str]:
    by_python = dict(zip(python_args, args))
    arg_set = set(args)
    if not options.wrt:
        raise CompileError(f"{options.spelled('wrt')} names no argument; name at least one, or "
                           "leave it out to differentiate with respect to every argument")
    wrt, seen = [], set()
    for w in options.wrt:
        name = _check_identifier(w, "wrt", options)
        name = by_python.get(name, name)
        if name not in arg_set:
            shown = ", ".join(args[:20]) + (", ..." if len(args) > 20 else "")
            raise CompileError(f"{options.spelled('wrt')} names {w!r}, which is not an argument "
                               f"(the arguments are {shown or 'none'})")
        if name in seen:
            raise CompileError(f"{options.spelled('wrt')} lists {w!r} more than once")
        wrt.append(name)
        seen.add(name)
    return wrt


def _python_names(args: list[str]) -> list[str]:
    """Keep every valid name as it is; give keywords trailing underscores."""
    alloc = NameAllocator(a for a in args if not is_reserved_word(a))
    return [alloc.take_with_underscores(a) if is_reserved_word(a) else a for a in args]


# module-level names a generated function must not take (nor a dunder, __name__ ...):
# the module's constants and the modules its helpers refer to by name
MODULE_NAMES = BACKEND_MODULES + ("ARGS", "WRT", "OUTPUTS", "HESSIAN_NONZERO",
                                  "JACOBIAN_NONZERO")


def check_function_name(name: str, options: Options | None = None) -> str:
    """The function name as generated code spells it, or a ``CompileError``.

    Private names (``_loss``) are fine: the function names are reserved before
    the helpers (``_relu``, ``_sum_to``, ...) are named, so a helper gives way.
    """
    options = options or Options()
    shown = options.spelled("name", name)
    normal = _check_identifier(name, "name", options)
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
    direction = params.extra("v_", iface.python_wrt) if options.jvp or options.hvp else []
    output_names = _output_names(program)
    cotangents = params.extra("c_", output_names) if several else []
    request = Request(name, graph, tuple(program.outputs), tuple(params.args), tuple(params.wrt),
                      options.hessian, options.jvp, options.hvp, reduced=reduced,
                      elementwise=backend.arrays and not reduced,
                      direction=tuple(direction), cotangents=tuple(cotangents))
    derivatives = build_functions(request, progress)
    constants = [("ARGS", tuple(iface.python_args)), ("WRT", tuple(iface.python_wrt))]
    if several:
        constants.append(("OUTPUTS", tuple(output_names)))
    spec = ModuleSpec(backend=backend, header=[], constants=constants + derivatives.constants,
                      functions=derivatives.functions, param_names=params.names,
                      labels=program.labels(), hints=derivatives.hints)
    if progress:
        progress("printing", 0, 1)
    built = Built(generate(spec), iface, options, expression)
    built.line_count = built.body.count("\n")
    if options.format or (options.format is None and built.line_count <= BLACK_MAX_LINES):
        if progress:
            progress("formatting with black", 0, 1)
        built.body = format_with_black(built.body)
        built.formatted = True
    return built


def _check_backend(program: Program, backend, options: Options) -> bool:
    """Refuse ops the backend cannot print; say whether the output is reduced."""
    reduced = False
    for node in reachable(program.outputs):
        if node.kind != APPLY:
            continue
        if not backend.can_print(node.op):
            raise CompileError(f"{node.op.name}() reduces an array, which needs "
                               f"{options.spelled('backend', 'numpy')} (the {backend.name} "
                               "backend works on one point at a time)")
        reduced = reduced or node.op.reduction
    return reduced


def _output_names(program: Program) -> list[str]:
    names = [n if n is not None else f"out{k}" for k, n in enumerate(program.output_names)]
    return [python_name(n) for n in names]


class _Parameters:
    """The generated functions' parameters as variable nodes, and their Python names:
    the ARGS, then any extra parameters (directions ``v_x``, cotangents ``c_r1``)."""

    def __init__(self, graph: Graph, iface: Interface):
        self.graph = graph
        self.args = [graph.var(a) for a in iface.args]
        self.wrt = [graph.var(w) for w in iface.wrt]
        self.names = dict(zip((n.id for n in self.args), iface.python_args))
        self.alloc = NameAllocator(iface.python_args)

    def extra(self, prefix: str, names: list[str]) -> list[Node]:
        """Parameters beyond ARGS, named clear of ARGS (``v_x``, or ``v_x_`` if
        ``v_x`` is an argument).

        Their nodes are variables with names no expression can spell, so they
        never merge with a user's variable of the same name.
        """
        nodes = []
        for name in names:
            python = self.alloc.take_with_underscores(prefix + name)
            node = self.graph.var(f"\0{python}")
            self.names[node.id] = python
            nodes.append(node)
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
    if options.backend != "math":
        words += ["--backend", options.backend]
    words += [f"--{flag}" for flag in ("hessian", "jvp", "hvp") if getattr(options, flag)]
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
