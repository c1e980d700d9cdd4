"""What adcompile is compared with: SymPy, and (when installed) JAX, PyTorch and
CasADi, plus the seed's hand-written passes for the UDL row.

Each anchor runs in a forked child process under a time cap, so a SymPy build
that takes minutes, or dies of RecursionError, costs one cell of the table
and not the run.  The frameworks are driven from adcompile's own graph by a
small interpreter (``evaluate``), so every tool computes the same expression.
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import time
import timeit
import traceback

from adcompile.ir.graph import CONST, VAR, Graph, reachable
from adcompile.frontend.text import parse

from .cases import UDL, Case

_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


def per_call(fn, args: list) -> float:
    """Seconds per call: the best of five timeit runs of about 0.2 s each."""
    timer = timeit.Timer(lambda: fn(*args))
    number, _ = timer.autorange()
    return min(timer.repeat(5, number)) / number


def program_of(case: Case):
    graph = Graph()
    return parse(case.text, graph)


def evaluate(case: Case, env: dict, functions) -> object:
    """The case's output computed with ``functions`` (a module such as jax.numpy)."""
    program = program_of(case)
    values = {}
    for node in reachable(program.outputs):
        if node.kind == CONST:
            values[node.id] = node.value
        elif node.kind == VAR:
            values[node.id] = env[node.value]
        else:
            args = [values[a.id] for a in node.args]
            name = node.op.name
            if name in _BINARY:
                values[node.id] = _BINARY[name](*args)
            elif name == "neg":
                values[node.id] = -args[0]
            else:
                values[node.id] = getattr(functions, name)(*args)
    return values[program.outputs[0].id]


def sympy_anchor(case: Case) -> dict:
    import sympy as sp

    from adcompile.verify.sympy_out import symbol, to_sympy

    start = time.perf_counter()
    expr = to_sympy(program_of(case).outputs, evaluate=True)[0]
    names = list(case.point)
    wrt = [symbol(w) for w in case.wrt]
    fn = sp.lambdify([symbol(n) for n in names], [expr] + [sp.diff(expr, w) for w in wrt], cse=True)
    build = time.perf_counter() - start
    return {"build": build, "grad_call": per_call(fn, [case.point[n] for n in names])}


def jax_anchor(case: Case) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    names = list(case.point)
    argnums = tuple(names.index(w) for w in case.wrt)
    start = time.perf_counter()
    f = lambda *a: evaluate(case, dict(zip(names, a)), jnp)  # noqa: E731
    vg = jax.jit(jax.value_and_grad(f, argnums=argnums))
    args = [case.point[n] for n in names]
    jax.block_until_ready(vg(*args))
    build = time.perf_counter() - start
    return {"build": build, "grad_call": per_call(lambda *a: jax.block_until_ready(vg(*a)), args)}


def torch_anchor(case: Case) -> dict:
    import torch

    names = list(case.point)
    wrt = set(case.wrt)

    def value_and_grad(*args):
        env = {n: torch.tensor(v, dtype=torch.float64, requires_grad=n in wrt)
               for n, v in zip(names, args)}
        out = evaluate(case, env, torch)
        out.backward()
        return out.item(), [env[w].grad.item() for w in case.wrt]

    args = [case.point[n] for n in names]
    value_and_grad(*args)
    return {"build": None, "grad_call": per_call(value_and_grad, args)}


def casadi_anchor(case: Case) -> dict:
    import casadi

    names = list(case.point)
    start = time.perf_counter()
    syms = {n: casadi.SX.sym(n) for n in names}
    out = evaluate(case, syms, casadi)
    wrt = casadi.vertcat(*[syms[w] for w in case.wrt])
    fn = casadi.Function("g", [casadi.vertcat(*[syms[n] for n in names])],
                         [out, casadi.gradient(out, wrt)])
    build = time.perf_counter() - start
    point = [case.point[n] for n in names]
    return {"build": build, "grad_call": per_call(lambda p: fn(p), [point])}


def handwritten_anchor(case: Case) -> dict:
    if case.text != UDL:
        raise NotApplicable
    from .handwritten import udl_value_and_grad

    args = [case.point[n] for n in ("x", "y", "beta0", "beta1", "beta2", "beta3",
                                    "omega0", "omega1", "omega2", "omega3")]
    return {"build": None, "grad_call": per_call(udl_value_and_grad, args)}


class NotApplicable(Exception):
    pass


ANCHORS = {
    "hand-written": (handwritten_anchor, None),
    "SymPy": (sympy_anchor, "sympy"),
    "JAX": (jax_anchor, "jax"),
    "PyTorch": (torch_anchor, "torch"),
    "CasADi": (casadi_anchor, "casadi"),
}


def available() -> list[str]:
    return [name for name, (_, module) in ANCHORS.items()
            if module is None or importlib.util.find_spec(module) is not None]


def _child(anchor, case, connection) -> None:
    try:
        connection.send(("ok", anchor(case)))
    except NotApplicable:
        connection.send(("n/a", None))
    except RecursionError:
        connection.send(("RecursionError", None))
    except BaseException as exc:  # reported in the table, not raised
        connection.send((type(exc).__name__, traceback.format_exc(limit=2)))


def run_anchor(name: str, case: Case, cap: float) -> tuple[str, dict | None]:
    """``("ok", {"build": s, "grad_call": s})`` or ``(failure, None)``."""
    return run_callable(ANCHORS[name][0], case, cap)


def run_callable(anchor, case, cap: float) -> tuple[str, dict | None]:
    """``anchor(case)`` in a forked child, given at most ``cap`` seconds."""
    context = mp.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(anchor, case, child))
    process.start()
    child.close()
    if not parent.poll(cap):
        process.kill()
        process.join()
        return "timeout", None
    try:
        status, result = parent.recv()
    except EOFError:  # the child died without a word (a C-level stack overflow)
        status, result = "crashed", None
    process.join()
    return status, (result if status == "ok" else None)
