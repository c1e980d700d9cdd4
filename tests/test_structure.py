"""The package's structure (issue 15): no import cycles, the IR knows nothing of
NumPy or of the front ends, one version string, one arity check, one fold."""

from __future__ import annotations

import ast
import os
import importlib
import pathlib
import tomllib

import pytest

import adcompile
from adcompile.errors import ParseError
from adcompile.frontend.language import FUNCTIONS, fold
from adcompile.frontend.text import parse
from adcompile.ir.graph import Graph
from adcompile.ir.node import VAR, Node, TracingError

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "adcompile"


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at top level or inside a function."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            edges[name] |= {m for m in found if m in modules and m != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each edge that closes one (iterative breadth-first search)."""
    found = []
    for start in sorted(edges):
        for first in sorted(edges[start]):
            previous, queue = {first: None}, [first]
            for module in queue:
                if module == start:
                    path = []
                    while module is not None:
                        path.append(module)
                        module = previous[module]
                    found.append([start] + path[::-1])
                    break
                for nxt in sorted(edges[module]):
                    if nxt not in previous:
                        previous[nxt] = module
                        queue.append(nxt)
    return found


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert ["a", "b", "c", "a"] in cycles(edges)
    assert not any("d" in c for c in cycles(edges))


def test_the_package_has_no_import_cycles_not_even_lazy_ones():
    edges = import_graph()
    assert "adcompile.ir.graph" in edges and "adcompile.ir.rewrite" in edges["adcompile.ir.graph"]
    assert cycles(edges) == []


def test_the_ir_imports_nothing_outside_the_ir():
    edges = import_graph()
    for module in ("adcompile.ir.node", "adcompile.ir.graph", "adcompile.ir.rewrite", "adcompile.ir.ops"):
        outside = {m for m in edges[module]
                   if not m.startswith("adcompile.ir.") and m not in ("adcompile.errors", "adcompile.runtime.math_backend")}
        assert outside == set(), module


def test_a_plain_node_has_no_numpy_hooks_and_a_traced_one_has():
    from adcompile.frontend.trace import TracedNode, tracing_graph

    for hook in ("__array_ufunc__", "__array_function__", "__array__"):
        assert not hasattr(Node, hook)
        assert hasattr(TracedNode, hook)
    graph = tracing_graph(fold=False)
    x = graph.var("x")
    assert type(x) is TracedNode and type(graph.const(2.0)) is TracedNode
    assert type(x * 2.0) is TracedNode and type(Graph().var("x")) is Node


def test_numpy_on_a_traced_node_builds_the_op_and_refuses_arrays():
    np = pytest.importorskip("numpy")
    from adcompile.frontend.trace import tracing_graph

    graph = tracing_graph()
    x = graph.var("x")
    assert np.sin(x) is graph("sin", x)
    assert np.maximum(x, 1.0) is graph("max", x, 1.0)
    assert np.asarray(x)[()] is x  # a 0-d object array: NumPy builds arrays of traced values
    with pytest.raises(TracingError, match="numpy.sort cannot be traced"):
        np.sort(x)


def test_trace_refuses_a_graph_that_does_not_trace():
    from adcompile.frontend.trace import trace

    with pytest.raises(TypeError, match="tracing_graph"):
        trace(lambda x: x, Graph())


def test_compiling_a_function_that_uses_numpy_gives_the_numpy_derivative():
    np = pytest.importorskip("numpy")
    module = adcompile.compile(lambda x: np.sin(x) * x)
    value, (slope,) = module.grad_f(2.0)
    assert value == pytest.approx(2.0 * np.sin(2.0))
    assert slope == pytest.approx(np.sin(2.0) + 2.0 * np.cos(2.0))


def test_there_is_one_version_and_packaging_reads_it():
    version = importlib.import_module("adcompile.version")
    assert adcompile.__version__ == version.__version__
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert module == "adcompile.version" and getattr(version, name) == version.__version__


@pytest.mark.parametrize("name, good, bad", [
    ("sin", [1], [0, 2]),
    ("log", [1, 2], [0, 3]),
    ("max", [2, 3, 50], [0, 1]),
    ("hypot", [2], [1, 3]),
])
def test_a_function_accepts_exactly_its_arities(name, good, bad):
    assert all(FUNCTIONS[name].accepts(n) for n in good)
    assert not any(FUNCTIONS[name].accepts(n) for n in bad)


def test_both_front_ends_check_arity_with_their_own_messages():
    with pytest.raises(ParseError, match=r"max\(\) takes 2 or more arguments, but 1 was given"):
        parse("max(x)")
    with pytest.raises(ParseError, match=r"log\(\) takes 1 or 2 arguments, but 3 were given"):
        parse("log(x, 2, 3)")
    with pytest.raises(TracingError, match=r"max\(\) takes 2 or more arguments, got 1"):
        adcompile.compile(lambda x: adcompile.max(x))
    with pytest.raises(TypeError, match=r"log\(\) takes 1 or 2 arguments, got 3"):
        adcompile.log(1.0, 2.0, 3.0)


def test_fold_applies_the_op_left_to_right():
    graph = Graph()
    a, b, c = graph.var("a"), graph.var("b"), graph.var("c")
    assert fold(graph, "max", [a, b, c]) is graph("max", graph("max", a, b), c)
    assert fold(graph, "mul", [a]) is a


def test_sympy_max_of_three_folds_as_the_language_does():
    sympy = pytest.importorskip("sympy")
    from adcompile.frontend.sympy_in import from_sympy

    x, y, z = sympy.symbols("x y z", real=True)
    graph = Graph()
    (node,) = from_sympy(sympy.Max(x, y, z), graph).outputs
    inner = [a for a in node.args if a.opname == "max"]  # max is commutative: either order
    assert node.opname == "max" and len(inner) == 1
    outer_var = [a for a in node.args if a.kind == VAR]
    assert {v.value for v in (*inner[0].args, *outer_var)} == {"x", "y", "z"}


@pytest.mark.parametrize("name", ["bench.run", "bench.anchors", "bench.arrays", "bench.cases",
                                  "bench.stress", "bench.fuzz", "bench.vectors",
                                  "bench.branches", "bench.numba_backend", "bench.startup", "bench.plot"])
def test_the_benchmark_modules_import(name):
    # The package's move into folders once broke bench's relative imports unnoticed
    import importlib
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    importlib.import_module(name)
