"""The ``adcompile`` command: a thin shell over the Python API.

    adcompile EXPR [options]          compile; the module goes to stdout or -o
    adcompile -f FILE [options]       ... the expression or program in FILE
    adcompile - [options]             ... read from standard input
    adcompile check EXPR [options]    compare with SymPy; exit 0 if it agrees

Exit status: 0 success, 1 the check found a disagreement, 2 a mistake in the
input or the options (the message says what and where; nothing is written),
3 the check was inconclusive: SymPy could not build a reference (too slow, or
nested too deeply for it), or some quantity could not be compared at any point
(undefined or out of double range everywhere), and nothing disagreed (nothing is
written).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import Callable

from adcompile.version import __version__
from adcompile.api import build_module, check_module, make_options
from adcompile.pipeline import STDIN
from adcompile.codegen.backends import BACKENDS
from adcompile.errors import AdcompileError, CompileError
from adcompile.fileio import check_writable, write_atomic
from adcompile.frontend.language import describe_language
from adcompile.compiled_module import CompiledModule
from adcompile.progress import Progress

SUBCOMMANDS = ("compile", "check", "explain", "graph")
INCONCLUSIVE = 3  # the exit status when SymPy could not build a reference to compare with

_EPILOG = f"""\
commands:
  adcompile EXPR ...         compile EXPR (also: adcompile compile EXPR ...)
  adcompile check EXPR ...   compare value and gradient with SymPy; exit 1 if they disagree,
                             3 if SymPy could not build a reference to compare with
  adcompile explain EXPR --at x=1,y=2   forward and backward tables, as in the seed
  adcompile graph EXPR --at x=1,y=2 -o graph.svg   the computation graph (.dot, .svg, .png)

the language:
  {describe_language()}

the input: an expression, or a program of named steps ending in an expression,
  "f0 = beta0 + omega0*x; h1 = sin(f0); (h1 - y)**2" (statements are separated
  by ';' or newlines; '#' starts a comment). Give it as EXPR, in a file with
  -f FILE, or on standard input with '-'.

examples:
  adcompile "(w*x + b - y)**2" --name loss -o loss.py
  adcompile -f model.adc --name loss -o loss.py
  echo "sin(x)*y" | adcompile -
  adcompile check "log(1 + exp(a*x)) / sqrt(x**2 + 1)"
  adcompile -- "-x**2"        (an expression starting with '-' follows --)

exit status: 0 ok, 1 the check found a disagreement, 2 bad input or options,
  3 the check was inconclusive (no reference, or a quantity compared nowhere); after 1, 2 or 3
  nothing is written
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        message = message.replace("argument --hessian-layout: ", "")
        unknown = message.partition("unrecognized arguments: ")[2].split()
        option = unknown[0].split("=")[0] if unknown else ""
        elsewhere = _commands_with(option) if option.startswith("-") else []
        if elsewhere:
            *others, last = elsewhere
            where = f"{', '.join(others)} and {last}" if others else last
            message += f"\n({option} is an option of {where}, not of {self.prog})"
        elif option.startswith("--"):
            options = [o for action in self._actions for o in action.option_strings]
            close = difflib.get_close_matches(option, options, n=1)
            if close:
                message += f"\n(did you mean {close[0]}?)"
        elif (unknown and unknown[0].startswith("-")) or "expected one argument" in message:
            message += "\n(an expression that starts with '-' goes after --: adcompile -- \"-x**2\")"
        self.exit(2, f"adcompile: error: {message}\n")


def _commands_with(option: str) -> list[str]:
    """The commands (``adcompile``, ``adcompile check``, ...) that take ``option``."""
    parsers = (compile_parser, check_parser, explain_parser, graph_parser)
    return [p.prog for p in (make() for make in parsers)
            if any(option in action.option_strings for action in p._actions)]


def _whole_number(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (None: unbounded)."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return whole_number


def _shape(text: str) -> tuple[str, tuple[int, ...]]:
    """An argparse type: ``x=10`` or ``W=16x4``, an argument's static shape."""
    name, eq, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not eq or not name.strip().isidentifier() or not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected NAME=N or NAME=RxC with whole numbers >= 1 (x=10, W=16x4), not {text!r}")
    return name.strip(), shape


def _layout(flag: str) -> Callable[[str], str]:
    """An argparse type: ``dense`` or ``sparse``."""

    def layout(text: str) -> str:
        if text not in ("dense", "sparse"):
            raise argparse.ArgumentTypeError(f"{flag} takes dense or sparse, not {text!r}")
        return text


    return layout


def _seconds(text: str) -> float:
    """An argparse type: a time limit in seconds, greater than 0; ``inf`` is no limit."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value > 0:  # also nan
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0 "
                                         f"(inf for no limit), not {text}")
    return value


def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", metavar="EXPR", nargs="?",
                   help="the expression or program, e.g. \"sin(x)*y\"; '-' reads standard input")
    p.add_argument("-f", "--file", metavar="FILE", help="read the expression or program from FILE")


def read_input(ns: argparse.Namespace) -> tuple[str, str | None]:
    """The input text and where it came from (a file name, '<stdin>', or None)."""
    if ns.file is not None and ns.expression is not None:
        raise CompileError("give the expression either as EXPR or with -f FILE, not both")
    if ns.file is not None:
        try:
            with open(ns.file, encoding="utf-8-sig") as f:
                return f.read(), ns.file
        except FileNotFoundError:
            raise CompileError(f"cannot read {ns.file}: no such file") from None
        except IsADirectoryError:
            raise CompileError(f"cannot read {ns.file}: it is a directory") from None
        except UnicodeDecodeError as exc:
            raise CompileError(f"cannot read {ns.file}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise CompileError(f"cannot read {ns.file}: {exc.strerror}") from None
    if ns.expression is None:
        raise CompileError("no expression: give EXPR, -f FILE, or '-' for standard input "
                           "(see adcompile --help)")
    if ns.expression == "-":
        try:
            return sys.stdin.read(), STDIN
        except UnicodeDecodeError:
            raise CompileError("cannot read standard input: not UTF-8 text") from None
    return ns.expression, None


def _add_more(p: argparse.ArgumentParser) -> None:
    more = p.add_argument_group("more functions (a program ending in a tuple, r1, r2, "
                                "also gets jacobian_NAME and vjp_NAME)")
    more.add_argument("--hessian", action="store_true",
                      help="add hessian_NAME(*ARGS) -> (value, gradient, H), H over the WRT "
                           "scalars; --hessian=sparse gives H as (rows, cols, values), the "
                           "entries not structurally zero, both triangles")
    more.add_argument("--hessian-layout", type=_layout("--hessian="), default=None,
                      help=argparse.SUPPRESS)  # --hessian=sparse, split off by parse_command
    more.add_argument("--jacobian", default="dense", type=_layout("--jacobian"), metavar="sparse",
                      help="--jacobian=sparse: jacobian_NAME gives J as (rows, cols, values)")
    more.add_argument("--jvp", action="store_true",
                      help="add jvp_NAME(*ARGS, *V) -> (value, derivative along V), forward mode")
    more.add_argument("--hvp", action="store_true",
                      help="add hvp_NAME(*ARGS, *V) -> (value, gradient, H.V), without forming H")


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--args", metavar="A,B,...",
                   help="argument names in signature order (default: natural sort of the variables); "
                        "may list names the expression does not use")
    p.add_argument("--wrt", metavar="A,B,...",
                   help="the arguments to differentiate, in gradient order (default: all of --args)")
    p.add_argument("--shape", metavar="NAME=N", type=_shape, action="append", default=[],
                   help="make NAME an array argument of static shape N (x=10), RxC (W=16x4) or "
                        "more axes (T=2x3x4): "
                        "the functions take it as one parameter and return its derivative in "
                        "its shape; repeat for each array")


def compile_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="adcompile",
        description="Compile a mathematical expression into a self-contained Python module that "
                    "computes its value and its gradient by reverse-mode automatic "
                    "differentiation, as straight-line code.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_input(p)
    p.add_argument("--name", default="f", help="function name: the module defines NAME and grad_NAME "
                                               "(default: f)")
    _add_selection(p)
    _add_more(p)
    p.add_argument("--backend", choices=tuple(BACKENDS), default="math",
                   help="math: scalar code importing only math (default); numpy: array code "
                        "importing only numpy, which also runs on dask arrays and allows "
                        "sum(...) and mean(...); numba: the math code compiled by numba "
                        "(callable from njit code), with sum(...) and mean(...) as one "
                        "parallel loop over the points")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the module to FILE, atomically (default: standard output)")
    p.add_argument("--check", action="store_true",
                   help="compare with SymPy first; write nothing and exit 1 if they disagree, "
                        "3 if the check is inconclusive (nothing disagrees, but SymPy could not "
                        "build a reference or some quantity could not be compared anywhere)")
    p.add_argument("--one-step-per-line", action="store_true",
                   help="write every operation on a line of its own, as the seed's passes "
                        "(by default a step used only once is written inside the step that "
                        "uses it: t2 = sin(beta0 + omega0 * x))")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--format", dest="format", action="store_true", default=None,
                     help="run black on the output (the printer already writes black's layout, "
                          "so this only costs time: about a second per 1,000 lines)")
    fmt.add_argument("--no-format", dest="format", action="store_false",
                     help="do not run black (the default; kept for old scripts)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--version", action="version", version=f"adcompile {__version__}")
    return p


def check_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="adcompile check",
        description="Compile EXPR, then compare its value and gradient with SymPy's "
                    "(sympy.diff) at seeded random points inside the domain. Prints the worst "
                    "absolute and relative error of each quantity. Exit status 0 if every "
                    "relative error is at most 1e-9, else 1; 3 if the check is inconclusive: "
                    "SymPy could not build a reference (past --timeout, or the expression is "
                    "nested too deeply for it), or some quantity could not be compared at any "
                    "point (undefined or out of double range everywhere), and nothing "
                    "disagreed.",
    )
    _add_input(p)
    _add_selection(p)
    _add_more(p)
    p.add_argument("--backend", choices=tuple(BACKENDS), default="math",
                   help="check the module of this backend (default: math)")
    p.add_argument("--timeout", type=_seconds, default=120.0, metavar="SECONDS",
                   help="how long SymPy may take to build its reference (default: 120; inf: no "
                        "limit); past it the check is inconclusive and says so")
    p.add_argument("--points", type=_whole_number(1), default=20,
                   help="how many random points, at least 1 (default: 20)")
    p.add_argument("--seed", type=_whole_number(), default=0, help="random seed (default: 0)")
    return p


def _seeing_parser(prog: str, description: str, shown_in: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description=description)
    _add_input(p)
    p.add_argument("--at", metavar="A=1,B=2",
                   help="the point: a number for every variable; an array's elements one by one "
                        "(x[0]=1,W[1,0]=2) or whole (x=[1,2])")
    p.add_argument("--shape", metavar="NAME=N", type=_shape, action="append", default=[],
                   help="declare an array argument's shape (x=10, W=16x4), for len(x) and x[-1]")
    p.add_argument("--name", default="f", help=f"the output's name in {shown_in} (default: f)")
    p.add_argument("--digits", type=_whole_number(0, 17), default=3,
                   help="decimals shown, 0 to 17 (default: 3)")
    return p


def explain_parser() -> argparse.ArgumentParser:
    p = _seeing_parser("adcompile explain",
                       "Print the forward pass (each node's value, in topological order), the "
                       "backward pass (each adjoint, in reverse order, with every contribution "
                       "and the local derivative it was multiplied by), and the gradient beside "
                       "central finite differences, at the point --at.", "the tables")
    p.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="aligned text for a terminal (default) or Markdown tables")
    p.add_argument("--json", action="store_true", help="the same data as JSON, for programs")
    return p


def graph_parser() -> argparse.ArgumentParser:
    p = _seeing_parser("adcompile graph",
                       "Draw the computation graph: forward edges black; with --at, each node's "
                       "value, its adjoint in blue, and red backward edges labelled with the "
                       "adjoint flowing back. DOT is written directly; .svg and .png need "
                       "Graphviz's dot program.", "the drawing")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="graph.dot, graph.svg or graph.png")
    p.add_argument("--max-nodes", type=_whole_number(1), default=200,
                   help="refuse larger graphs, which would be unreadable (at least 1; "
                        "default: 200)")
    return p


def _passes(ns):
    from adcompile.explain.passes import parse_point, trace_passes
    from adcompile.ir.graph import Graph
    from adcompile.frontend.text import parse

    text, source = read_input(ns)
    graph = Graph(fold=False, algebra=False, reorder=False)  # the graph exactly as written
    program = parse(text, graph, source=source, shapes=_shapes(ns))
    if len(program.outputs) != 1:
        raise CompileError("explain and graph show one output; this program has several")
    passes = None
    if ns.at is not None:
        point = parse_point(ns.at, list(program.variables))
        passes = trace_passes(program, point, ns.name)
    return text, program, passes


def run_explain(argv: list[str]) -> int:
    from adcompile.explain.render import render, to_json

    ns = explain_parser().parse_args(argv)
    if ns.at is None:
        raise CompileError("explain needs a point: --at x=1,y=2 (a number for every variable)")
    text, _, passes = _passes(ns)
    if ns.json:
        sys.stdout.write(to_json(passes, text))
    else:
        sys.stdout.write(render(passes, text, ns.digits, markdown=ns.format == "markdown"))
    return 0


def run_graph(argv: list[str]) -> int:
    from adcompile.explain.dot import render, to_dot

    ns = graph_parser().parse_args(argv)
    kind = ns.output.rsplit(".", 1)[-1].lower() if "." in ns.output else ""
    if kind not in ("dot", "svg", "png"):
        raise CompileError(f"-o {ns.output!r}: the name must end in .dot, .svg or .png")
    check_writable(ns.output)
    _, program, passes = _passes(ns)
    dot_text = to_dot(program.outputs[0], ns.name, passes, ns.digits, ns.max_nodes, program.labels())
    write_atomic(ns.output, dot_text if kind == "dot" else render(dot_text, kind))
    print(f"adcompile: wrote {ns.output}", file=sys.stderr)
    return 0


def parse_command(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args``, reading ``--hessian=LAYOUT`` (a plain ``--hessian`` takes no
    value, so that ``--hessian EXPR`` still means what it always has)."""
    argv = [f"--hessian-layout={a.split('=', 1)[1]}" if a.startswith("--hessian=") else a
            for a in argv]
    ns = parser.parse_args(argv)
    if ns.hessian_layout is not None:
        ns.hessian = "sparse" if ns.hessian_layout == "sparse" else True
    return ns


def _shapes(ns: argparse.Namespace) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for name, shape in ns.shape:
        if shapes.setdefault(name, shape) != shape:
            raise CompileError(f"--shape gives {name} two shapes, {shapes[name]} and {shape}")
    return shapes


def run_compile(argv: list[str]) -> int:
    ns = parse_command(compile_parser(), argv)
    if ns.output:
        check_writable(ns.output)
    text, source = read_input(ns)
    options = make_options(ns.name, ns.args, ns.wrt, backend=ns.backend, format=ns.format,
                           source_file=source, hessian=ns.hessian, jvp=ns.jvp, hvp=ns.hvp, cli=True,
                           shapes=_shapes(ns), jacobian=ns.jacobian,
                           one_step_per_line=ns.one_step_per_line)
    progress = None if ns.quiet else Progress()
    try:
        module = CompiledModule(build_module(text, options, progress))
    finally:
        if progress:
            progress.finish()
    if ns.check:
        report = check_module(text, module)
        if not ns.quiet or not report.ok:
            print(report, file=sys.stderr)
        if report.inconclusive:
            print("adcompile: error: the check against SymPy was inconclusive, so nothing was "
                  "written", file=sys.stderr)
            return INCONCLUSIVE
        if not report.ok:
            return 1
    if ns.output:
        write_atomic(ns.output, module.render(ns.output))
        if not ns.quiet:
            print(f"adcompile: wrote {ns.output}", file=sys.stderr)
    else:
        sys.stdout.write(module.render())
    return 0


def run_check(argv: list[str]) -> int:
    ns = parse_command(check_parser(), argv)
    text, source = read_input(ns)
    options = make_options(None, ns.args, ns.wrt, backend=ns.backend, source_file=source,
                           hessian=ns.hessian, jvp=ns.jvp, hvp=ns.hvp, cli=True,
                           shapes=_shapes(ns), jacobian=ns.jacobian)
    module = CompiledModule(build_module(text, options))
    report = check_module(text, module, points=ns.points, seed=ns.seed, timeout=ns.timeout)
    print(report)
    return INCONCLUSIVE if report.inconclusive else 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "compile"
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    runner = {"compile": run_compile, "check": run_check, "explain": run_explain,
              "graph": run_graph}[command]
    try:
        return runner(rest)
    except AdcompileError as exc:
        print(f"adcompile: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adcompile: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    sys.exit(main())
