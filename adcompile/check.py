"""The differential check: generated code against SymPy, at random points.

The reference is built independently of the code generator: the expression is
parsed again into a graph with no simplification, converted to SymPy, and
differentiated with ``sympy.diff``.  Reference values are computed with
mpmath at 40 significant digits, at exactly the doubles the generated code is
called with.

A point is skipped where SymPy's value is not a finite real number (outside
the domain).  A single quantity is skipped at a point where it is badly
conditioned: where moving the inputs by one part in 10^10 moves it by more
than one part in 10^5 (near a kink, a pole or a cancellation), or where SymPy's
own expression, evaluated with a double's 53-bit precision instead of 40
digits, already misses by more than the tolerance (``cos(1.0025**1e5)``,
``log(1 + y**4)`` for tiny y): no double-precision code can be expected to
agree with it there to 1e-9.  Both counts are reported.

The error of a quantity is ``|ours - reference| / max(|reference|, floor)``,
and the check passes when every error is at most ``TOLERANCE`` (1e-9).  The
floor is ``FLOOR`` (1e-4) times the point's scale, the largest of 1 and the
magnitudes of the value and every derivative there.  Below it a quantity is
"near zero": double arithmetic cannot give it 1e-9 relative accuracy (think
of ``1 - tanh(u)**2`` for large u), so its absolute error is what counts,
at most 1e-13 of the scale.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import threading
from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

TOLERANCE = 1e-9
FLOOR = 1e-4  # relative to the point's scale; below it errors are measured absolutely
PERTURBATION = 1e-10
ILL_CONDITIONED = 1e-5
DIGITS = 40
_RANGES = ((-2.5, 2.5), (0.05, 2.5), (-1.0, 1.0))


@dataclass
class Row:
    """The worst disagreement found for one quantity (value or a derivative)."""

    label: str
    worst_abs: float = 0.0
    worst_rel: float = 0.0
    worst_point: dict | None = None
    compared: int = 0
    conditioning_skips: int = 0


@dataclass
class CheckReport:
    """What ``adcompile.check`` found.  ``bool(report)`` is ``report.ok``."""

    expression: str
    rows: list[Row]
    points: int
    skipped_domain: int
    seed: int
    tolerance: float = TOLERANCE
    problems: list[str] = field(default_factory=list)
    skipped_range: int = 0  # points where a step of the expression exceeds a double's range
    skipped_singular: int = 0  # points where a step's own derivative is undefined

    @property
    def ok(self) -> bool:
        compared = all(r.compared > 0 for r in self.rows)
        return compared and not self.problems and all(r.worst_rel <= self.tolerance for r in self.rows)

    @property
    def worst_rel(self) -> float:
        return max((r.worst_rel for r in self.rows), default=0.0)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return format_report(self)


class SymPyTimeout(Exception):
    """SymPy took longer than the check's time limit to build its reference."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Interrupt SymPy after ``seconds`` (POSIX main thread only; else no limit).

    SymPy's own differentiation swells on some expressions (the very problem
    adcompile solves); a check should say so, not hang.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def interrupt(signum, frame):
        raise SymPyTimeout(f"SymPy did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    # again every second: an exception raised where Python only reports it (a garbage
    # collector callback) is lost, and a one-shot timer would leave SymPy running
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def reference_failed(expression: str, labels: list[str], seed: int, exc: BaseException) -> CheckReport:
    """A failed report for when SymPy itself could not build the reference."""
    rows = [Row(label) for label in labels]
    problem = f"SymPy could not build a reference ({type(exc).__name__}: {exc})"
    return CheckReport(expression, rows, 0, 0, seed, problems=[problem])


def format_report(report: CheckReport) -> str:
    lines = [f"check: {report.expression}" if len(report.expression) < 200
             else f"check: an expression of {len(report.expression):,} characters"]
    lines.append(
        f"against SymPy at {report.points} random points (seed {report.seed}); "
        f"{report.skipped_domain} points outside the domain were skipped"
        + (f", and {report.skipped_range} where a step exceeds a double's range"
           if report.skipped_range else "")
        + (f", and {report.skipped_singular} where a step's own derivative is undefined"
           if report.skipped_singular else ""))
    width = max([len(r.label) for r in report.rows] + [8])
    lines.append(f"{'quantity':<{width}}  {'worst abs err':>13}  {'worst rel err':>13}  compared")
    for r in report.rows:
        note = f" ({r.conditioning_skips} ill-conditioned skipped)" if r.conditioning_skips else ""
        lines.append(f"{r.label:<{width}}  {r.worst_abs:>13.2e}  {r.worst_rel:>13.2e}  {r.compared:>8}{note}")
    for r in report.rows:
        if r.worst_rel > report.tolerance and r.worst_point:
            at = ", ".join(f"{k}={v!r}" for k, v in r.worst_point.items())
            lines.append(f"  {r.label} is worst at {at}")
        if r.compared == 0:
            lines.append(f"  {r.label} could not be compared at any point")
    lines += ["  " + p for p in report.problems]
    verdict = "PASS" if report.ok else "FAIL"
    lines.append(f"{verdict}: worst relative error {report.worst_rel:.2e} "
                 f"(tolerance {report.tolerance:.0e}; floor {FLOOR:.0e} of each point's scale)")
    return "\n".join(lines)


class RealAbs(sp.Function):
    """``Abs`` for an argument known to be real, as every argument is here.

    SymPy cannot always prove that (is ``log(2 + sin(z))`` real?), and then
    differentiates ``Abs`` through ``re`` and ``im``; this keeps its real rule,
    d|u| = sign(u) du.
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_number:
            return sp.Abs(arg)
        return None

    def fdiff(self, argindex=1):
        return RealSign(self.args[0])


class RealSign(sp.Function):
    """``sign`` of a real argument: its derivative is 0 away from 0."""

    @classmethod
    def eval(cls, arg):
        if arg.is_number:
            return sp.sign(arg)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _heaviside(x, at_zero=0.5):
    """SymPy's ``Heaviside(x, H0)`` for a real mpmath number (rewriting it as a
    Piecewise instead costs SymPy a third of a second per expression)."""
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(at_zero)


class _ReferencePrinter(MpmathPrinter):
    """SymPy's mpmath printer with every factor and power in parentheses: its own
    loses them in unevaluated nested powers (``x/(1/u)`` printed as ``x/1/u``)."""

    def _print_Mul(self, expr):
        return "*".join(f"({self._print(a)})" for a in expr.args)

    def _print_Pow(self, expr, rational=False):
        base = f"mpf({expr.base})" if expr.base.is_Integer else self._print(expr.base)  # not 7**-1 in floats
        return f"({base})**({self._print(expr.exp)})"


def _atan2(y, x):
    """SymPy's ``atan2``: undefined at (0, 0), where mpmath's gives 0."""
    if not x and not y:
        raise ValueError("atan2(0, 0) is undefined")
    return mpmath.atan2(y, x)


_FUNCTIONS = {"RealAbs": mpmath.fabs, "RealSign": mpmath.sign, "Heaviside": _heaviside, "atan2": _atan2}
_MPMATH = [_FUNCTIONS, "mpmath"]
_PRINTER = _ReferencePrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                              "user_functions": {name: name for name in _FUNCTIONS}})


def for_real_arguments(expr: sp.Expr) -> sp.Expr:
    """Swap Abs and sign for their real-argument versions before ``diff``."""
    if expr.has(sp.Abs):
        expr = expr.replace(sp.Abs, RealAbs)
    return expr.replace(sp.sign, RealSign) if expr.has(sp.sign) else expr


def prepare_for_evaluation(expr: sp.Expr) -> sp.Expr:
    """Make SymPy's output evaluable by mpmath away from kinks (Heaviside is
    evaluated by ``_heaviside``)."""
    return expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero) if expr.has(sp.DiracDelta) else expr


class Reference:
    """SymPy quantities (a value, derivatives, ...) evaluated with mpmath."""

    def __init__(self, quantities: list[sp.Expr], symbols: list[sp.Symbol]):
        self.quantities = quantities
        self.functions = [_evaluator(symbols, q) for q in quantities]

    def evaluate(self, point: list[float], double: bool = False) -> list[float | None]:
        """Each quantity at ``point``, or None where it is not finite and real.

        ``double`` evaluates with a double's 53-bit significand instead of 40
        digits: how well any double-precision code could possibly do.
        """
        out = []
        with mpmath.workprec(53) if double else mpmath.workdps(DIGITS):
            args = [mpmath.mpf(x) for x in point]
            for fn in self.functions:
                out.append(_real(fn, args))
        return out


def _evaluator(symbols: list[sp.Symbol], quantity: sp.Expr):
    """An mpmath function for ``quantity``; one that always fails if SymPy found
    it infinite or undefined everywhere (``x/0`` is ``zoo*x``) or cannot print it."""
    # The user's names become _a0, _a1, ...: a variable called sin or mpf must
    # not meet mpmath's functions in lambdify's namespace.
    safe = [sp.Symbol(f"_a{i}", real=True) for i in range(len(symbols))]
    with sp.evaluate(False):
        quantity = quantity.xreplace(dict(zip(symbols, safe)))
    quantity = prepare_for_evaluation(quantity)
    if quantity.has(sp.zoo, sp.nan):
        return _nowhere
    try:
        return sp.lambdify(safe, quantity, modules=_MPMATH, printer=_PRINTER, docstring_limit=0)
    except (KeyError, TypeError, NameError, SyntaxError):
        return _nowhere


def _nowhere(*args):
    raise ValueError("not finite anywhere")


def _real(fn, args) -> float | None:
    try:
        value = fn(*args)
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        return None
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > 1e-30 * max(1, abs(value.real)):
            return None
        value = value.real
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and abs(value) < 1e300 else None


def sample_point(rng: random.Random, n: int) -> list[float]:
    return [rng.uniform(*rng.choice(_RANGES)) for _ in range(n)]


def _perturb(rng: random.Random, point: list[float]) -> list[float]:
    return [x * (1.0 + PERTURBATION * rng.choice((-1.0, 1.0))) for x in point]


def compare(
    expression: str,
    reference: Reference,
    ours,
    names: list[str],
    labels: list[str],
    points: int = 20,
    seed: int = 0,
    excuse=lambda point: None,
    overflows=lambda point: False,
) -> CheckReport:
    """Compare ``ours(point) -> [value, d1, d2, ...]`` with the reference.

    Where the generated code raises but SymPy's numbers are finite,
    ``excuse(point)`` may explain it: "range" (a step of the expression leaves
    a double's range: overflows, or underflows towards 0) or "singular" (a
    step's own derivative is undefined there); such points are skipped and
    counted.  A point where the code's numbers disagree is skipped the same way
    if a step there leaves a double's range, is singular or is on a branch cut.
    ``overflows(point)`` screens a point first: where a step overflows a
    double, SymPy's exact value can be astronomically large, and mpmath
    evaluating, say, ``sin`` of it would exhaust memory.
    """
    rng = random.Random(seed)
    rows = [Row(label) for label in labels]
    report = CheckReport(expression, rows, 0, 0, seed)
    attempts = 0
    while report.points < points and attempts < 50 * points:
        attempts += 1
        point = sample_point(rng, len(names))
        at = dict(zip(names, point))
        if overflows(at):
            report.skipped_range += 1
            continue
        expected = reference.evaluate(point)
        if expected[0] is None:
            report.skipped_domain += 1
            continue
        report.points += 1
        nearby = reference.evaluate(_perturb(rng, point))
        try:
            got = ours(point)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            if None in expected:  # SymPy finds a derivative undefined there too
                report.points -= 1
                report.skipped_domain += 1
            elif not _skip(report, excuse(at)):
                report.problems.append(f"the generated code raised {type(exc).__name__}: {exc} at {at}")
            continue
        floor = FLOOR * max([1.0] + [abs(e) for e in expected if e is not None])
        # numbers that disagree where a step underflows to 0 (atan2(erfc(1e5), erfc(1e5))
        # is atan2(0, 0)) or sits on a branch cut (the sign of a zero picked the side)
        agree = [e is None or _agrees(v, e, floor) for v, e in zip(got, expected)]
        if not all(agree) and _skip(report, excuse(at)):
            continue
        rough: list = []  # the reference in double precision, computed only if needed
        for k, (row, e, near, value) in enumerate(zip(rows, expected, nearby, got)):
            if not agree[k] and not rough:
                rough = reference.evaluate(point, double=True)
            _record(row, e, near, rough[k] if rough else e, value, at, floor)
    return report


def _skip(report: CheckReport, reason: str | None) -> bool:
    """Take a compared point back as skipped for ``reason`` ("range" or
    "singular"), if there is one."""
    if reason is None:
        return False
    report.points -= 1
    if reason == "range":
        report.skipped_range += 1
    else:
        report.skipped_singular += 1
    return True


def _agrees(value: float, expected: float, floor: float) -> bool:
    return abs(value - expected) <= TOLERANCE * max(abs(expected), floor)


def _record(row: Row, expected, nearby, rough, value: float, point: dict, floor: float) -> None:
    if expected is None:
        return
    scale = max(abs(expected), floor)
    if nearby is None or abs(nearby - expected) > ILL_CONDITIONED * scale:
        row.conditioning_skips += 1
        return
    if rough is None or abs(rough - expected) > TOLERANCE * scale:
        row.conditioning_skips += 1  # rounding alone moves it: no double code can agree
        return
    row.compared += 1
    error = abs(value - expected) if math.isfinite(value) else math.inf
    if error / scale > row.worst_rel or (error / scale == row.worst_rel and row.worst_point is None):
        row.worst_rel, row.worst_point = error / scale, point
    row.worst_abs = max(row.worst_abs, error)
