"""Array parameters and array results in generated code.

The graph sees only scalars; an array argument is one parameter of the
generated function whose elements are unpacked on the function's first line,

    x_0, x_1, x_2 = _as_floats(x)

(``_as_floats`` turns a NumPy array into Python floats on the math backend, so
that no later operation pays for NumPy scalars; the numpy backend unpacks the
leading axes as they are, and the trailing axes stay data).  A derivative in
an argument's shape is an ``ArrayValue``: printed as a (nested) list on the
math backend and as ``np.array([...])`` on the numpy backend.  A list too long
for its line is named first (``d_x = [...]``), one item per line, as black
lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from adcompile.codegen.layout import INDENT, LINE, ListText, layout_collection, tuple_text
from adcompile.frontend.program import nest
from adcompile.ir.node import Node


@dataclass(frozen=True)
class ArrayParam:
    """An array parameter: one name in the signature, its elements (row-major) unpacked."""

    name: str
    shape: tuple[int, ...]
    elements: tuple[Node, ...]


class ArrayValue(tuple):
    """A returned array: its items, which are rows (``ArrayValue``) for a matrix; ``title``
    names it where it is too long for the return line (``d_W = [...]``)."""

    def __new__(cls, items=(), title: str | None = None):
        value = super().__new__(cls, items)
        value.title = title
        return value


@dataclass(frozen=True)
class ModuleConstant:
    """A returned module-level constant, by name (``HESSIAN_ROWS``)."""

    name: str


def leaves(structure) -> list:
    """The nodes and numbers of a nested tuple, left to right (depth <= 3)."""
    out, stack = [], [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def definition_lines(fn, names: dict[int, str]) -> list[str]:
    """A generated function's ``def`` line and docstring: an array parameter goes by its
    own name (``w``), a scalar one by its node's (``fn`` is a ``FunctionSpec``)."""
    params = [p.name if isinstance(p, ArrayParam) else names[p.id] for p in fn.params]
    lines = layout_collection(f"def {fn.name}(", params, "", "):", is_tuple=False)
    return lines + [f'{INDENT}"""{fn.doc}"""']


def length_check(param: ArrayParam) -> list[str]:
    """``if len(w) != 3: raise ValueError(...)``: a message where compiled code's unpacking
    would fail with none (the first axis; numba raises only constant messages)."""
    return [f"{INDENT}if len({param.name}) != {param.shape[0]}:", _shape_error(param)]


def element_check(param: ArrayParam, first: str) -> list[str]:
    """After unpacking, on compiled code: is an element a number, not an array (an
    argument with more axes than declared would be computed elementwise, in the wrong
    shape)?  numba decides ``isinstance`` when it compiles; it costs nothing when it runs."""
    return [f"{INDENT}if not isinstance({first}, (float, int)):", _shape_error(param)]


def _shape_error(param: ArrayParam) -> str:
    shape = "x".join(str(n) for n in param.shape)
    return f'{INDENT * 2}raise ValueError("{param.name} must have shape {shape} (SHAPES)")'


def unpack_lines(param: ArrayParam, names: list[str], source: str) -> list[str]:
    """``x_0, x_1 = source``: the elements' names, nested by the shape, assigned from the
    parameter's value; one item per line (in brackets) when the line is too long."""
    items = nest(names, param.shape)
    if len(items) >= 2:
        line = f"{INDENT}{', '.join(tuple_text(i) for i in items)} = {source}"
        if len(line) <= LINE:
            return [line]
    return layout_collection("(", items, INDENT, f") = {source}")


def hoist_lists(text, take_name) -> tuple[list[str], object]:
    """Name every returned list first (``d_x = [...]``, after its title where it has one),
    so that the return line is short;
    the text returned refers to the names (``np.array(d_x)`` where the list is wrapped)."""
    lines: list[str] = []

    def hoist(item):
        if isinstance(item, ListText):
            name = take_name(item.title)
            lines.extend(layout_collection(f"{name} = [", item, INDENT, "]", is_tuple=False))
            return f"{item.wrap}({name})" if item.wrap else name
        if isinstance(item, list):
            return [hoist(x) for x in item]
        return item

    return lines, hoist(text)
