"""The benchmark's figure: gradient time per call against model size.

x: the depth N of the seed's model nested N layers deep (``bench/cases.py``);
y: seconds per call of value-and-gradient; both axes logarithmic.  One line per
series in ``SERIES``: adcompile's backends, then the anchors.  A new backend is
one more ``Series`` whose ``seconds`` reads its figure from a row of the run.
matplotlib is optional: without it the plot is skipped with a note.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Series:
    label: str
    seconds: Callable[[dict], float | None]  # a row of the run -> seconds per call, or None
    style: str = "-o"


def anchor_seconds(name: str) -> Callable[[dict], float | None]:
    def seconds(row: dict) -> float | None:
        result = row.get("anchors", {}).get(name, {})
        return result.get("grad_call") if result.get("status") == "ok" else None

    return seconds


SERIES = [
    Series("adcompile, math backend", lambda row: row.get("grad_call_s"), "-o"),
    Series("adcompile, numba backend", lambda row: row.get("numba_grad_call_s"), "-*"),
    Series('SymPy lambdify(cse=True, modules="math")', anchor_seconds("SymPy"), "--s"),
    Series('symengine Lambdify(cse=True, backend="llvm")', anchor_seconds("symengine"), "--^"),
    Series("JAX jit(value_and_grad)", anchor_seconds("JAX"), "--v"),
    Series("PyTorch autograd.grad", anchor_seconds("PyTorch"), "--d"),
    Series("CasADi Function", anchor_seconds("CasADi"), "--x"),
]


def points(rows: list[dict], series: Series) -> tuple[list[int], list[float]]:
    """(depths, microseconds) of the nested rows where ``series`` has a figure, by depth."""
    pairs = sorted((row["nested_depth"], series.seconds(row) * 1e6) for row in rows
                   if row.get("nested_depth") and series.seconds(row) is not None)
    return [n for n, _ in pairs], [us for _, us in pairs]


def write_plot(rows: list[dict], path: str, title: str) -> str:
    """Draw the figure to ``path`` (PNG); returns a one-line note of what was done."""
    if importlib.util.find_spec("matplotlib") is None:
        return "plot skipped: matplotlib is not installed"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=110)
    for series in SERIES:
        depths, micros = points(rows, series)
        if depths:
            axes.plot(depths, micros, series.style, label=series.label, markersize=4)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("N: the seed's model nested N layers deep (2N parameters)")
    axes.set_ylabel("value + gradient, µs per call")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="major", alpha=0.4)
    axes.grid(True, which="minor", alpha=0.12)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return f"Figure: {os.path.basename(path)}, next to this file"
