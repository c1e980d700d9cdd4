"""Helpers that generated math-backend modules carry with them.

Each function here is two things at once: the value rule that adcompile uses
to fold constants and to evaluate graphs, and the source text that is copied
verbatim into a generated module that needs it (via ``inspect.getsource``).
So the semantics of these ops are written exactly once.  They may use only
the ``math`` module and arithmetic, because that is all a generated module has.
"""

import math


def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x):
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def _relu(x):
    if x > 0.0:
        return x
    if x <= 0.0:
        return 0.0
    return x


def _sign(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return x


def _max(a, b):
    if a >= b:
        return a
    if b > a:
        return b
    return a + b


def _min(a, b):
    if a <= b:
        return a
    if b < a:
        return b
    return a + b


def _as_floats(x):
    """An array argument's values as Python floats (nested lists for a matrix), so that
    arithmetic on them runs at Python float speed; a list or tuple is used as it is."""
    return x.astype(float).tolist() if hasattr(x, "astype") else x
