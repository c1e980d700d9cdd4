"""Vectors: the n-variable Rosenbrock written with ``x[i]`` and a sum over a range.

Rows: the sparse Hessian at n = 1,000 (build, CPython's ``compile()`` of the
result, lines, per call against SciPy's hand-written ``rosen_hess`` on the
same ndarray); the dense Hessian at n = 1,000 for comparison; the gradient and
the sparse Hessian at n = 10,000 (with the memory the build took); the
gradient traced from ``scipy.optimize.rosen`` itself at n = 10,000; and
``grad_rosen`` called with an ndarray against the same call with a list.

Each row runs in a forked child under the time cap (the dense Hessian once
wrote a million lines in 9.6 s).  The child reports each stage as it ends, so
a row that runs out of time still shows how far it got.  Memory is the growth
of the child's peak RSS (``resource.getrusage``) over its RSS when it started.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
import traceback

import numpy as np

import adcompile

from .anchors import per_call

ROSEN = "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"
NAME = "rosen"


def point(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1.5, 2.0, n)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def slow_per_call(fn, args: list) -> float:
    """``per_call``, except that a call of over 0.2 s is timed as the best of three."""
    start = time.perf_counter()
    fn(*args)
    once = time.perf_counter() - start
    if once < 0.2:
        return per_call(fn, args)
    return min([once] + [_timed(fn, args) for _ in range(2)])


def _timed(fn, args: list) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def build(expr, n: int, report, hessian: bool | str = False):
    """Compile ``expr`` with ``shapes={"x": n}``; report build, CPython compile, lines, memory."""
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    module = adcompile.compile(expr, NAME, shapes={"x": n}, hessian=hessian, format=False)
    source = module.source
    build_s = time.perf_counter() - start
    grown = _peak_rss_mb() - baseline
    report(build_s=build_s, lines=source.count("\n"), memory_mb=grown)
    start = time.perf_counter()
    compile(source, "<bench>", "exec")
    report(cpython_compile_s=time.perf_counter() - start)
    start = time.perf_counter()
    module.module  # noqa: B018 -- the import a first call would pay
    report(import_s=time.perf_counter() - start)
    return module


def matches_scipy(module, x: np.ndarray, sparse: bool) -> bool:
    from scipy.optimize import rosen, rosen_der, rosen_hess

    value, gradient, hessian = module.hessian_rosen(x)
    if sparse:
        rows, cols, values = hessian
        dense = np.zeros((len(x), len(x)))
        np.add.at(dense, (np.asarray(rows), np.asarray(cols)), np.asarray(values, dtype=float))
    else:
        dense = np.asarray(hessian, dtype=float)
    return bool(np.isclose(value, rosen(x)) and np.allclose(gradient, rosen_der(x))
                and np.allclose(dense, rosen_hess(x)))


def hessian_row(n: int, report, hessian: bool | str) -> None:
    """Build with a Hessian, check it against SciPy, time it against ``rosen_hess``."""
    from scipy.optimize import rosen_hess

    module = build(ROSEN, n, report, hessian=hessian)
    x = point(n)
    report(matches_scipy=matches_scipy(module, x, hessian == "sparse"))
    report(call_s=slow_per_call(module.hessian_rosen, [x]))
    report(scipy_call_s=slow_per_call(rosen_hess, [x]))


def sparse_row(n: int, report) -> None:
    hessian_row(n, report, "sparse")


def dense_row(n: int, report) -> None:
    hessian_row(n, report, True)


def gradient_row(n: int, report) -> None:
    build(ROSEN, n, report)


def traced_row(n: int, report) -> None:
    from scipy.optimize import rosen

    build(rosen, n, report)


def ndarray_row(n: int, report) -> None:
    """``grad_rosen`` on an ndarray against the same call on a list (math backend)."""
    module = adcompile.compile(ROSEN, NAME, shapes={"x": n}, format=False)
    x = point(n)
    as_list = x.tolist()
    module.grad_rosen(x)  # the first call imports the module
    report(ndarray_call_s=per_call(module.grad_rosen, [x]),
           list_call_s=per_call(module.grad_rosen, [as_list]))


def _staged_child(row, n: int, connection) -> None:
    try:
        row(n, lambda **stage: connection.send(("stage", stage)))
        connection.send(("ok", None))
    except BaseException as exc:  # reported in the table, not raised
        connection.send((type(exc).__name__, traceback.format_exc(limit=3)))


def run_staged(row, n: int, cap: float) -> dict:
    """``row(n, report)`` in a forked child given ``cap`` seconds: every stage it reported,
    and ``status`` ("ok", "timeout", "crashed" or the exception's name)."""
    context = mp.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_staged_child, args=(row, n, child))
    process.start()
    child.close()
    deadline = time.perf_counter() + cap
    result: dict = {"n": n, "status": "timeout"}
    while True:
        left = deadline - time.perf_counter()
        if left <= 0 or not parent.poll(left):
            process.kill()
            break
        try:
            kind, payload = parent.recv()
        except EOFError:  # the child died without a word
            result["status"] = "crashed"
            break
        if kind == "stage":
            result.update(payload)
            continue
        result["status"] = kind
        if kind != "ok":
            result["error"] = payload
        break
    process.join()
    return result


def measure(quick: bool, cap: float) -> dict:
    """Every row; ``quick`` divides the sizes by ten."""
    small, large = (100, 1_000) if quick else (1_000, 10_000)
    rows = {
        "sparse": (sparse_row, small), "dense": (dense_row, small),
        "gradient_large": (gradient_row, large), "traced_large": (traced_row, large),
        "sparse_large": (sparse_row, large), "ndarray": (ndarray_row, small),
    }
    return {"quick": quick, "cap_s": cap, **{key: run_staged(row, n, cap) for key, (row, n) in rows.items()}}


# --- the table ---
def _cell(result: dict, key: str, form: str, scale: float = 1.0) -> str:
    if key in result:
        value = result[key]
        if isinstance(value, bool):
            return "yes" if value else "NO"
        return format(value * scale if scale != 1.0 else value, form)
    if result["status"] == "ok":
        return ""
    return f"gave up ({result['status']})"


def _ratio(result: dict, top: str, bottom: str) -> float | None:
    if top in result and bottom in result:
        return result[top] / result[bottom]
    return None


LABELS = {
    "sparse": "sparse Hessian", "dense": "dense Hessian", "gradient_large": "gradient (text)",
    "traced_large": "gradient (traced `scipy.optimize.rosen`)", "sparse_large": "sparse Hessian",
}


def table(data: dict) -> list[str]:
    head = ["row", "build s", "CPython compile s", "import s", "lines", "lines / n",
            "build memory MB", "matches SciPy", "call ms", "SciPy `rosen_hess` ms", "call / SciPy"]
    sizes = " Quick run: sizes divided by ten (the targets are for n = 1,000 and 10,000)." * data["quick"]
    lines = [f"Vectors: Rosenbrock `{ROSEN}`, `format=False`; children capped at {data['cap_s']:.0f} s."
             + sizes, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in LABELS.items():
        r = data[key]
        ratio = _ratio(r, "call_s", "scipy_call_s")
        lines_per_n = {"lines_per_n": r["lines"] / r["n"]} if "lines" in r else {}
        cells = [f"{label}, n={r['n']:,}", _cell(r, "build_s", ".3f"),
                 _cell(r, "cpython_compile_s", ".3f"), _cell(r, "import_s", ".3f"),
                 _cell(r, "lines", ","), _cell({**r, **lines_per_n}, "lines_per_n", ",.1f"),
                 _cell(r, "memory_mb", ",.0f"), _cell(r, "matches_scipy", ""),
                 _cell(r, "call_s", ",.3f", 1e3), _cell(r, "scipy_call_s", ",.3f", 1e3),
                 "" if ratio is None else f"{ratio:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    nd = data["ndarray"]
    as_array, as_list = _cell(nd, "ndarray_call_s", ",.1f", 1e6), _cell(nd, "list_call_s", ",.1f", 1e6)
    lines += ["", f"`grad_rosen` per call at n={nd['n']:,}, math backend: "
                  f"ndarray {as_array} µs, list {as_list} µs."]
    return lines


def targets(data: dict) -> list[str]:
    """Issue 16's performance targets, met or missed, with their figures."""
    out: list[str] = []

    def verdict(ok: bool | None, text: str) -> None:
        out.append(f"- {'met' if ok else 'MISSED'}: {text}")

    sparse, large = data["sparse"], data["sparse_large"]
    n = sparse["n"]
    verdict(sparse.get("build_s", 1e9) <= 1,
            f"sparse Hessian at n={n:,} builds in <= 1 s ({_cell(sparse, 'build_s', '.2f')} s)")
    if "lines" in sparse and "lines" in large:
        small_per, large_per = sparse["lines"] / n, large["lines"] / large["n"]
        verdict(large_per <= 1.1 * small_per,
                f"sparse Hessian file is O(n) lines ({small_per:.1f} lines per variable at n={n:,}, "
                f"{large_per:.1f} at n={large['n']:,})")
    else:
        verdict(False, "sparse Hessian file is O(n) lines (not measured: "
                       f"{sparse['status']}, {large['status']})")
    ratio = _ratio(sparse, "call_s", "scipy_call_s")
    verdict(ratio is not None and ratio <= 1 and sparse.get("matches_scipy"),
            f"hessian_rosen per call <= SciPy's rosen_hess at n={n:,}, and equal to it "
            f"({'n/a' if ratio is None else f'{ratio:.2f}x'})")
    gradient = data["gradient_large"]
    both = gradient["status"] == "ok" and large["status"] == "ok"
    verdict(both, f"gradient and sparse Hessian compile at n={large['n']:,} "
                  f"({_cell(gradient, 'build_s', '.1f')} s, {_cell(gradient, 'memory_mb', ',.0f')} MB; "
                  f"{_cell(large, 'build_s', '.1f')} s, {_cell(large, 'memory_mb', ',.0f')} MB)")
    traced_s, text_s = data["traced_large"].get("build_s"), gradient.get("build_s")
    traced = None if traced_s is None or text_s is None else traced_s / text_s
    verdict(traced is not None and traced <= 2,
            f"tracing scipy.optimize.rosen <= 2x compiling the text at n={large['n']:,} "
            f"({'n/a' if traced is None else f'{traced:.2f}x'})")
    nd = _ratio(data["ndarray"], "ndarray_call_s", "list_call_s")
    verdict(nd is not None and nd <= 1.3,
            f"grad_rosen on an ndarray <= 1.3x the same call on a list at n={data['ndarray']['n']:,} "
            f"({'n/a' if nd is None else f'{nd:.2f}x'})")
    return out
