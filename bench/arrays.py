"""The numpy backend on data: the UDL loss summed over 10^6 points.

Rows: adcompile's ``loss`` and ``grad_loss`` from ``--backend numpy``; the
same loss differentiated by autograd, by ``jax.jit(value_and_grad)`` and by
SymPy (``diff`` of the per-point loss, ``lambdify(cse=True, modules="numpy")``,
then a NumPy sum of each output), each only when installed, in a child process
under the time cap.  Every call is positional.  Peak memory of
``grad_loss`` is measured with tracemalloc (NumPy reports its buffers to it)
and set against the floor of keeping every forward intermediate alive:
points x 8 bytes x (forward intermediates).
"""

from __future__ import annotations

import ast
import importlib.util
import time
import tracemalloc

import numpy as np

import adcompile

from .anchors import per_call
from .cases import UDL, UDL_POINT

PARAMS = {k: v for k, v in UDL_POINT.items() if k not in ("x", "y")}


def data(points: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 3.0, points)
    return x, np.sin(x) + 0.05 * rng.normal(size=points)


def forward_intermediates(source: str) -> int:
    tree = ast.parse(source)
    f = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "loss")
    return sum(isinstance(n, ast.Assign) for n in f.body)


def _numpy_loss(np_module):
    def loss(theta, x, y):
        p = dict(zip(PARAMS, theta))
        f = p["beta3"] + p["omega3"] * np_module.cos(p["beta2"] + p["omega2"] * np_module.exp(
            p["beta1"] + p["omega1"] * np_module.sin(p["beta0"] + p["omega0"] * x)))
        return np_module.sum((f - y) ** 2)

    return loss


def _floats(value_and_grad) -> list[float]:
    """``(value, gradient array)`` as floats: the value, then the gradient in PARAMS' order."""
    value, grad = value_and_grad
    return [float(value), *(float(g) for g in np.asarray(grad))]


def run_anchor(anchor, points: int, cap: float, expected: list[float]) -> dict:
    """An anchor run in a child process, its result checked against adcompile's (value, then
    gradient): a timing of a different function is no comparison."""
    from .anchors import agrees, run_callable

    status, result = run_callable(anchor, points, cap)
    if status == "ok" and not agrees(result["result"], expected):
        status = "disagrees with adcompile"
    return {"status": status, **(result or {})}


def autograd_anchor(points: int) -> dict:
    import autograd
    import autograd.numpy as anp

    x, y = data(points)
    vg = autograd.value_and_grad(_numpy_loss(anp))
    theta = np.array(list(PARAMS.values()))
    return {"grad_call": per_call(vg, [theta, x, y]), "result": _floats(vg(theta, x, y))}


def jax_anchor(points: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x, y = data(points)
    vg = jax.jit(jax.value_and_grad(_numpy_loss(jnp)))
    theta = jnp.array(list(PARAMS.values()))
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    result = _floats(jax.block_until_ready(vg(theta, jx, jy)))
    return {"grad_call": per_call(lambda *a: jax.block_until_ready(vg(*a)), [theta, jx, jy]),
            "result": result}


def sympy_anchor(points: int) -> dict:
    import sympy as sp

    from adcompile.frontend.text import parse
    from adcompile.ir.graph import Graph
    from adcompile.verify.sympy_out import symbol, to_sympy

    x, y = data(points)
    expr = to_sympy(parse(UDL, Graph()).outputs, evaluate=True)[0]
    names = [*PARAMS, "x", "y"]
    outputs = [expr] + [sp.diff(expr, symbol(p)) for p in PARAMS]
    per_point = sp.lambdify([symbol(n) for n in names], outputs, cse=True, modules="numpy")

    def value_and_grad(*args):
        return [np.sum(part) for part in per_point(*args)]

    args = [*PARAMS.values(), x, y]
    return {"grad_call": per_call(value_and_grad, args), "result": [float(v) for v in value_and_grad(*args)]}


ANCHORS = {"autograd": (autograd_anchor, "autograd"), "JAX": (jax_anchor, "jax"),
           "SymPy": (sympy_anchor, "sympy")}


def measure(points: int, cap: float) -> dict:
    m = adcompile.compile(f"sum({UDL})", backend="numpy", name="loss", wrt=list(PARAMS), format=False)
    x, y = data(points)
    values = {**PARAMS, "x": x, "y": y}
    args = [values[name] for name in m.ARGS]
    loss_s = per_call(m.loss, args)
    grad_s = per_call(m.grad_loss, args)
    tracemalloc.start()
    m.grad_loss(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    floor = points * 8 * forward_intermediates(m.source)
    row = {"points": points, "loss_s": loss_s, "grad_s": grad_s, "ratio": grad_s / loss_s,
           "peak_bytes": peak, "floor_bytes": floor, "anchors": {}}
    value, grad = m.grad_loss(*args)
    expected = [float(value), *map(float, grad)]
    for name, (fn, module) in ANCHORS.items():
        if importlib.util.find_spec(module) is None:
            continue
        started = time.perf_counter()
        row["anchors"][name] = {**run_anchor(fn, points, cap, expected),
                                "wall_s": time.perf_counter() - started}
    return row


def table(row: dict) -> list[str]:
    lines = [f"UDL data loss, `sum((f(x) - y)**2)` over {row['points']:,} points, numpy backend:", "",
             "| measure | value |", "|---|---|",
             f"| `loss` per call | {row['loss_s'] * 1e3:,.1f} ms |",
             f"| `grad_loss` per call | {row['grad_s'] * 1e3:,.1f} ms |",
             f"| `grad_loss / loss` | {row['ratio']:.2f} |",
             f"| peak memory of `grad_loss` | {row['peak_bytes'] / 1e6:,.0f} MB |",
             f"| floor: points × 8 B × forward intermediates | {row['floor_bytes'] / 1e6:,.0f} MB |"]
    for name, result in row["anchors"].items():
        if result["status"] == "ok":
            ratio = result["grad_call"] / row["grad_s"]
            verdict = f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"
            lines.append(f"| {name} value_and_grad per call | {result['grad_call'] * 1e3:,.1f} ms "
                         f"(adcompile is {verdict}) |")
        else:
            lines.append(f"| {name} value_and_grad | {result['status']} |")
    return lines
