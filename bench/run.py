"""adcompile's benchmark: one run, one table, written to bench/results/.

    python3 tasks.py bench [--quick] [--cap SECONDS]

For each row it measures adcompile's build (parse through printed source,
without black), CPython's own ``compile()`` of the result, the op counts of
``f`` and ``grad_f``, and their per-call times; then each anchor that is
installed, in a child process under a time cap, checked to compute the same
value and gradient.  The nested model is also swept over more depths than the
table shows, for the figure written next to the Markdown.  Only ratios inside
this one run are meaningful: absolute times on shared machines drift.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.util
import json
import os
import platform
import sys
import time

import adcompile
from adcompile.fileio import write_atomic

from . import arrays, branches, numba_backend, plot, startup, vectors
from .anchors import CONFIGS, agrees, available, flatten, per_call, run_anchor
from .cases import Case, all_cases

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def op_count(source: str, function: str) -> int:
    """Arithmetic operations and calls in one generated function."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call, ast.AugAssign))
                       for n in ast.walk(node))
    raise KeyError(function)


def measure_adcompile(case: Case) -> dict:
    build = float("inf")
    for _ in range(3):  # the best of three when a build is short, as the anchors' calls are
        start = time.perf_counter()
        module = adcompile.compile(case.text, wrt=case.wrt, format=False)  # explicit: no black
        build = min(build, time.perf_counter() - start)
        if build > 0.5:
            break
    source = module.source
    start = time.perf_counter()
    compile(source, "<bench>", "exec")
    cpython = time.perf_counter() - start
    args = [case.point[a] for a in module.ARGS]
    f_call = per_call(module.f, args)
    grad_call = per_call(module.grad_f, args)
    ops_f, ops_grad = op_count(source, "f"), op_count(source, "grad_f")
    numba_call = numba_grad_call(case, args) if ops_grad <= NUMBA_MAX_OPS else None
    return {
        "numba_grad_call_s": numba_call,
        "build_s": build, "cpython_compile_s": cpython, "lines": source.count("\n"),
        "ops_f": ops_f, "ops_grad": ops_grad, "op_ratio": ops_grad / ops_f,
        "f_call_s": f_call, "grad_call_s": grad_call, "call_ratio": grad_call / f_call,
        "result": flatten(module.grad_f(*args)),
    }


NUMBA_MAX_OPS = 2_000  # numba's LLVM compile grows with the function; larger rows skip it


def numba_grad_call(case: Case, args: list) -> float | None:
    """``grad_f`` per call from Python on the numba backend (compiled before timing)."""
    if importlib.util.find_spec("numba") is None:
        return None
    module = adcompile.compile(case.text, wrt=case.wrt, backend="numba", format=False)
    module.grad_f(*args)
    return per_call(module.grad_f, args)


def measure_anchors(case: Case, anchors: list[str], cap: float, given_up: dict,
                    expected: list[float]) -> dict:
    """Each anchor's figures; ``wrong`` when its value and gradient differ from ``expected``."""
    results = {}
    for name in anchors:
        if case.nested_depth and given_up.get(name, 1e18) < case.nested_depth:
            results[name] = {"status": f"skipped (failed at N={given_up[name]:,})"}
            continue
        status, data = run_anchor(name, case, cap)
        result = (data or {}).pop("result", None)
        if status == "ok" and not agrees(result, expected):
            status = "wrong"
        results[name] = {"status": status, **(data or {})}
        if status not in ("ok", "n/a") and case.nested_depth:
            given_up[name] = min(given_up.get(name, 1e18), case.nested_depth)
    return results


def run(cases: list[Case], cap: float) -> list[dict]:
    anchors = available()
    given_up: dict[str, int] = {}
    rows = []
    for case in cases:
        print(f"bench: {case.name} ...", file=sys.stderr, flush=True)
        row = {"row": case.name, "params": len(case.wrt), "nested_depth": case.nested_depth,
               "in_table": case.in_table, **measure_adcompile(case)}
        row["anchors"] = measure_anchors(case, anchors, cap, given_up, row.pop("result"))
        rows.append(row)
    return rows


# --- the table ---
def _us(seconds) -> str:
    return "" if seconds is None else f"{seconds * 1e6:,.1f}"


def _anchor_cell(result: dict | None, key: str) -> str:
    if result is None:
        return ""
    if result["status"] != "ok":
        return "n/a" if result["status"] == "n/a" else result["status"]
    value = result.get(key)
    return "" if value is None else (_us(value) if key == "grad_call" else f"{value:.2f}")


def table(rows: list[dict]) -> list[str]:
    """adcompile's own figures for each row of the table."""
    head = ["row", "build s", "CPython compile s", "lines", "ops f", "ops grad", "ops ratio",
            "f µs", "grad_f µs", "grad/f"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["row"], f"{r['build_s']:.3f}", f"{r['cpython_compile_s']:.3f}", f"{r['lines']:,}",
                 f"{r['ops_f']:,}", f"{r['ops_grad']:,}", f"{r['op_ratio']:.2f}",
                 _us(r["f_call_s"]), _us(r["grad_call_s"]), f"{r['call_ratio']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _sympy_ratio(row: dict) -> float | None:
    sympy = row["anchors"].get("SymPy")
    return row["grad_call_s"] / sympy["grad_call"] if sympy and sympy["status"] == "ok" else None


def anchor_table(rows: list[dict], anchors: list[str]) -> list[str]:
    """Value + gradient per call of adcompile and of each anchor, and the anchors' builds."""
    builders = [a for a in anchors if a in ("SymPy", "symengine", "JAX", "CasADi")]
    head = ["row", "adcompile grad_f µs"] + [f"{a} µs" for a in anchors] + ["grad_f / SymPy"]
    head += [f"{a} build s" for a in builders]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ratio = _sympy_ratio(r)
        cells = [r["row"], _us(r["grad_call_s"])]
        cells += [_anchor_cell(r["anchors"].get(a), "grad_call") for a in anchors]
        cells += ["" if ratio is None else f"{ratio:.2f}"]
        cells += [_anchor_cell(r["anchors"].get(a), "build") for a in builders]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + ["", "Anchors: " + "; ".join(f"{a}: {CONFIGS[a]}" for a in anchors) + "."]


def targets(rows: list[dict]) -> list[str]:
    """Each target of the optimizer issue, met or missed, with its figure."""
    out = []

    def verdict(ok: bool, text: str) -> None:
        out.append(f"- {'met' if ok else 'MISSED'}: {text}")

    worst_call = max(rows, key=lambda r: r["call_ratio"])
    verdict(worst_call["call_ratio"] <= 3,
            f"grad_f/f call time <= 3 on every row (worst {worst_call['call_ratio']:.2f}, "
            f"{worst_call['row']})")
    worst_ops = max(rows, key=lambda r: r["op_ratio"])
    verdict(worst_ops["op_ratio"] <= 3,
            f"grad_f/f op count <= 3 on every row (worst {worst_ops['op_ratio']:.2f}, {worst_ops['row']})")
    against = [(_sympy_ratio(r), r["row"]) for r in rows if _sympy_ratio(r) is not None]
    if against:
        worst = max(against)
        verdict(worst[0] <= 0.9, f"grad_f per call <= 0.9x SymPy lambdify(cse=True, modules=\"math\") "
                                 f"where SymPy finishes (worst {worst[0]:.2f}x, {worst[1]})")
    for r in rows:
        if r["row"] == "nested N=20" and r["anchors"].get("SymPy", {}).get("status") == "ok":
            speedup = r["anchors"]["SymPy"]["build"] / r["build_s"]
            verdict(speedup >= 100, f"build >= 100x faster than SymPy diff + lambdify(cse=True) "
                                    f"at N=20 ({speedup:,.0f}x)")
        if r["row"] == "nested N=10,000":
            ratio = r["build_s"] / r["cpython_compile_s"]
            verdict(ratio <= 2, f"build <= 2x CPython's compile() at N=10,000 ({ratio:.2f}x)")
    return out


def report(rows: list[dict], cap: float, array_row: dict | None = None,
           vector_data: dict | None = None, branch_row: dict | None = None,
           startup_row: dict | None = None, plot_note: str | None = None,
           numba_row: dict | None = None) -> str:
    anchors = available()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown = [r for r in rows if r.get("in_table", True)]
    lines = [f"adcompile {adcompile.__version__} benchmark, {stamp}; Python {platform.python_version()} "
             f"on {platform.machine()}, {os.cpu_count()} cores; anchors capped at {cap:.0f} s.", ""]
    lines += table(shown) + ["", "Value and gradient per call, against the anchors:", ""]
    lines += anchor_table(shown, anchors) + ["", "Targets:"] + targets(shown)
    if startup_row is not None:
        lines += ["", *startup.table(startup_row), "", "Targets:", *startup.targets(startup_row)]
    if plot_note is not None:
        lines += ["", plot_note + "."]
    if array_row is not None:
        lines += ["", *arrays.table(array_row), "", "Targets:", *array_targets(array_row)]
    if vector_data is not None:
        lines += ["", *vectors.table(vector_data), "", "Targets:", *vectors.targets(vector_data)]
    if branch_row is not None:
        lines += ["", *branches.table(branch_row), "", "Targets:", *branches.targets(branch_row)]
    if numba_row is not None:
        lines += ["", *numba_backend.table(numba_row), "", "Targets:", *numba_backend.targets(numba_row)]
    return "\n".join(lines) + "\n"


def array_targets(row: dict) -> list[str]:
    out = [f"- {'met' if row['ratio'] <= 3 else 'MISSED'}: grad_loss/loss <= 3 ({row['ratio']:.2f})"]
    auto = row["anchors"].get("autograd", {})
    if auto.get("status") == "ok":
        speedup = auto["grad_call"] / row["grad_s"]
        out.append(f"- {'met' if speedup >= 2 else 'MISSED'}: >= 2x faster than autograd ({speedup:.2f}x)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small rows only (a smoke test)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds allowed per anchor")
    parser.add_argument("--points", type=int, default=1_000_000,
                        help="data points for the numpy-backend rows (default: 10^6)")
    ns = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)  # SymPy's own limit would fail it sooner than its time
    rows = run(all_cases(ns.quick), ns.cap)
    print("bench: CLI start-up and build without black ...", file=sys.stderr, flush=True)
    startup_row = startup.measure()
    print("bench: UDL data loss on arrays ...", file=sys.stderr, flush=True)
    array_row = arrays.measure(10_000 if ns.quick else ns.points, ns.cap)
    print("bench: vectors (Rosenbrock with x[i]) ...", file=sys.stderr, flush=True)
    vector_data = vectors.measure(ns.quick, ns.cap)
    print("bench: branches (Huber regression with where) ...", file=sys.stderr, flush=True)
    branch_row = branches.measure(10_000 if ns.quick else ns.points, ns.cap)
    print("bench: the numba backend (scalar, fused loops, from njit code) ...", file=sys.stderr, flush=True)
    numba_row = numba_backend.measure(10_000 if ns.quick else ns.points, ns.cap)
    os.makedirs(RESULTS, exist_ok=True)
    name = "quick" if ns.quick else "latest"
    plot_note = plot.write_plot(rows, os.path.join(RESULTS, f"{name}.png"),
                                f"adcompile {adcompile.__version__}: value + gradient per call, "
                                f"one run ({datetime.date.today()}, {os.cpu_count()} cores)")
    text = report(rows, ns.cap, array_row, vector_data, branch_row, startup_row, plot_note,
                  numba_row)
    print(text)
    write_atomic(os.path.join(RESULTS, f"{name}.md"), text)
    write_atomic(os.path.join(RESULTS, f"{name}.json"),
                 json.dumps({"version": adcompile.__version__, "rows": rows, "arrays": array_row,
                             "vectors": vector_data, "branches": branch_row, "startup": startup_row,
                             "numba": numba_row},
                            indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
