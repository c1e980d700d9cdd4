"""What adcompile is compared with, each in its best configuration for a scalar call:
the seed's hand-written passes (UDL row), SymPy, symengine, JAX, PyTorch and
(when installed) CasADi.

- SymPy: ``diff`` by every parameter, then ``lambdify(cse=True, modules="math")``
  (the default modules make SymPy's scalar code call NumPy's ufuncs on floats,
  about 4x slower).
- symengine: the same graph built in symengine, ``diff``, then
  ``Lambdify(cse=True, backend="llvm")`` (the lambda backend when symengine has
  no LLVM), called with one array of the arguments (its fastest call: Python
  floats are packed into an array on every call anyway).
- JAX: ``jax.jit(jax.value_and_grad(loss))`` on float64, JAX's idiom of the
  parameters as one array (``loss(theta, data)``, both arrays made once; three
  times faster per call than ten scalar arguments); each call pays JAX's dispatch.
- PyTorch: the forward pass on float64 CPU scalar tensors (created once, the
  parameters with ``requires_grad``), then ``torch.autograd.grad``.
- CasADi: ``SX`` symbols, ``casadi.gradient``, a ``casadi.Function``.

Every anchor is called positionally with the case's point, and returns its value
and gradient so the run can check that every tool computed the same numbers.
The frameworks get the expression as straight-line Python generated from
adcompile's own graph (``forward_source``), which is what a person would type.

Each anchor runs in a forked child process under a time cap, so a SymPy build
that takes minutes, or dies of RecursionError, costs one cell of the table and
not the run.
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing as mp
import time
import timeit
import traceback

from adcompile.frontend.text import parse
from adcompile.ir.graph import CONST, VAR, Graph, reachable

from .cases import UDL, Case

_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def per_call(fn, args: list) -> float:
    """Seconds per call: the best of five timeit runs of about 0.2 s each."""
    timer = timeit.Timer(lambda: fn(*args))
    number, _ = timer.autorange()
    return min(timer.repeat(5, number)) / number


def program_of(case: Case):
    graph = Graph()
    return parse(case.text, graph)


def _constant(value: float, exponent: bool) -> str:
    if exponent and float(value).is_integer() and abs(value) < 2**31:
        return str(int(value))  # x**2, not x**2.0: an integer power for every tool
    return repr(float(value))


def forward_source(case: Case) -> str:
    """``def forward(<the case's point names>)``: the case's output as one line per
    operation, functions taken from a module named ``F`` (math, torch, jax.numpy...)."""
    program = program_of(case)
    terms: dict[int, str] = {}
    lines = [f"def forward({', '.join(case.point)}):"]
    for node in reachable(program.outputs):
        if node.kind == CONST:
            terms[node.id] = repr(float(node.value))
            continue
        if node.kind == VAR:
            terms[node.id] = node.value
            continue
        name = node.op.name
        args = [terms[a.id] for a in node.args]
        if name == "pow" and node.args[1].kind == CONST:
            args[1] = _constant(node.args[1].value, exponent=True)
        if name in _BINARY:
            text = f"{args[0]} {_BINARY[name]} {args[1]}"
        elif name == "neg":
            text = f"-{args[0]}"
        else:
            text = f"F.{name}({', '.join(args)})"
        lines.append(f"    v{node.id} = {text}")
        terms[node.id] = f"v{node.id}"
    lines.append(f"    return {terms[program.outputs[0].id]}")
    return "\n".join(lines) + "\n"


def forward_function(case: Case, functions):
    """The case's forward pass as a Python function over ``functions``' operations.

    The source is generated here from the benchmark's own cases, never from user text.
    """
    namespace = {"F": functions}
    exec(compile(forward_source(case), f"<forward {case.name}>", "exec"), namespace)  # noqa: S102
    return namespace["forward"]


def flatten(result) -> list[float]:
    """A value-and-gradient result of any shape ((v, (g...)), [v, g...], arrays) as floats."""
    out, stack = [], [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif hasattr(item, "shape") and getattr(item, "shape", ()) != ():
            stack.extend(reversed(list(item.reshape(-1)) if hasattr(item, "reshape") else list(item)))
        else:
            out.append(float(item))
    return out


def _arguments(case: Case) -> list[float]:
    return [case.point[n] for n in case.point]


def sympy_anchor(case: Case) -> dict:
    import sympy as sp

    from adcompile.verify.sympy_out import symbol, to_sympy

    start = time.perf_counter()
    expr = to_sympy(program_of(case).outputs, evaluate=True)[0]
    wrt = [symbol(w) for w in case.wrt]
    fn = sp.lambdify([symbol(n) for n in case.point], [expr] + [sp.diff(expr, w) for w in wrt],
                     cse=True, modules="math")
    build = time.perf_counter() - start
    args = _arguments(case)
    return {"build": build, "grad_call": per_call(fn, args), "result": flatten(fn(*args))}


def symengine_anchor(case: Case) -> dict:
    import numpy
    import symengine as se

    start = time.perf_counter()
    symbols = [se.Symbol(n) for n in case.point]
    by_name = dict(zip(case.point, symbols))
    expr = forward_function(case, se)(*symbols)
    outputs = [expr] + [expr.diff(by_name[w]) for w in case.wrt]
    backend = "llvm" if se.have_llvm else "lambda"
    fn = se.Lambdify(symbols, outputs, backend=backend, cse=True)
    build = time.perf_counter() - start
    args = [numpy.asarray(_arguments(case))]  # one array in: symengine's fastest call
    return {"build": build, "grad_call": per_call(fn, args), "result": flatten(fn(*args)),
            "config": backend}


def jax_anchor(case: Case) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    forward = forward_function(case, jnp)
    names, wrt = list(case.point), list(case.wrt)
    data_names = [n for n in names if n not in set(wrt)]

    def loss(theta, data):  # JAX's idiom: the parameters as one array
        env = {**dict(zip(wrt, theta)), **dict(zip(data_names, data))}
        return forward(*[env[n] for n in names])

    start = time.perf_counter()
    vg = jax.jit(jax.value_and_grad(loss))
    theta = jnp.asarray([case.point[w] for w in wrt])
    data = jnp.asarray([case.point[n] for n in data_names])
    result = jax.block_until_ready(vg(theta, data))
    build = time.perf_counter() - start
    call = per_call(lambda *a: jax.block_until_ready(vg(*a)), [theta, data])
    return {"build": build, "grad_call": call, "result": flatten(result)}


def torch_anchor(case: Case) -> dict:
    import torch

    forward = forward_function(case, torch)
    wrt = set(case.wrt)
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=n in wrt)
               for n, v in case.point.items()]
    inputs = [t for n, t in zip(case.point, tensors) if n in wrt]
    order = {n: i for i, n in enumerate(w for w in case.point if w in wrt)}
    positions = [order[w] for w in case.wrt]

    def value_and_grad(*args):
        out = forward(*args)
        grads = torch.autograd.grad(out, inputs)
        return out.item(), [grads[i].item() for i in positions]

    result = value_and_grad(*tensors)
    return {"build": None, "grad_call": per_call(value_and_grad, tensors), "result": flatten(result)}


def casadi_anchor(case: Case) -> dict:
    import casadi

    names = list(case.point)
    start = time.perf_counter()
    syms = [casadi.SX.sym(n) for n in names]
    by_name = dict(zip(names, syms))
    out = forward_function(case, casadi)(*syms)
    wrt = casadi.vertcat(*[by_name[w] for w in case.wrt])
    fn = casadi.Function("g", syms, [out, casadi.gradient(out, wrt)])
    build = time.perf_counter() - start
    args = _arguments(case)
    result = [float(v) for part in fn(*args) for v in casadi.DM(part).full().ravel()]
    return {"build": build, "grad_call": per_call(fn, args), "result": result}


def handwritten_anchor(case: Case) -> dict:
    if case.text != UDL:
        raise NotApplicable
    from .handwritten import udl_value_and_grad

    args = [case.point[n] for n in ("x", "y", "beta0", "beta1", "beta2", "beta3",
                                    "omega0", "omega1", "omega2", "omega3")]
    return {"build": None, "grad_call": per_call(udl_value_and_grad, args),
            "result": flatten(udl_value_and_grad(*args))}


class NotApplicable(Exception):
    pass


ANCHORS = {
    "hand-written": (handwritten_anchor, None),
    "SymPy": (sympy_anchor, "sympy"),
    "symengine": (symengine_anchor, "symengine"),
    "JAX": (jax_anchor, "jax"),
    "PyTorch": (torch_anchor, "torch"),
    "CasADi": (casadi_anchor, "casadi"),
}
# How each anchor is called, for the table's notes.
CONFIGS = {
    "hand-written": "the seed's forward and backward passes typed out (UDL row only)",
    "SymPy": '`diff`, then `lambdify(cse=True, modules="math")`',
    "symengine": '`diff`, then `Lambdify(cse=True, backend="llvm")`, one array in',
    "JAX": "`jit(value_and_grad(loss))(theta, data)`, float64 arrays made once",
    "PyTorch": "float64 CPU scalar tensors made once, forward + `torch.autograd.grad`",
    "CasADi": "`SX`, `gradient`, `Function`",
}


def available() -> list[str]:
    return [name for name, (_, module) in ANCHORS.items()
            if module is None or importlib.util.find_spec(module) is not None]


def agrees(result: list[float], expected: list[float], tolerance: float = 1e-8) -> bool:
    """Whether an anchor's value and gradient match adcompile's (the same order)."""
    if len(result) != len(expected):
        return False
    return all(math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance) for a, b in zip(result, expected))


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
    """``("ok", {"build": s, "grad_call": s, "result": [...]})`` or ``(failure, None)``."""
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
