"""The options of one compilation, and the generated module's interface.

``Options`` is what a user asked for (names, backend, functions, shapes);
``resolve_interface`` turns it and a ``Program`` into the ``Interface``: the
arguments in signature order, their Python names, the WRT arguments, and the
static shape of each array argument.  An array argument is one parameter of
the generated functions; its elements are scalar variables of the graph
(``Program.shapes``), listed row-major by ``element_nodes``.
"""

from __future__ import annotations

import numbers
import shlex
from collections import Counter
from dataclasses import dataclass, field

from adcompile.codegen.names import NameAllocator, is_reserved_word, natural_sorted
from adcompile.errors import CompileError
from adcompile.frontend.program import (
    Program,
    Shape,
    element_count,
    element_indices,
    element_name,
    normalize_name,
)
from adcompile.ir.graph import Graph, Node

@dataclass
class Options:
    name: str = "f"
    args: list[str] | None = None
    wrt: list[str] | None = None
    backend: str = "math"
    format: bool | None = None  # True: run black on the module; None or False: do not
    hessian: bool | str = False  # True (dense) or "sparse"
    jacobian: str = "dense"  # or "sparse", for several outputs
    jvp: bool = False
    hvp: bool = False
    source_file: str | None = None  # where the text came from, for the header
    shapes: dict[str, Shape] = field(default_factory=dict)  # array arguments' static shapes
    cli: bool = False  # from the command line: messages name --flags, else keyword=
    # the seed's reading: each operation on a line of its own (by default a step used
    # once is written inside the step that uses it, codegen/inline.py)
    one_step_per_line: bool = False

    def spelled(self, option: str, value: str | None = None) -> str:
        """How the user wrote an option: ``--wrt 'y'`` on the command line, ``wrt='y'`` in Python."""
        keyword = {"shape": "shapes"}.get(option, option)  # --shape x=3 is shapes={"x": 3}
        if value is None:
            return f"--{option}" if self.cli else f"{keyword}="
        return f"--{option} {shlex.quote(value)}" if self.cli else f"{keyword}={value!r}"


@dataclass
class Interface:
    """The generated module's signature: argument and gradient names."""

    args: list[str]  # the user's names, in signature order
    python_args: list[str]  # the same, as Python identifiers
    wrt: list[str]
    python_wrt: list[str]
    shapes: dict[str, Shape] = field(default_factory=dict)  # array arguments (the rest are scalars)

    def shape_of(self, arg: str) -> Shape | None:
        return self.shapes.get(arg)

    def python_shapes(self) -> dict[str, Shape]:
        """The array arguments' shapes, by Python name."""
        return {p: self.shapes[a] for a, p in zip(self.args, self.python_args) if a in self.shapes}


def check_identifier(name: str, option: str, options: Options) -> str:
    normal = normalize_name(name.strip())
    if not normal.isidentifier():
        hint = (f" (an array argument is named whole: {normal.split('[')[0]})"
                if "[" in normal else "")
        raise CompileError(f"{options.spelled(option)} lists {name!r}, which is not a valid name"
                           + hint)
    return normal


def resolve_interface(program: Program, options: Options) -> Interface:
    shapes = dict(program.shapes)
    used = [v for v in program.variables if not _is_element(v, shapes)]
    used += [a for a in shapes if a not in used]
    if options.args is None:
        args = program.signature if program.signature is not None else natural_sorted(used)
    else:
        args = _listed_args(program, options, used)
    python_args = _python_names(args)
    if options.wrt is None:
        wrt = list(args)
    else:
        wrt = _resolve_wrt(options, args, python_args)
    python_of = dict(zip(args, python_args))
    _check_declared(program, options, args)
    arrays = {a: shapes[a] for a in args if a in shapes}
    return Interface(args, python_args, wrt, [python_of[w] for w in wrt], arrays)


def _check_declared(program: Program, options: Options, args: list[str]) -> None:
    """A declared shape must name an argument: one the expression uses, or one ``args``
    lists (a typo, ``--shape X=3`` for ``x``, would silently add an argument)."""
    used = {v.split("[", 1)[0] for v in program.variables}
    listed = set(options.args or ()) if program.signature is None else set(args)
    for name in options.shapes:
        if name not in used and name not in listed:
            near = [v for v in sorted(used) if v.lower() == name.lower()]
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise CompileError(f"{options.spelled('shape')} declares {name}, which the expression "
                               f"does not use{hint}; list it in {options.spelled('args')} to make "
                               "it an unused argument")


MAX_ELEMENTS = 10**6  # an array argument unrolls into this many scalar variables at most


def _is_element(variable: str, shapes: dict[str, Shape]) -> bool:
    return "[" in variable and variable.split("[", 1)[0] in shapes


def _listed_args(program: Program, options: Options, used: list[str]) -> list[str]:
    flag = options.spelled("args")
    args = [check_identifier(a, "args", options) for a in options.args]
    counts = Counter(args)
    duplicates = sorted(a for a, n in counts.items() if n > 1)
    if duplicates:
        raise CompileError(f"{flag} lists {', '.join(duplicates)} more than once")
    missing = [v for v in natural_sorted(used) if v not in counts]
    if missing:
        raise CompileError(f"the expression uses {', '.join(missing)}, which {flag} does not list")
    steps = [a for a in args if a in program.steps or a in program.vector_steps]
    if steps:
        raise CompileError(f"{flag} lists {', '.join(steps)}, which the program assigns")
    return args


def element_nodes(graph: Graph, name: str, shape: Shape | None) -> list[Node]:
    """An argument's variable nodes: itself for a scalar, else its elements, row-major."""
    if shape is None:
        return [graph.var(name)]
    return [graph.var(element_name(name, index)) for index in element_indices(shape)]


def element_python_name(python: str, index: tuple[int, ...]) -> str:
    """How generated code names one element of an array argument: ``x_2``, ``W_1_0``."""
    return python + "".join(f"_{i}" for i in index)


def normalize_layouts(hessian, jacobian, options: Options) -> tuple[bool | str, str]:
    """``hessian`` as False, True (dense) or "sparse"; ``jacobian`` as "dense" or "sparse"."""
    if hessian in (None, False, True, "dense", "sparse") and jacobian in (None, "dense", "sparse"):
        return ("sparse" if hessian == "sparse" else bool(hessian)), (jacobian or "dense")
    bad, option = (hessian, "hessian") if jacobian in (None, "dense", "sparse") else (jacobian, "jacobian")
    raise CompileError(f"{options.spelled(option)} must be True, False, 'dense' or 'sparse', "
                       f"not {bad!r}" if option == "hessian" else
                       f"{options.spelled(option)} must be 'dense' or 'sparse', not {bad!r}")


def normalize_shapes(shapes, options: Options) -> dict[str, Shape]:
    """``{"x": 3, "W": (2, 4)}`` as ``{"x": (3,), "W": (2, 4)}``, or a ``CompileError``
    naming the entry that is not a name with a shape of whole numbers >= 1."""
    if shapes is None:
        return {}
    if not isinstance(shapes, dict):
        raise CompileError(f"{options.spelled('shape')} must map argument names to shapes, "
                           f"such as {{'x': 3, 'W': (2, 4)}}, not {shapes!r}")
    out: dict[str, Shape] = {}
    for name, shape in shapes.items():
        if not isinstance(name, str):
            raise CompileError(f"{options.spelled('shape')} has the key {name!r}, which is not a name")
        key = check_identifier(name, "shape", options)
        dims = (shape,) if isinstance(shape, numbers.Integral) else shape
        if (not isinstance(dims, (tuple, list)) or not dims
                or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
                           for d in dims)):
            raise CompileError(f"the shape of {name!r} must be a whole number >= 1 or a tuple "
                               f"of them, such as 3 or (2, 4); not {shape!r}")
        out[key] = tuple(int(d) for d in dims)
        size = element_count(out[key])
        if size > MAX_ELEMENTS:
            raise CompileError(f"the shape of {name!r}, {shape!r}, has {size:,} elements; "
                               f"adcompile unrolls an array into one scalar per element, and takes "
                               f"at most {MAX_ELEMENTS:,}")
    return out


def _resolve_wrt(options: Options, args: list[str], python_args: list[str]) -> list[str]:
    by_python = dict(zip(python_args, args))
    arg_set = set(args)
    if not options.wrt:
        raise CompileError(f"{options.spelled('wrt')} names no argument; name at least one, or "
                           "leave it out to differentiate with respect to every argument")
    wrt, seen = [], set()
    for w in options.wrt:
        name = check_identifier(w, "wrt", options)
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


