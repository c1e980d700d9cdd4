"""A graph's numbers at a point: local derivatives, and values as IEEE doubles give them.

``graph.evaluate`` computes with Python's ``math``, which raises at a pole or
outside a function's domain.  ``evaluate_ieee`` gives what doubles give there
instead (inf, nan), so a table of numbers can show a singular step rather than
stop at it.  ``local_derivatives`` evaluates an op's own derivative rule from
the op table on constants: the one place both ``explain`` (the backward pass as
numbers) and ``verify`` (is a step's derivative defined here?) get them from,
so there is no second copy of any derivative.
"""

from __future__ import annotations

import math

from adcompile.ir.graph import Graph, evaluate
from adcompile.ir.node import Node


def local_derivatives(node: Node, args: list[float], value: float, ieee: bool = False) -> list[float]:
    """d node / d each argument at these numbers, from the op's own derivative rule.

    Where the rule divides by zero or leaves a function's domain, this raises as
    ``math`` does; with ``ieee`` it gives what doubles give instead (inf, nan)."""
    g = Graph()
    consts = [g.const(a) for a in args]
    entries = node.op.partials(g, g(node.op.name, *consts) if math.isfinite(value) else g.const(value), *consts)
    out = []
    for entry in entries:
        if entry is None:
            out.append(0.0)
        else:
            local = entry(g.const(1.0)) if callable(entry) else g.lift(entry)
            out.append(evaluate([local], apply=ieee_value if ieee else None)[local.id])
    return out


def ieee_value(node: Node, args: list[float]) -> float:
    """The op's value, or what IEEE doubles give where ``math`` raises: +-inf at a
    pole or on overflow, nan outside the domain or for 0/0."""
    try:
        return node.op.value(*args)
    except ZeroDivisionError:
        if node.op.name != "div":
            return math.inf  # pow(0, -n)
        a, b = args
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def evaluate_ieee(outputs: list[Node], point: dict[str, float] | None = None) -> dict[int, float]:
    """Every needed node's value, as ``graph.evaluate`` but never raising: a
    singular step gives inf or nan, which flows on as it does in doubles."""
    return evaluate(outputs, point, apply=ieee_value)
