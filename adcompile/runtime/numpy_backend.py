"""Helpers that generated numpy-backend modules carry with them.

Like ``runtime_math``, their source is copied verbatim into a generated
module, which imports only numpy.  They use only numpy functions that
dispatch through NumPy's protocols (``__array_ufunc__`` and
``__array_function__``), so the same module runs on dask arrays.
"""

import math

import numpy as np


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(np.greater_equal(x, 0.0), 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _relu(x):
    return np.where(np.greater(x, 0.0), x, np.where(np.less_equal(x, 0.0), 0.0, x))


def _erf(x):
    scalar = np.vectorize(math.erf, otypes=[float])
    if hasattr(x, "map_blocks"):
        return x.map_blocks(scalar, dtype=float)
    return scalar(x) if np.ndim(x) else math.erf(x)


def _erfc(x):
    scalar = np.vectorize(math.erfc, otypes=[float])
    if hasattr(x, "map_blocks"):
        return x.map_blocks(scalar, dtype=float)
    return scalar(x) if np.ndim(x) else math.erfc(x)


def _sum_to(d, x, like):
    """The adjoint ``d``, standing for an array of the shape ``d`` broadcast with
    ``like``, summed down to the shape of ``x``."""
    shape = np.shape(x)
    if np.shape(d) == shape and (np.ndim(like) == 0 or np.shape(like) == shape):
        return d
    region = np.broadcast_shapes(np.shape(d), np.shape(like), shape)
    if np.ndim(d) == 0:  # a constant over the region: summing is multiplying
        factor = int(np.prod(region)) // max(int(np.prod(shape)), 1)
        return d * factor + np.zeros_like(x) if shape else d * factor
    d = np.broadcast_to(d, region)
    extra = len(region) - len(shape)
    if extra:
        d = np.sum(d, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(d)[i] != 1)
    return np.sum(d, axis=axes, keepdims=True) if axes else d


def _broadcast(d, like):
    """``d`` given the shape of ``d`` and ``like`` broadcast together: an elementwise
    derivative has the shape of all the arguments, even where it is a constant."""
    if np.shape(d) == np.broadcast_shapes(np.shape(d), np.shape(like)):
        return d
    return d + np.zeros_like(like, dtype=float)


def _size(x):
    """The number of elements (``np.size``, which Dask arrays do not implement)."""
    return int(np.prod(np.shape(x)))
