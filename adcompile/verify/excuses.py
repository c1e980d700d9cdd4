"""Points where no double-precision code can be held to SymPy's numbers.

The check evaluates the program as written (nothing folded or rewritten) at a
point, with Python's floats, to tell three such cases apart:

* ``overflows``: a step overflows a double.  The point is screened out before
  SymPy is asked, since its exact value there can be astronomically large and
  mpmath evaluating, say, ``sin`` of it would exhaust memory.
* "range": a step leaves a double's range (overflows, or underflows towards
  0), found by evaluating the steps in SymPy's unbounded floats.
* "singular": a step's own local derivative is undefined there (``hypot`` at
  the origin, ``sqrt`` at 0), or the step sits on its op's branch cut.

``compare.py`` counts such points as skipped, with their reason, where the
generated code raises or disagrees.
"""

from __future__ import annotations

from adcompile.frontend.program import Program
from adcompile.ir.graph import evaluate, reachable
from adcompile.ir.node import APPLY, Node
from adcompile.ir.numbers import local_derivatives
from adcompile.verify.sympy_out import leaves_double_range


def overflows(program: Program, point: dict[str, float]) -> bool:
    """Whether a step overflows a double at ``point``.  With every variable nan, only
    a constant step can (``pow(2 + sin(1e5), 1e15)``), and SymPy can exhaust memory
    on such a step; elsewhere mpmath can (``sin`` of SymPy's exact 10**(10**46000))."""
    try:
        evaluate(program.outputs, point)
    except OverflowError:
        return True
    except (ArithmeticError, ValueError, TypeError, KeyError):
        pass
    return False


def has_singular_step(outputs: list[Node], point: dict[str, float]) -> bool:
    """Whether some step's own local derivative is undefined at ``point``
    (``hypot`` or ``atan2`` at the origin, ``sqrt`` at 0): reverse mode
    multiplies through it, even where the whole expression is smooth
    (``log(1 + hypot(u, v)**2)`` at u = v = 0).  A step on its op's branch
    cut counts too (``atan2(0*x, x)`` for x < 0: -0.0 gives -pi)."""
    try:
        values = evaluate(outputs, point)
    except (ArithmeticError, ValueError, KeyError):
        return False
    for node in reachable(outputs):
        if node.kind == APPLY:
            args = [values[a.id] for a in node.args]
            if node.op.branch_cut is not None and node.op.branch_cut(*args):
                return True
            try:
                local_derivatives(node, args, values[node.id])
            except (ArithmeticError, ValueError):
                return True
    return False


def excuse(program: Program, point: dict[str, float]) -> str | None:
    """Why the code may fail or disagree at ``point``: "range" (a step leaves a
    double's range), "singular" (a step's derivative is undefined, or it is on a
    branch cut), or None for no reason."""
    if leaves_double_range(program.outputs, point):
        return "range"
    return "singular" if has_singular_step(program.outputs, point) else None
