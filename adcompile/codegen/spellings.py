"""Spellings: how one backend writes one op, as data the printer dispatches on.

A backend's table (``backends.py``) maps an op's name to one of these, in the
manner of SymPy's printers, which pick a method by the type of what they
print.  Each kind says what the printed text looks like, so no printer has to
look inside a template string:

* ``Call("sin")``: a function of the backend's module (``sin(t0)`` or ``np.sin(t0)``).
* ``Helper("_relu")``: a function from the backend's runtime module, whose
  source is copied into the generated module.
* ``Infix("+")``: ``t0 + t1``.
* ``Prefix("-")``: ``-t0``.
* ``Power("pow")``: ``t0**3`` for a small integral constant exponent, else
  ``pow(t0, t1)``.  Python's ``**`` silently returns a complex number for a
  negative base and a fractional exponent, so it is printed only where that
  cannot happen.
* ``Reduced()``: a reduction, which the fused loop prints (the numba backend).
* ``UNAVAILABLE``: the backend cannot print the op (a reduction on the math
  backend, which works on one point at a time).

An op missing from a table is spelled ``Call(op name)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    function: str


@dataclass(frozen=True)
class Helper:
    name: str


@dataclass(frozen=True)
class Infix:
    symbol: str


@dataclass(frozen=True)
class Prefix:
    symbol: str


@dataclass(frozen=True)
class Power:
    function: str  # the call for any other exponent
    symbol: str = "**"

    @staticmethod
    def small_exponent(exponent: float | None) -> int | None:
        """The exponent as an int where ``**`` is safe to print, else None."""
        if exponent is not None and exponent.is_integer() and abs(exponent) <= 2**31:
            return int(exponent)
        return None


@dataclass(frozen=True)
class Choice:
    """``where(c, a, b)`` on a backend that runs one point at a time: an ``if``/``else``
    block computing only the branch taken, or ``a if c else b`` when neither branch
    has anything of its own to compute."""


@dataclass(frozen=True)
class Reduced:
    """A reduction (``sum``, ``mean``) or its adjoint's helpers, on a backend that prints
    a program with reductions as a fused loop over the points (``codegen/fused.py``)."""


@dataclass(frozen=True)
class Unavailable:
    pass


UNAVAILABLE = Unavailable()

Spelling = Call | Helper | Infix | Prefix | Power | Choice | Reduced | Unavailable
