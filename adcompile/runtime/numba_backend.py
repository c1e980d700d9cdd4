"""Helpers that generated numba-backend modules carry with them.

The numba backend prints the math backend's code, so the scalar helpers are
the math backend's own, copied into the module and compiled with
``numba.njit`` like the generated functions, except four: ``_sign``,
``_relu``, ``_max`` and ``_min`` are written here again as conditional
expressions, with the same results as the math backend's (nan included),
which LLVM compiles to selects instead of branches.  A branch on the sign of
data is mispredicted half the time: the Huber gradient over 10^6 points took
2.5 times as long with the math backend's ``_sign``.  The op tests compare
both backends' helpers with SymPy.

A program that sums over data runs as one fused loop per function
(``codegen/fused.py``).  Its Python-level entry point uses ``_points`` to
turn array arguments into flat float64 arrays and scalars into floats, and
``_shaped`` to give the results the arguments' shape.  The loop reads each
argument with ``_at`` and ``_step``, which numba decides by type, once per
pattern of arrays and scalars, and uses ``_total`` to add the threads'
partial sums in thread order, so that, for a given number of threads, the
result is the same from run to run.
"""

import math

import numpy as np

from adcompile.runtime.math_backend import _sigmoid, _softplus

__all__ = ["_cbrt", "_max", "_min", "_relu", "_sigmoid", "_sign", "_softplus", "_points", "_shaped",
           "_elements", "_total", "_at", "_step"]

# helpers that run in Python, around the compiled loop (the others are compiled)
PYTHON_LEVEL = ("_points", "_shaped", "_elements")


def _elements(x, ndim):
    """An array argument's elements: its first ``ndim`` axes are the declared shape, and
    each element is a value or an array of points (the trailing axes)."""
    array = np.asarray(x, dtype=np.float64)
    return list(array.reshape((-1,) + array.shape[ndim:]))


def _sign(x):
    return x if x != x else (1.0 if x > 0.0 else 0.0) - (1.0 if x < 0.0 else 0.0)


def _relu(x):
    return x if x > 0.0 or x != x else 0.0


def _max(a, b):
    return a if a >= b else (b if b > a else a + b)


def _min(a, b):
    return a if a <= b else (b if b < a else a + b)


def _cbrt(x):
    """The real cube root (numba compiles numpy's, not ``math.cbrt``)."""
    return np.cbrt(x)


def _points(*args):
    """The number of points, the arrays' shape, and the arguments for the loop: each array
    as a flat float64 array, each scalar as a float.  A TypeError for what is not numbers
    (None, text), and for a masked array, whose mask the loop would not see."""
    shape = None
    flat = []
    for k, value in enumerate(args):
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(
                f"argument {k + 1} is a masked array, and the numba backend would read it "
                "without its mask: pass x.compressed() or x.filled(value)"
            )
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"argument {k + 1} is not a number or an array of numbers: {value!r}"
            )
        array = array.astype(np.float64, copy=False)
        if array.ndim:
            if shape is not None and array.shape != shape:
                raise ValueError(
                    f"argument {k + 1} has shape {array.shape}, another {shape}: "
                    "the numba backend's arrays must all have one shape "
                    "(scalars are used at every point)"
                )
            shape = array.shape
        array = np.ascontiguousarray(array.reshape(-1)) if array.ndim else float(array)
        flat.append(array)
    shape = () if shape is None else shape
    return math.prod(shape), shape, tuple(flat)


def _at(values, i):
    """An argument at point ``i``: element ``i`` of an array, or the scalar itself.  numba
    decides ``isinstance`` when it compiles, so the test costs nothing at run time."""
    if isinstance(values, float):
        return values
    return values[i]


def _step(values):
    """1 for an array argument, 0 for a scalar: a constant in each compiled loop."""
    return 0 if isinstance(values, float) else 1


def _shaped(results, shape):
    """The fused loop's results in the arguments' shape.

    The loop returns each result as a flat array, then flags saying which are arrays;
    the others are one number each."""
    *values, arrays = results
    return [v.reshape(shape) if a else float(v[0]) for v, a in zip(values, arrays)]


def _total(column, over_points):
    """The threads' partial sums added in thread order, or (for a value that does not vary
    over the points) the first thread's copy of it."""
    if not over_points:
        return column[0]
    total = 0.0
    for part in column:
        total += part
    return total
