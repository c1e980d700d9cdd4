"""What the check found, and how it is printed.

A ``Row`` per quantity (the value, each derivative, ...) keeps the worst
disagreement seen and how many points were compared or skipped as badly
conditioned; a ``CheckReport`` holds the rows and the point counts, and
decides the verdict: it agrees, disagrees, or is inconclusive (something
could not be compared at all).  ``format_report`` is its printed form, which
``str(report)``, ``adcompile check`` and ``--check`` show.

The error of a quantity is ``|ours - reference| / max(|reference|, floor)``;
it agrees when that is at most ``TOLERANCE``.  The floor is ``FLOOR`` times
the point's scale (see ``compare.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOLERANCE = 1e-9
FLOOR = 1e-4  # relative to the point's scale; below it errors are measured absolutely


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
    backend: str = "math"  # the backend of the code that was checked
    span: tuple[float, float] | None = None  # where each coordinate of a point is drawn from

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


def nothing_compared(expression: str, labels: list[str], seed: int, problem: str) -> CheckReport:
    """An inconclusive report: ``problem`` kept anything from being compared."""
    rows = [Row(label) for label in labels]
    return CheckReport(expression, rows, 0, 0, seed, problems=[problem], no_reference=True)


def reference_failed(expression: str, labels: list[str], seed: int, exc: BaseException) -> CheckReport:
    """An inconclusive report for when SymPy itself could not build the reference."""
    problem = f"SymPy could not build a reference ({type(exc).__name__}: {_reason(exc)})"
    return nothing_compared(expression, labels, seed, problem)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the expression is nested too deeply for SymPy"
    return str(exc) or "no message"


def format_report(report: CheckReport) -> str:
    head = "check" if report.backend == "math" else f"check ({report.backend} backend)"
    lines = [f"{head}: {report.expression}" if len(report.expression) < 200
             else f"{head}: an expression of {len(report.expression):,} characters"]
    if report.no_reference:
        lines += report.problems
        lines.append("INCONCLUSIVE: nothing was compared, so the check neither agrees nor disagrees")
        return "\n".join(lines)
    lines.append(_counts_line(report))
    lines += _table(report.rows)
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


def _counts_line(report: CheckReport) -> str:
    """How many points were compared, and how many skipped for which reason."""
    return (
        f"against SymPy at {report.points} random points{_within(report.span)} (seed {report.seed}); "
        f"{report.skipped_domain} more drawn outside the domain were skipped"
        + (f", and {report.skipped_range} where a step exceeds a double's range"
           if report.skipped_range else "")
        + (f", and {report.skipped_singular} where a step's own derivative is undefined"
           if report.skipped_singular else ""))


def _within(span: tuple[float, float] | None) -> str:
    return "" if span is None else f" in [{span[0]:g}, {span[1]:g}]"


def _table(rows: list[Row]) -> list[str]:
    """One line per quantity: worst absolute and relative error, points compared."""
    width = max([len(r.label) for r in rows] + [8])
    lines = [f"{'quantity':<{width}}  {'worst abs err':>13}  {'worst rel err':>13}  compared"]
    for r in rows:
        note = f" ({r.conditioning_skips} ill-conditioned skipped)" if r.conditioning_skips else ""
        lines.append(f"{r.label:<{width}}  {r.worst_abs:>13.2e}  {r.worst_rel:>13.2e}  {r.compared:>8}{note}")
    return lines
