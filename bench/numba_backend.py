"""The numba backend: compiled scalar functions, and one fused loop over data.

Rows, each against its anchor in the same run:

* **data:** the UDL loss summed over 10^6 points, value and gradient in the 8
  parameters: ``--backend numba`` (one parallel fused loop) against
  ``--backend numpy``, autograd and ``jax.jit(value_and_grad)``; the relative
  difference from the numpy backend; and the peak memory one call adds to the
  process (Linux's resident high-water mark, reset after compiling, in a fresh
  interpreter per backend, since numba's allocations do not go through
  tracemalloc);
* **Huber:** the branches benchmark's Huber regression over 10^6 points on the
  numba backend: ``grad/f`` and ``jax.jit(value_and_grad)``;
* **scalar:** ``grad_f`` of the UDL model called from Python, numba against math;
* **from njit code:** 10^6 calls of ``grad_f`` inside a user's ``numba.njit``
  loop, against the same calls from a CPython loop over the math backend.

Each backend is timed by ``per_call`` (best of five ``timeit`` runs).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time

import numpy as np

import adcompile

from . import arrays, branches
from .anchors import per_call
from .cases import UDL, UDL_POINT

PARAMS = arrays.PARAMS
CALLS = 1_000_000


def _loss_modules():
    text = f"sum({UDL})"
    options = dict(name="loss", wrt=list(PARAMS), format=False)
    return (adcompile.compile(text, backend="numba", **options),
            adcompile.compile(text, backend="numpy", **options))


def data_row(points: int, cap: float) -> dict:
    import numba

    fused, vector = _loss_modules()
    x, y = arrays.data(points)
    args = [*PARAMS.values(), x, y]
    fused.grad_loss(*args)  # compiled (or loaded from numba's cache) before timing
    got, want = fused.grad_loss(*args), vector.grad_loss(*args)
    ours, theirs = np.array([got[0], *got[1]]), np.array([want[0], *want[1]])
    row = {"points": points, "threads": numba.get_num_threads(),
           "numba_loss_s": per_call(fused.loss, args), "numba_grad_s": per_call(fused.grad_loss, args),
           "numpy_grad_s": per_call(vector.grad_loss, args),
           "relative_difference": float(np.max(np.abs(ours - theirs) / np.abs(theirs))),
           "peak": {b: peak_memory(b, points) for b in ("numba", "numpy")}, "anchors": {}}
    for name, anchor, module in (("autograd", arrays.autograd_anchor, "autograd"),
                                 ("JAX", arrays.jax_anchor, "jax")):
        if importlib.util.find_spec(module) is not None:
            row["anchors"][name] = arrays.run_anchor(anchor, points, cap, [float(v) for v in theirs])
    return row


_PEAK_SCRIPT = """
import json, sys
import adcompile
from bench import arrays
from bench.cases import UDL


def high_water_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


m = adcompile.compile(f"sum({UDL})", backend=sys.argv[1], name="loss",
                      wrt=list(arrays.PARAMS), format=False)
x, y = arrays.data(int(sys.argv[2]))
m.grad_loss(*arrays.PARAMS.values(), x[:10], y[:10])  # compiled before measuring
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the peak so far (numba's compiler) is forgotten: it restarts here
before = high_water_kb()
m.grad_loss(*arrays.PARAMS.values(), x, y)
print(json.dumps({"added_bytes": (high_water_kb() - before) * 1024}))
"""


def peak_memory(backend: str, points: int) -> int:
    """What one ``grad_loss`` call adds to the peak resident set of a fresh process."""
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, backend, str(points)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["added_bytes"]


def huber_row(points: int, cap: float) -> dict:
    module = adcompile.compile(branches.HUBER, args="a,b,x,y", wrt="a,b", backend="numba",
                               format=False)
    x, y = branches.data(points)
    args = [branches.PARAMS["a"], branches.PARAMS["b"], x, y]
    module.grad_f(*args)
    f_s, grad_s = per_call(module.f, args), per_call(module.grad_f, args)
    return {"points": points, "f_s": f_s, "grad_s": grad_s, "ratio": grad_s / f_s,
            "matches": branches.matches(module.grad_f(*args), branches.huber_by_hand(*args)),
            "jax": branches._jax(points, cap)}


def scalar_rows() -> dict:
    import numba

    compiled, interpreted = adcompile.compile(UDL, backend="numba"), adcompile.compile(UDL)
    point = [UDL_POINT[name] for name in compiled.ARGS]
    grad_f = compiled.grad_f
    grad_f(*point)

    @numba.njit
    def many_calls(point, calls):
        total = 0.0
        for k in range(calls):
            value, grad = grad_f(point[0] + k * 1e-9, *point[1:])
            total += value + grad[0]
        return total

    tuple_point = tuple(point)
    many_calls(tuple_point, 10)
    started = time.perf_counter()
    many_calls(tuple_point, CALLS)
    njit_s = time.perf_counter() - started
    python_grad = interpreted.grad_f
    started = time.perf_counter()
    total = 0.0
    for k in range(CALLS):
        value, grad = python_grad(point[0] + k * 1e-9, *point[1:])
        total += value + grad[0]
    python_s = time.perf_counter() - started
    return {"numba_call_s": per_call(grad_f, point), "math_call_s": per_call(python_grad, point),
            "njit_loop_s": njit_s, "python_loop_s": python_s, "calls": CALLS}


def measure(points: int, cap: float) -> dict:
    if importlib.util.find_spec("numba") is None:
        return {"status": "numba not installed"}
    return {"status": "ok", "data": data_row(points, cap), "huber": huber_row(points, cap),
            "scalar": scalar_rows()}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def table(result: dict) -> list[str]:
    if result["status"] != "ok":
        return [f"numba backend: {result['status']}"]
    d, h, s = result["data"], result["huber"], result["scalar"]
    lines = [f"numba backend (`--backend numba`, {d['threads']} threads):", "",
             "| measure | numba | anchor | ratio |", "|---|---|---|---|",
             f"| UDL loss + gradient over {d['points']:,} points | {_ms(d['numba_grad_s'])} | "
             f"numpy backend {_ms(d['numpy_grad_s'])} | {d['numpy_grad_s'] / d['numba_grad_s']:.2f}× faster |"]
    for name, anchor in d["anchors"].items():
        if anchor["status"] == "ok":
            lines.append(f"| same | | {name} {_ms(anchor['grad_call'])} | "
                         f"{anchor['grad_call'] / d['numba_grad_s']:.2f}× faster |")
        else:
            lines.append(f"| same | | {name}: {anchor['status']} | |")
    lines += [f"| same: `grad_loss / loss` | {d['numba_grad_s'] / d['numba_loss_s']:.2f} | | |",
              f"| same: relative difference from the numpy backend | {d['relative_difference']:.1e} | | |",
              f"| same: peak memory added by one call | {d['peak']['numba'] / 1e6:,.1f} MB | "
              f"numpy backend {d['peak']['numpy'] / 1e6:,.1f} MB | |",
              f"| Huber regression over {h['points']:,} points, `grad_f` | {_ms(h['grad_s'])} "
              f"(`grad/f` {h['ratio']:.2f}; {'matches' if h['matches'] else 'DIFFERS from'} the hand-written one) | "
              + (f"JAX jit {_ms(h['jax']['grad_call'])} | {h['jax']['grad_call'] / h['grad_s']:.2f}× faster |"
                 if h["jax"]["status"] == "ok" else f"JAX: {h['jax']['status']} | |"),
              f"| UDL `grad_f` per call from Python | {s['numba_call_s'] * 1e6:.2f} µs | "
              f"math backend {s['math_call_s'] * 1e6:.2f} µs | {s['math_call_s'] / s['numba_call_s']:.2f}× |",
              f"| {s['calls']:,} `grad_f` calls from a `numba.njit` loop | {_ms(s['njit_loop_s'])} | "
              f"CPython loop over the math backend {_ms(s['python_loop_s'])} | "
              f"{s['python_loop_s'] / s['njit_loop_s']:.1f}× faster |"]
    return lines


def targets(result: dict) -> list[str]:
    if result["status"] != "ok":
        return []
    d, h, s = result["data"], result["huber"], result["scalar"]
    faster = [d["numpy_grad_s"] / d["numba_grad_s"]]  # the target's anchors: numpy backend, autograd
    autograd = d["anchors"].get("autograd", {})
    faster += [autograd["grad_call"] / d["numba_grad_s"]] if autograd.get("status") == "ok" else []
    checks = [
        (min(faster) >= 2.5, f"UDL data loss >= 2.5x faster than the numpy backend and autograd "
                             f"(worst {min(faster):.2f}x)"),
        (d["relative_difference"] <= 1e-11, f"agrees with the numpy backend to 1e-11 "
                                            f"({d['relative_difference']:.1e})"),
        (s["python_loop_s"] / s["njit_loop_s"] >= 10,
         f"grad_f from njit code >= 10x faster than a CPython loop "
         f"({s['python_loop_s'] / s['njit_loop_s']:.1f}x)"),
        (h["ratio"] <= 3 and h["matches"], f"Huber grad/f <= 3 ({h['ratio']:.2f})"),
    ]
    if h["jax"]["status"] == "ok":
        ratio = h["jax"]["grad_call"] / h["grad_s"]
        checks.append((ratio >= 1, f"Huber no slower than jax.jit(value_and_grad) ({ratio:.2f}x)"))
    return [f"- {'met' if ok else 'MISSED'}: {text}" for ok, text in checks]


def main() -> int:
    result = measure(1_000_000, 120.0)
    print("\n".join(table(result) + ["", "Targets:"] + targets(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
