"""The differential check: generated code against SymPy, at random points.

The reference is built independently of the code generator: the input is
read again into a graph with no simplification (the caller's job: the
``Program`` given here), converted to SymPy, and differentiated with
``sympy.diff`` (``plan.py`` lists what is compared: every number each
generated function returns).  Reference values are computed with mpmath at 40
significant digits, at exactly the doubles the generated code is called with
(``reference.py``), and compared at random points (``compare.py``), with
points skipped where no double-precision code can agree (``excuses.py``).

SymPy builds the reference in a thread with a deep stack, since it recurses
through the expression, within a time limit (``deep.py``).  Where it cannot
build one, the report is inconclusive: nothing was compared, and it neither
agrees nor disagrees (``report.py``).

``check_program`` is the one entry point; ``adcompile.check`` and
``adcompile check`` reach it through ``api.check_module``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from adcompile.errors import CompileError
from adcompile.frontend.program import Program
from adcompile.verify.compare import compare
from adcompile.verify.deep import run_deep
from adcompile.verify.excuses import excuse, overflows
from adcompile.verify.flat_calls import FlatCalls, flat_names
from adcompile.verify.plan import Plan, call_all, plan
from adcompile.verify.reference import Reference
from adcompile.verify.report import CheckReport, nothing_compared, reference_failed
from adcompile.verify.sympy_out import symbol, to_sympy

OVERFLOWS_EVERYWHERE = ("a step with no variables in it exceeds a double's range, so the generated "
                        "code overflows at every point; nothing to compare (SymPy was not asked)")


@dataclass(frozen=True)
class Subject:
    """The generated functions under check, and what they were built for."""

    functions: Any  # a module (or anything) with NAME, grad_NAME, ... as attributes
    name: str  # NAME
    args: list[str]  # the user's argument names, in signature order
    wrt: list[str]  # the arguments differentiated by, in order
    hessian: bool = False  # whether there are hessian_NAME, jvp_NAME, hvp_NAME
    jvp: bool = False
    hvp: bool = False
    shapes: dict = field(default_factory=dict)  # array arguments' shapes (the rest are scalars)
    sparse_hessian: bool = False  # hessian_NAME returns COO (rows, cols, values)
    sparse_jacobian: bool = False

    def flat(self) -> "Subject":
        """The same functions seen with every argument a scalar and every matrix dense
        (``FlatCalls``)."""
        if not (self.shapes or self.sparse_hessian or self.sparse_jacobian):
            return self
        functions = FlatCalls(self.functions, self.name, [self.shapes.get(a) for a in self.args],
                              [self.shapes.get(w) for w in self.wrt],
                              sparse=(self.sparse_hessian, self.sparse_jacobian))
        return Subject(functions, self.name, flat_names(self.args, self.shapes),
                       flat_names(self.wrt, self.shapes), self.hessian, self.jvp, self.hvp)

    @property
    def flags(self) -> dict[str, bool]:
        return {"hessian": self.hessian, "jvp": self.jvp, "hvp": self.hvp}


def check_options(points: int, seed: int, timeout: float | None) -> float | None:
    """Raise ``CompileError`` for a check option out of range; the time limit to use
    (None for none: ``timeout`` None or infinite)."""
    if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 1:
        raise CompileError(f"points must be a whole number of at least 1, not {points!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise CompileError(f"seed must be a whole number, not {seed!r}")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise CompileError(f"timeout must be a number of seconds greater than 0 "
                           f"(or None for no limit), not {timeout!r}")
    return None if math.isinf(timeout) else float(timeout)


def check_program(program: Program, text: str, subject: Subject, points: int = 20, seed: int = 0,
                  timeout: float | None = 120.0) -> CheckReport:
    """Compare ``subject``'s functions with SymPy's reading of ``program`` (the input read
    with nothing folded or rewritten; ``text`` names it in the report): every function
    there is (value, gradient, Hessian, Jacobian, products), at ``points`` random points
    drawn with ``seed``.  SymPy gets ``timeout`` seconds (None: no limit) to build its
    reference."""
    time_limit = check_options(points, seed, timeout)
    subject = subject.flat()
    if overflows(program, {name: math.nan for name in program.variables}):
        return nothing_compared(text, ["value"], seed, OVERFLOWS_EVERYWHERE)
    try:
        quantities, vectors, reference = run_deep(
            lambda: build_reference(program, subject, seed), time_limit)
    except Exception as exc:  # SymPy's own failures (RecursionError, its internal bugs) and the time limit
        return reference_failed(text, ["value"], seed, exc)
    several = len(program.outputs) > 1

    def ours(point: list[float]) -> list[float]:
        results = call_all(subject.functions, subject.name, point, vectors, several, subject.flags)
        return [read(results) for read in quantities.readers]

    return compare(text, reference, ours, subject.args, quantities.labels, points=points, seed=seed,
                   excuse=lambda point: excuse(program, point),
                   overflows=lambda point: overflows(program, point))


def build_reference(program: Program, subject: Subject,
                    seed: int) -> tuple[Plan, dict[str, list[float]], Reference]:
    """What to compare, the vectors the products are called with, and SymPy's values
    of it all.  SymPy recurses: run this with ``run_deep``."""
    exprs = to_sympy(program.outputs)
    quantities, vectors = plan(exprs, [symbol(w) for w in subject.wrt], subject.wrt, subject.flags, seed)
    return quantities, vectors, Reference(quantities.exprs, [symbol(a) for a in subject.args])
