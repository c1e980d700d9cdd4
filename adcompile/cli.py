"""The ``adcompile`` command: a thin shell over the Python API.

    adcompile EXPR [options]          compile; the module goes to stdout or -o
    adcompile check EXPR [options]    compare with SymPy; exit 0 if it agrees

Exit status: 0 success, 1 the check found a disagreement, 2 a mistake in the
input or the options (the message says what and where; nothing is written).
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .api import build_module, check_module, make_options
from .errors import AdcompileError
from .fileio import check_writable, write_atomic
from .language import describe_language
from .module import CompiledModule

SUBCOMMANDS = ("compile", "check")

_EPILOG = f"""\
commands:
  adcompile EXPR ...         compile EXPR (also: adcompile compile EXPR ...)
  adcompile check EXPR ...   compare value and gradient with SymPy; exit 1 if they disagree

the language:
  {describe_language()}

examples:
  adcompile "(w*x + b - y)**2" --name loss -o loss.py
  adcompile check "log(1 + exp(a*x)) / sqrt(x**2 + 1)"
  adcompile -- "-x**2"        (an expression starting with '-' follows --)

exit status: 0 ok, 1 check failed, 2 bad input or options (nothing is written)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"adcompile: error: {message}\n")


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--args", metavar="A,B,...",
                   help="argument names in signature order (default: natural sort of the variables); "
                        "may list names the expression does not use")
    p.add_argument("--wrt", metavar="A,B,...",
                   help="the arguments to differentiate, in gradient order (default: all of --args)")


def compile_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="adcompile",
        description="Compile a mathematical expression into a self-contained Python module that "
                    "computes its value and its gradient by reverse-mode automatic "
                    "differentiation, as straight-line code.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", metavar="EXPR", help="the expression, e.g. \"sin(x)*y\"")
    p.add_argument("--name", default="f", help="function name: the module defines NAME and grad_NAME "
                                               "(default: f)")
    _add_selection(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the module to FILE, atomically (default: standard output)")
    p.add_argument("--check", action="store_true",
                   help="compare with SymPy first; write nothing and exit 1 if they disagree")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--format", dest="format", action="store_true", default=None,
                     help="always run black on the output (default: only up to 2,000 lines)")
    fmt.add_argument("--no-format", dest="format", action="store_false",
                     help="never run black (the printer already writes black's style)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--version", action="version", version=f"adcompile {__version__}")
    return p


def check_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="adcompile check",
        description="Compile EXPR, then compare its value and gradient with SymPy's "
                    "(sympy.diff) at seeded random points inside the domain. Prints the worst "
                    "absolute and relative error of each quantity. Exit status 0 if every "
                    "relative error is at most 1e-9, else 1.",
    )
    p.add_argument("expression", metavar="EXPR")
    _add_selection(p)
    p.add_argument("--points", type=int, default=20, help="how many random points (default: 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return p


def run_compile(argv: list[str]) -> int:
    ns = compile_parser().parse_args(argv)
    if ns.output:
        check_writable(ns.output)
    options = make_options(ns.name, ns.args, ns.wrt, format=ns.format)
    module = CompiledModule(build_module(ns.expression, options))
    if ns.check:
        report = check_module(ns.expression, module)
        if not ns.quiet or not report.ok:
            print(report, file=sys.stderr)
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
    ns = check_parser().parse_args(argv)
    options = make_options(None, ns.args, ns.wrt)
    module = CompiledModule(build_module(ns.expression, options))
    report = check_module(ns.expression, module, points=ns.points, seed=ns.seed)
    print(report)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "compile"
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    runner = {"compile": run_compile, "check": run_check}[command]
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
