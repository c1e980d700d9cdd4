"""Issue 15: autodiff and the printer share no side channels.

The sweeps leave the graph's nodes as they were and return what each new
node is the derivative of; the module's requests are frozen; and parameter
names are allocated by the one ``NameAllocator``.
"""

import dataclasses

import pytest

from adcompile.ad.derivatives import Request, build_functions
from adcompile.ad.modes import forward, reverse
from adcompile.codegen.names import NameAllocator
from adcompile.frontend.text import parse
from adcompile.ir.graph import Graph


def _node_state(graph: Graph) -> list[tuple]:
    return [tuple(getattr(n, slot, None) for slot in type(n).__slots__) for n in graph.nodes]


def test_reverse_returns_its_name_hints_and_leaves_existing_nodes_as_they_were():
    graph = Graph()
    program = parse("f3 = x*y; f3 - y", graph)
    x, y = graph.var("x"), graph.var("y")
    before = _node_state(graph)
    (dx, dy), hints = reverse(graph, program.outputs, [1.0], [x, y])
    assert _node_state(graph)[: len(before)] == before
    # d/dx (x*y - y) = y, an existing node: not hinted; d/dy = x - 1, created here
    assert dx is y and dx.id not in hints
    prefix, primals = hints[dy.id]
    assert prefix == "d" and primals[-1] is y


def test_forward_returns_dot_hints_only_when_asked():
    graph = Graph()
    program = parse("sin(x) * x", graph)
    x = graph.var("x")
    (tangent,), hints = forward(graph, program.outputs, {x.id: graph.const(1.0)})
    assert hints[tangent.id][0] == "dot" and hints[tangent.id][1] == [program.outputs[0]]
    (_,), none = forward(graph, program.outputs, {x.id: graph.const(1.0)}, prefix=None)
    assert none == {}


def test_a_shared_adjoint_is_named_after_a_step_before_a_variable_before_a_temporary():
    import adcompile

    # the adjoint 2*(u - y) of the temporary u - y passes unchanged to u (and to x below)
    step = adcompile.compile("u = x*y; (u - y)**2", format=False).source
    assert "    d_u = t0 + t0\n" in step and "d_t0" not in step
    variable = adcompile.compile("(x - y)**2", format=False).source
    assert "    d_x = t0 + t0\n" in variable and "d_t0" not in variable
    temporary = adcompile.compile("(x*y - y)**2", format=False, one_step_per_line=True).source
    assert "    d_t1 = t1 + t1\n" in temporary
    # by default x*y is written inside t0 = x * y - y, whose adjoint is d_t0
    temporary = adcompile.compile("(x*y - y)**2", format=False).source
    assert "    t0 = x * y - y\n" in temporary and "    d_t0 = t0 + t0\n" in temporary


def test_request_is_frozen_and_constants_come_back_from_build_functions():
    graph = Graph()
    program = parse("x*x*y", graph)
    x, y = graph.var("x"), graph.var("y")
    request = Request("f", graph, tuple(program.outputs), (x, y), (x, y), hessian=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.direction = ()
    built = build_functions(request)
    # H of x*x*y: d2/dx2 = 2y, d2/dxdy = 2x, d2/dy2 = 0
    assert built.constants == [("HESSIAN_NONZERO", ((0, 0), (0, 1), (1, 0)))]


def test_step_labels_keep_the_first_name_of_a_value():
    graph = Graph()
    program = parse("a = x*y; b = y*x; c = x; a + b + c", graph)
    labels = program.labels()
    assert list(labels.values()) == ["a"]  # b is the same node as a; c is a variable


def test_parameter_names_get_trailing_underscores_clear_of_taken_names():
    alloc = NameAllocator(["lambda_", "v_x"])
    assert alloc.take_with_underscores("lambda") == "lambda__"
    assert alloc.take_with_underscores("v_x") == "v_x_"
    assert alloc.take_with_underscores("v_x") == "v_x__"
    assert alloc.take_with_underscores("y") == "y"


def test_nodes_carry_nothing_but_their_definition():
    # Issue 15: names are the front end's and the printer's business, never written on nodes
    node = parse("a = x*y; a + 1", Graph()).steps["a"]
    with pytest.raises(AttributeError):
        node.label = "a"
    with pytest.raises(AttributeError):
        node.hint = ("d", node)
