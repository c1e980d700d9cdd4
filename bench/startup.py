"""How fast adcompile starts and builds: the CLI as a whole process, and the API
build with and without black.

- CLI start-up: the wall time of ``adcompile "x*y" -o <tmp>/f.py`` as a child
  process, against ``python -c "import math"`` (the floor any Python command
  pays), each the best of five.
- Build without black: ``adcompile.compile`` of the seed's model nested 20 deep
  with ``format=False`` and with ``format=True`` (black), each the best of five.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import adcompile

from .cases import nested

RUNS = 5


def best_wall_time(command: list[str], runs: int = RUNS) -> float:
    """The shortest wall time of ``runs`` runs of ``command`` (which must succeed)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def cli_command() -> list[str]:
    """The installed ``adcompile`` script next to this Python, else ``python -m adcompile``."""
    script = os.path.join(os.path.dirname(sys.executable), "adcompile")
    return [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "adcompile"]


def best_build_time(text: str, wrt: list[str], format: bool, runs: int = RUNS) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        adcompile.compile(text, wrt=wrt, format=format)
        best = min(best, time.perf_counter() - start)
    return best


def measure() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        cli = best_wall_time([*cli_command(), "x*y", "-o", os.path.join(folder, "f.py")])
    python = best_wall_time([sys.executable, "-c", "import math"])
    case = nested(20)
    plain = best_build_time(case.text, case.wrt, format=False)
    try:
        black = best_build_time(case.text, case.wrt, format=True)
    except Exception as exc:  # black not installed: reported, not raised
        black, black_error = None, f"{type(exc).__name__}: {exc}"
    else:
        black_error = None
    return {"cli_s": cli, "python_s": python, "cli_ratio": cli / python,
            "build_plain_s": plain, "build_black_s": black, "black_error": black_error}


def table(row: dict) -> list[str]:
    lines = ["Start-up and build (each the best of five):", "",
             "| measure | value |", "|---|---|",
             f"| `adcompile \"x*y\" -o f.py`, whole process | {row['cli_s'] * 1e3:,.0f} ms |",
             f"| `python -c \"import math\"`, whole process | {row['python_s'] * 1e3:,.0f} ms |",
             f"| CLI / bare Python | {row['cli_ratio']:.1f} |",
             f"| API build, nested N=20, `format=False` | {row['build_plain_s'] * 1e3:,.1f} ms |"]
    if row["build_black_s"] is None:
        lines.append(f"| API build, nested N=20, `format=True` | {row['black_error']} |")
    else:
        ratio = row["build_black_s"] / row["build_plain_s"]
        lines.append(f"| API build, nested N=20, `format=True` (black) | "
                     f"{row['build_black_s'] * 1e3:,.1f} ms ({ratio:.1f}× without) |")
    return lines


def targets(row: dict) -> list[str]:
    ok = row["cli_ratio"] <= 6
    return [f"- {'met' if ok else 'MISSED'}: CLI start-up <= 6x `python -c \"import math\"` "
            f"({row['cli_ratio']:.1f}x)"]
