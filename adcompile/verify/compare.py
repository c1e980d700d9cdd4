"""Comparing generated code with the reference, at random points.

Points are drawn at random (seeded) from a few boxes around the origin.  A
point is skipped where SymPy's value is not a finite real number (outside the
domain).  A single quantity is skipped at a point where it is badly
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

import math
import random
from dataclasses import dataclass
from typing import Callable

from adcompile.verify.reference import Reference
from adcompile.verify.report import FLOOR, TOLERANCE, CheckReport, Row

PERTURBATION = 1e-10
ILL_CONDITIONED = 1e-5
_RANGES = ((-2.5, 2.5), (0.05, 2.5), (-1.0, 1.0))
SPAN = (min(lo for lo, _ in _RANGES), max(hi for _, hi in _RANGES))  # every coordinate's range

Ours = Callable[[list[float]], list[float]]  # the generated code's quantities at a point
Excuse = Callable[[dict], "str | None"]  # why the code may fail at a point: "range", "singular"


@dataclass(frozen=True)
class _Sample:
    """One point in the domain and SymPy's quantities there and a hair away."""

    point: list[float]
    at: dict[str, float]  # the point by argument name, for the report
    expected: list  # the reference's quantities (None where undefined)
    nearby: list  # the reference's quantities at a slightly perturbed point


def sample_point(rng: random.Random, n: int) -> list[float]:
    return [rng.uniform(*rng.choice(_RANGES)) for _ in range(n)]


def _perturb(rng: random.Random, point: list[float]) -> list[float]:
    return [x * (1.0 + PERTURBATION * rng.choice((-1.0, 1.0))) for x in point]


def compare(
    expression: str,
    reference: Reference,
    ours: Ours,
    names: list[str],
    labels: list[str],
    points: int = 20,
    seed: int = 0,
    excuse: Excuse = lambda point: None,
    overflows: Callable[[dict], bool] = lambda point: False,
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
    report = CheckReport(expression, [Row(label) for label in labels], 0, 0, seed, span=SPAN)
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
        _compare_at(report, reference, ours, excuse, _Sample(point, at, expected, nearby))
    return report


def _compare_at(report: CheckReport, reference: Reference, ours: Ours, excuse: Excuse,
                sample: _Sample) -> None:
    """Compare every quantity at one point in the domain (already counted as compared),
    or take the point back as skipped, or record that the code raised there."""
    point, at, expected, nearby = sample.point, sample.at, sample.expected, sample.nearby
    try:
        got = ours(point)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        if None in expected:  # SymPy finds a derivative undefined there too
            report.points -= 1
            report.skipped_domain += 1
        elif not _skip(report, excuse(at)):
            report.problems.append(f"the generated code raised {type(exc).__name__}: {exc} at {at}")
        return
    floor = FLOOR * max([1.0] + [abs(e) for e in expected if e is not None])
    # numbers that disagree where a step underflows to 0 (atan2(erfc(1e5), erfc(1e5))
    # is atan2(0, 0)) or sits on a branch cut (the sign of a zero picked the side)
    agree = [e is None or _agrees(v, e, floor) for v, e in zip(got, expected)]
    if not all(agree) and _skip(report, excuse(at)):
        return
    rough: list = []  # the reference in double precision, computed only if needed
    for k, (row, e, near, value) in enumerate(zip(report.rows, expected, nearby, got)):
        if not agree[k] and not rough:
            rough = reference.evaluate(point, double=True)
        _record(row, e, near, rough[k] if rough else e, value, at, floor)


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
