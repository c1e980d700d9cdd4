"""Branches: a Huber regression loss over data, written with ``where``.

Rows: adcompile's ``f`` and ``grad_f`` from ``--backend numpy`` (the mean of
the Huber loss of a line ``a*x + b`` over the points, gradient with respect to
a and b), checked once against a hand-written NumPy loss and gradient; the same
loss written with ``jnp.where`` under ``jax.jit(jax.value_and_grad)`` on CPU in
float64, in a child process under the time cap (only when JAX is installed).

The same child shows the NaN of JAX's ``where`` adjoint: ``jax.grad`` of
``jnp.where(x > 0, jnp.sqrt(x), 0.)`` at 0, against adcompile's numpy backend,
whose compiler makes the branch not taken safe (the "double where").
"""

from __future__ import annotations

import importlib.util
import time
import warnings

import numpy as np

import adcompile

from .anchors import per_call, run_callable

DELTA = 1.0
HUBER = (f"r = y - (a*x + b)\n"
         f"mean(where(abs(r) <= {DELTA}, 0.5*r**2, {DELTA}*(abs(r) - 0.5*{DELTA})))")
PARAMS = {"a": 1.5, "b": 0.5}
SQRT = "where(x > 0, sqrt(x), 0)"
SQRT_POINTS = [-1.0, 0.0, 0.25, 4.0]
SQRT_EXPECTED = [0.0, 0.0, 1.0, 0.25]  # d sqrt(x) = 1 / (2 sqrt(x)) where x > 0, else 0
RTOL = 1e-12


def data(points: int) -> tuple[np.ndarray, np.ndarray]:
    """A line with noise, one point in ten moved far off it: both branches occur."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, points)
    y = 2.0 * x + 1.0 + 0.3 * rng.normal(size=points)
    outliers = rng.random(points) < 0.1
    y[outliers] += rng.normal(0.0, 10.0, int(outliers.sum()))
    return x, y


def huber_by_hand(a: float, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, tuple[float, float]]:
    """The loss and its gradient written out: d/dr is r inside the band, DELTA*sign(r) outside."""
    r = y - (a * x + b)
    inside = np.abs(r) <= DELTA
    value = np.mean(np.where(inside, 0.5 * r**2, DELTA * (np.abs(r) - 0.5 * DELTA)))
    d_r = np.where(inside, r, DELTA * np.sign(r)) / r.size
    return float(value), (float(-np.sum(d_r * x)), float(-np.sum(d_r)))


def _close(got, want) -> bool:
    return bool(np.shape(got) == np.shape(want) and np.allclose(got, want, rtol=RTOL, atol=0.0))


def matches(value_grad, reference) -> bool:
    """``(value, (da, db))`` equal to ``reference`` to RTOL, scalars where it has scalars."""
    (value, grad), (ref_value, ref_grad) = value_grad, reference
    return _close(value, ref_value) and len(grad) == len(ref_grad) and all(
        _close(g, r) for g, r in zip(grad, ref_grad))


def sqrt_gradients() -> dict:
    """adcompile's numpy-backend gradient of ``SQRT`` at 0 and over SQRT_POINTS, warnings as errors."""
    module = adcompile.compile(SQRT, args="x", wrt="x", backend="numpy", format=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            at_zero = module.grad_f(0.0)[1][0]
            across = module.grad_f(np.array(SQRT_POINTS))[1][0]
    except (ArithmeticError, RuntimeWarning) as exc:  # reported in the table, not raised
        return {"at_zero": float("nan"), "across": [], "nan_free": False, "error": type(exc).__name__}
    return {"at_zero": float(at_zero), "across": [float(v) for v in across],
            "nan_free": bool(np.isfinite(at_zero) and np.all(np.isfinite(across))
                             and np.array_equal(across, SQRT_EXPECTED) and at_zero == 0.0)}


def jax_anchor(points: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss(a, b, x, y):
        r = y - (a * x + b)
        return jnp.mean(jnp.where(jnp.abs(r) <= DELTA, 0.5 * r**2, DELTA * (jnp.abs(r) - 0.5 * DELTA)))

    x, y = data(points)
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    args = [PARAMS["a"], PARAMS["b"], jx, jy]
    value, (da, db) = jax.block_until_ready(vg(*args))
    grad_call = per_call(lambda *a: jax.block_until_ready(vg(*a)), args)
    safe_sqrt = jax.grad(lambda t: jnp.where(t > 0, jnp.sqrt(t), 0.0))
    across = jax.vmap(safe_sqrt)(jnp.array(SQRT_POINTS))
    return {"version": jax.__version__, "grad_call": grad_call,
            "value": float(value), "grad": (float(da), float(db)),
            "sqrt_at_zero": float(safe_sqrt(0.0)), "sqrt_across": [float(v) for v in across]}


def _jax(points: int, cap: float) -> dict:
    if importlib.util.find_spec("jax") is None:
        return {"status": "not installed"}
    started = time.perf_counter()
    status, result = run_callable(jax_anchor, points, cap)
    return {"status": status, **(result or {}), "wall_s": time.perf_counter() - started}


def measure(points: int, cap: float) -> dict:
    """``f`` and ``grad_f`` per call at ``points``, their agreement with the hand-written
    loss, the sqrt NaN demonstration, and the JAX anchor."""
    module = adcompile.compile(HUBER, args="a,b,x,y", wrt="a,b", backend="numpy", format=False)
    x, y = data(points)
    args = [PARAMS["a"], PARAMS["b"], x, y]
    reference = huber_by_hand(*args)
    result = module.grad_f(*args)
    inside = np.abs(y - (PARAMS["a"] * x + PARAMS["b"])) <= DELTA
    row = {"points": points, "inside_share": float(inside.mean()),
           "f_s": per_call(module.f, args), "grad_s": per_call(module.grad_f, args),
           "hand_s": per_call(huber_by_hand, args),
           "value": float(np.asarray(result[0])), "grad_shapes": [list(np.shape(g)) for g in result[1]],
           "reference": {"value": reference[0], "grad": list(reference[1])},
           "matches_hand": matches(result, reference) and _close(module.f(*args), reference[0]),
           "sqrt": sqrt_gradients()}
    row["ratio"] = row["grad_s"] / row["f_s"]
    jax_row = _jax(points, cap)
    if jax_row["status"] == "ok":
        jax_result = (jax_row["value"], tuple(jax_row["grad"]))
        jax_row["matches_adcompile"] = matches(result, jax_result)
        jax_row["matches_hand"] = matches(jax_result, reference)
    row["jax"] = jax_row
    return row


# --- the table ---
def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def _list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def table(row: dict) -> list[str]:
    jax_row = row["jax"]
    lines = [f"Branches: Huber regression, `mean(where(abs(r) <= {DELTA}, ...))` over {row['points']:,} "
             f"points ({row['inside_share']:.0%} in the quadratic branch), gradient wrt a, b, "
             "numpy backend:", "",
             "| measure | value |", "|---|---|",
             f"| `f` per call | {row['f_s'] * 1e3:,.2f} ms |",
             f"| `grad_f` per call | {row['grad_s'] * 1e3:,.2f} ms |",
             f"| `grad_f / f` | {row['ratio']:.2f} |",
             f"| hand-written NumPy loss and gradient per call | {row['hand_s'] * 1e3:,.2f} ms |",
             f"| equals hand-written NumPy loss and gradient (rtol {RTOL:g}) | "
             f"{_yes(row['matches_hand'])} |"]
    if jax_row["status"] == "ok":
        lines += [f"| JAX {jax_row['version']} `jit(value_and_grad)` per call, CPU float64 | "
                  f"{jax_row['grad_call'] * 1e3:,.2f} ms |",
                  f"| adcompile `grad_f` / JAX | {row['grad_s'] / jax_row['grad_call']:.2f} |",
                  f"| equals JAX (rtol {RTOL:g}) | {_yes(jax_row['matches_adcompile'])} |",
                  f"| JAX equals the hand-written NumPy ones (rtol {RTOL:g}) | "
                  f"{_yes(jax_row['matches_hand'])} |"]
    else:
        lines.append(f"| JAX `jit(value_and_grad)` | {jax_row['status']} |")
    sqrt = row["sqrt"]
    lines += ["", f"NaN-safe adjoint, gradient of `{SQRT}` (hand-derived: 0 at 0, "
                  f"{_list(SQRT_EXPECTED)} over {_list(SQRT_POINTS)}):", "",
              "| tool | at x = 0 | over " + _list(SQRT_POINTS) + " |", "|---|---|---|",
              f"| adcompile numpy backend | {sqrt['at_zero']:g} | {_list(sqrt['across'])} |"]
    if jax_row["status"] == "ok":
        lines.append(f"| JAX {jax_row['version']} `grad` of `jnp.where` | {jax_row['sqrt_at_zero']:g} | "
                     f"{_list(jax_row['sqrt_across'])} |")
    else:
        lines.append(f"| JAX `grad` of `jnp.where` | {jax_row['status']} | |")
    return lines


def targets(row: dict) -> list[str]:
    """Issue 17's benchmark targets, met or missed, with their figures."""
    out: list[str] = []

    def verdict(ok: bool, text: str) -> None:
        out.append(f"- {'met' if ok else 'MISSED'}: {text}")

    verdict(row["ratio"] <= 3, f"Huber grad_f/f <= 3 ({row['ratio']:.2f})")
    verdict(row["matches_hand"], "Huber value and gradient equal the hand-written NumPy ones "
                                 f"(rtol {RTOL:g})")
    jax_row = row["jax"]
    if jax_row["status"] == "ok":
        ratio = row["grad_s"] / jax_row["grad_call"]
        verdict(ratio <= 1, f"Huber grad_f no slower than JAX {jax_row['version']} "
                            f"jit(value_and_grad) on CPU ({ratio:.2f}x)")
    else:
        out.append(f"- not measured: Huber grad_f no slower than JAX jit(value_and_grad) "
                   f"({jax_row['status']})")
    verdict(row["sqrt"]["nan_free"], f"`{SQRT}` has gradient 0 at 0 and {_list(SQRT_EXPECTED)} "
                                     "over the points, no NaN, no warning")
    return out
