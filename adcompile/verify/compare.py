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

SymPy builds the reference in a thread with a deep stack (``run_deep``), since it
recurses through the expression, within a time limit.  Where it cannot build one,
the report is inconclusive: nothing was compared, and it neither agrees nor
disagrees.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import numbers
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import mpmath
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from adcompile.errors import CompileError

T = TypeVar("T")

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
    no_reference: bool = False  # SymPy could not build a reference: nothing was compared

    @property
    def ok(self) -> bool:
        compared = all(r.compared > 0 for r in self.rows)
        return compared and not self.no_reference and not self.disagrees

    @property
    def disagrees(self) -> bool:
        """Whether some quantity was compared and disagrees, or a problem was found."""
        return bool(self.problems) and not self.no_reference or any(
            r.worst_rel > self.tolerance for r in self.rows)

    @property
    def inconclusive(self) -> bool:
        """Nothing disagrees, but something could not be compared: SymPy could not build
        a reference, or some quantity could not be compared at any point (the expression
        is undefined, or out of double range, or ill-conditioned wherever it was tried)."""
        return self.no_reference or (not self.disagrees and not self.ok)

    @property
    def status(self) -> str:
        """``"agrees"``, ``"disagrees"``, or ``"inconclusive"`` (SymPy could not build a
        reference, so nothing was compared)."""
        return "inconclusive" if self.inconclusive else "agrees" if self.ok else "disagrees"

    @property
    def worst_rel(self) -> float:
        return max((r.worst_rel for r in self.rows), default=0.0)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return format_report(self)


class SymPyTimeout(Exception):
    """SymPy took longer than the check's time limit to build its reference."""


# SymPy recurses through an expression to differentiate, print, compare or hash it: a chain
# 60 steps deep takes a few thousand Python frames, past the default limit of 1,000 and
# near what the main thread's 8 MiB stack holds.  So the reference is built in a thread of
# its own with a deep stack, and the recursion limit is raised while it runs, to one frame
# per 4 KiB of that stack (SymPy's frames take well under 1 KiB of it).
DEEP_STACK = 512 * 2**20
_STACK_PER_FRAME = 4096
_DEEP = threading.Lock()  # one deep thread at a time: the recursion limit is process-wide


def run_deep(work: Callable[[], T], seconds: float | None) -> T:
    """``work()``, run in a thread with a deep stack; what it raises is raised here.

    Past ``seconds`` (None: no limit) it is interrupted with ``SymPyTimeout``, and
    again every quarter of a second until it stops (SymPy may catch one, or it may land
    in a garbage-collector callback, where Python only reports it), and
    ``SymPyTimeout`` is raised here.  The recursion limit is raised while it runs:
    in CPython 3.11 that limit is process-wide, so another thread deep in recursion
    meanwhile meets the end of its stack instead of a RecursionError.
    """
    with _DEEP:
        worker = _Worker(work)
        thread, stack = _start_deep(worker.run)
        try:
            with _deep_recursion(stack):
                worker.started.set()
                fired = _wait(thread, worker, seconds)
        except BaseException:  # Ctrl-C: stop SymPy as well
            worker.interrupt(thread)
            raise
        finally:
            worker.started.set()
    if fired and worker.error is not None:
        raise SymPyTimeout(f"SymPy did not finish within {seconds:g} s") from None
    if worker.error is not None:
        raise worker.error
    return worker.result


@contextlib.contextmanager
def _deep_recursion(stack: int):
    """The recursion limit for a thread with ``stack`` bytes of stack, and time-outs
    that land where Python can only report them dropped (the next one will follow)."""
    limit, report = sys.getrecursionlimit(), sys.unraisablehook

    def unraisable(info) -> None:
        if not isinstance(info.exc_value, SymPyTimeout) and info.exc_type is not SymPyTimeout:
            report(info)

    sys.setrecursionlimit(max(limit, stack // _STACK_PER_FRAME))
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = report
        sys.setrecursionlimit(limit)


class _Worker:
    """The work and its outcome; ``interrupt`` reaches it only while it runs."""

    def __init__(self, work: Callable):
        self.work = work
        self.result = self.error = None
        self.started = threading.Event()
        self.running = True
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            self.started.wait()
            try:
                self.result = self.work()
            except BaseException as exc:  # handed to the waiting thread
                self.error = exc
            with self.lock:
                self.running = False
        except BaseException:  # SymPyTimeout arriving as the work ended
            self.running = False

    def interrupt(self, thread: threading.Thread) -> None:
        with self.lock:
            if self.running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                           ctypes.py_object(SymPyTimeout))


def _start_deep(target: Callable) -> tuple[threading.Thread, int]:
    """A daemon thread running ``target`` with the deepest stack it can have, up to
    ``DEEP_STACK``, and that stack's size."""
    stack = DEEP_STACK
    while True:
        previous = threading.stack_size()
        try:
            threading.stack_size(stack)
            thread = threading.Thread(target=target, name="adcompile-sympy", daemon=True)
            thread.start()
            return thread, stack
        except (RuntimeError, ValueError, MemoryError):  # no room for such a stack
            if stack <= 8 * 2**20:
                raise
            stack //= 4
        finally:
            threading.stack_size(previous)


def _wait(thread: threading.Thread, worker: _Worker, seconds: float | None) -> bool:
    """Wait for ``thread`` to end, interrupting it past ``seconds``; whether it was."""
    deadline = None if seconds is None else time.monotonic() + seconds
    fired = False
    while thread.is_alive():
        if deadline is not None and time.monotonic() >= deadline:
            worker.interrupt(thread)
            fired = True
        left = 0.25 if fired else 1.0 if deadline is None else deadline - time.monotonic()
        thread.join(min(max(left, 0.0), 1.0))
    return fired


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


def reference_failed(expression: str, labels: list[str], seed: int, exc: BaseException) -> CheckReport:
    """An inconclusive report for when SymPy itself could not build the reference."""
    rows = [Row(label) for label in labels]
    problem = f"SymPy could not build a reference ({type(exc).__name__}: {_reason(exc)})"
    return CheckReport(expression, rows, 0, 0, seed, problems=[problem], no_reference=True)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the expression is nested too deeply for SymPy"
    return str(exc) or "no message"


def format_report(report: CheckReport) -> str:
    lines = [f"check: {report.expression}" if len(report.expression) < 200
             else f"check: an expression of {len(report.expression):,} characters"]
    if report.no_reference:
        lines += report.problems
        lines.append("INCONCLUSIVE: nothing was compared, so the check neither agrees nor disagrees")
        return "\n".join(lines)
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
    if report.inconclusive:
        lines.append("INCONCLUSIVE: nothing compared disagrees, but some quantity could not be "
                     "compared at any point")
        return "\n".join(lines)
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
    """SymPy quantities (a value, derivatives, ...) evaluated with mpmath.

    Building one differentiates nothing, but prints and compiles every quantity,
    which recurses through SymPy's expressions: run it where the stack is deep
    (``run_deep``).
    """

    def __init__(self, quantities: list[sp.Expr], symbols: list[sp.Symbol]):
        self.quantities = quantities
        # The user's names become _a0, _a1, ...: a variable called sin or mpf must
        # not meet mpmath's functions in lambdify's namespace.
        safe = [sp.Symbol(f"_a{i}", real=True) for i in range(len(symbols))]
        renamed = dict(zip(symbols, safe))
        position = {s: i for i, s in enumerate(safe)}
        self.functions = [_evaluator(q, renamed, position) for q in quantities]

    def evaluate(self, point: list[float], double: bool = False) -> list[float | None]:
        """Each quantity at ``point``, or None where it is not finite and real.

        ``double`` evaluates with a double's 53-bit significand instead of 40
        digits: how well any double-precision code could possibly do.
        """
        out = []
        with mpmath.workprec(53) if double else mpmath.workdps(DIGITS):
            args = [mpmath.mpf(x) for x in point]
            for fn, used in self.functions:
                out.append(_real(fn, [args[i] for i in used]))
        return out


def _evaluator(quantity: sp.Expr, renamed: dict, position: dict) -> tuple[Callable, list[int]]:
    """An mpmath function for ``quantity`` and the positions of the arguments it takes (only
    the variables it has: lambdify's cost grows with the number of arguments).  The function
    always fails if SymPy found the quantity infinite or undefined everywhere (``x/0`` is
    ``zoo*x``) or cannot print it."""
    with sp.evaluate(False):
        quantity = quantity.xreplace(renamed)
    quantity = prepare_for_evaluation(quantity)
    if quantity.has(sp.zoo, sp.nan):
        return _nowhere, []
    used = sorted(quantity.free_symbols & position.keys(), key=position.__getitem__)
    try:
        function = sp.lambdify(used, quantity, modules=_MPMATH, printer=_PRINTER, docstring_limit=0,
                               cse=_shallow_steps)
    except (KeyError, TypeError, NameError):
        return _nowhere, []
    return function, [position[s] for s in used]


# Printing recurses through an expression, and Python's parser refuses more than 200
# nested parentheses: every step this many levels above the last named one is named.
_MOST_LEVELS = 12


def _shallow_steps(expr: sp.Expr) -> tuple[list[tuple[sp.Symbol, sp.Expr]], sp.Expr]:
    """``expr`` as named steps, for lambdify's ``cse`` argument: each subexpression that
    occurs more than once is computed once, and no step is more than ``_MOST_LEVELS``
    deep.  The derivative of a chain n deep repeats the chain's steps n times: named, it
    is evaluated in time proportional to n, not n**2.

    Unlike ``sympy.cse`` nothing is rewritten or re-evaluated (``x - x`` stays as written),
    and nothing is taken out of a Piecewise, whose branches are evaluated only where
    their condition holds.
    """
    order, uses = _subexpressions(expr)
    steps: list[tuple[sp.Symbol, sp.Expr]] = []
    written: dict[sp.Basic, sp.Basic] = {}
    levels: dict[sp.Basic, int] = {}
    with sp.evaluate(False):
        for e in order:
            args = [written.get(a, a) for a in e.args] if _opens(e) else []
            written[e] = e.func(*args) if args and args != list(e.args) else e
            levels[e] = 1 + max((levels.get(a, 0) for a in e.args), default=0) if args else 1
            if isinstance(e, sp.Expr) and args and e is not expr and (
                    uses[e] > 1 or levels[e] >= _MOST_LEVELS):
                name = sp.Symbol(f"_s{len(steps)}", real=True)
                steps.append((name, written[e]))
                written[e], levels[e] = name, 0
    return steps, written[expr]


def _opens(e: sp.Basic) -> bool:
    """Whether ``_shallow_steps`` looks inside ``e``."""
    return bool(e.args) and not e.is_Atom and not isinstance(e, sp.Piecewise)


def _subexpressions(expr: sp.Expr) -> tuple[list[sp.Basic], dict[sp.Basic, int]]:
    """The distinct subexpressions of ``expr``, arguments before the expressions using
    them, and how many times each is used; walked with a stack, not recursion."""
    uses: dict[sp.Basic, int] = {expr: 1}
    order: list[sp.Basic] = []
    opened: set[sp.Basic] = set()
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if ready:
            order.append(e)
        elif e not in opened:
            opened.add(e)
            stack.append((e, True))
            for a in e.args if _opens(e) else ():
                uses[a] = uses.get(a, 0) + 1
                if a not in opened:
                    stack.append((a, False))
    return order, uses


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
