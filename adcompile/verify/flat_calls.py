"""The check's view of a module with array arguments: every argument a scalar.

The check compares scalars: SymPy's reference has one symbol per element
(``x[0]``, ``x[1]``, ...), and the plan reads gradients, Hessians and products
as flat lists over the WRT scalars.  ``FlatCalls`` calls the module's functions
as a user does (each array argument packed in its shape, as a list), and
flattens what they return (a gradient in an argument's shape, a Hessian as a
matrix) back to that flat view.  Nothing here knows how the code was printed:
it reads the results the way a user would.
"""

from __future__ import annotations

from adcompile.frontend.program import Shape, element_count, element_indices, element_name, nest


def flat_names(names: list[str], shapes: dict[str, Shape]) -> list[str]:
    """Each argument's name, or its elements' names (``x[0]``, ...) for an array."""
    out = []
    for name in names:
        shape = shapes.get(name)
        out += [name] if shape is None else [element_name(name, i) for i in element_indices(shape)]
    return out


def flatten(value) -> list[float]:
    """A number, a (nested) list or tuple, or an ndarray, as a flat list, row-major."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def pack(flat: list[float], shapes: list[Shape | None]) -> list:
    """Consecutive scalars grouped per argument: a scalar, or a nested list in its shape."""
    out, at = [], 0
    for shape in shapes:
        chunk = list(flat[at: at + element_count(shape)])
        at += element_count(shape)
        out.append(chunk[0] if shape is None else nest(chunk, shape))
    return out


class FlatCalls:
    """The module's functions, called with flat scalars and returning flat lists."""

    def __init__(self, module, name: str, arg_shapes: list, wrt_shapes: list,
                 sparse: tuple[bool, bool] = (False, False)):
        self.module, self.name = module, name
        self.arg_shapes, self.wrt_shapes = arg_shapes, wrt_shapes
        self.sparse_hessian, self.sparse_jacobian = sparse
        self.n_wrt = sum(element_count(s) for s in wrt_shapes)

    def _per_wrt(self, part) -> list[float]:
        parts = [part] if len(self.wrt_shapes) == 1 and self.wrt_shapes[0] else part
        return [x for p in parts for x in flatten(p)]

    def _matrix(self, rows) -> list[list[float]]:
        rows = rows.tolist() if hasattr(rows, "tolist") else rows
        return [flatten(row) for row in rows]

    def _dense(self, entries, n_rows: int) -> list[list[float]]:
        """COO ``(rows, cols, values)`` as a dense matrix with ``n_rows`` rows."""
        rows, cols, values = entries
        matrix = [[0.0] * self.n_wrt for _ in range(n_rows)]
        for i, j, x in zip(rows, cols, flatten(values)):
            matrix[i][j] += x
        return matrix

    def __getattr__(self, function: str):
        target = getattr(self.module, function)
        kind = function[: -len(self.name) - 1] if function != self.name else ""
        n_args = sum(element_count(s) for s in self.arg_shapes)

        def call(*flat):
            args = pack(flat[:n_args], self.arg_shapes)
            extra = list(flat[n_args:])
            if kind in ("jvp", "hvp"):
                extra = pack(extra, self.wrt_shapes)
            result = target(*args, *extra)
            return self._flatten_result(kind, result)

        return call

    def _flatten_result(self, kind: str, result):
        if kind == "grad":
            return result[0], self._per_wrt(result[1])
        if kind == "hessian":
            h = self._dense(result[2], self.n_wrt) if self.sparse_hessian else self._matrix(result[2])
            return result[0], self._per_wrt(result[1]), h
        if kind == "hvp":
            return result[0], self._per_wrt(result[1]), self._per_wrt(result[2])
        if kind == "jacobian":
            if self.sparse_jacobian:
                return result[0], self._dense(result[1], len(result[0]))
            return result[0], self._matrix(result[1])
        if kind == "vjp":
            return result[0], self._per_wrt(result[1])
        return result
