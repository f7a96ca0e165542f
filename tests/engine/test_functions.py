"""Functions the program defines (`def name(params) = expression`): each call is inlined as the
body's primitives, so every op and invariant stays as it is, and is one group, a composite gate
with its own local gradient, as the lecture's sigmoid gate."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrace
from gradtrace.errors import TraceError
from tests.engine.invariants import assert_trace_invariants, decode


def test_the_lectures_sigmoid_gate_gives_sigmoids_gradient() -> None:
    z = 0.5
    defined = gradtrace.trace("def sig(a) = 1 / (1 + exp(-a)); s = sig(z)", {"z": z})
    builtin = gradtrace.trace("s = sigmoid(z)", {"z": z})
    sigma = 1 / (1 + math.exp(-z))
    assert defined.value == pytest.approx(sigma)
    assert defined.gradients["z"] == pytest.approx(sigma * (1 - sigma)) == builtin.gradients["z"]
    body = defined.to_dict()
    assert_trace_invariants(body)
    call = next(g for g in body["groups"] if g["kind"] == "call")
    assert call["name"] == "sig" and body["expression"][slice(*call["span"])] == "sig(z)"
    # The composite gate: one local gradient for the whole group, sigmoid's σ(1 - σ).
    (wire,) = call["wires"]
    assert wire["source"] == call["inputs"][0] == "n0"
    assert wire["local"] == pytest.approx(sigma * (1 - sigma))
    assert wire["downstream"] == pytest.approx(call["upstream"] * wire["local"])
    # Its primitives are in the graph: neg, exp, +, / and the two literals.
    labels = sorted(n["label"] for n in body["nodes"] if n["id"] in call["nodes"])
    assert labels == sorted(["-", "exp", "1", "+", "1", "/"])
    assert all(n.get("group") == call["id"] for n in body["nodes"] if n["id"] in call["nodes"])


NEURON = "def neuron(w, v, c) = tanh(w @ v + c)\nh1 = neuron(W1, x, b1)\nh2 = neuron(W2, h1, b2)\ns = sum(h2)"
VALUES = {
    "W1": [[1.0, 2.0], [3.0, 4.0]], "x": [0.1, 0.2], "b1": [0.0, 0.1],
    "W2": [[0.5, -1.0], [1.0, 0.5]], "b2": [0.1, 0.0],
}


def test_a_neuron_called_twice_is_two_gates_and_the_same_gradients_as_written_out() -> None:
    defined = gradtrace.trace(NEURON, VALUES)
    written = gradtrace.trace("h1 = tanh(W1 @ x + b1); h2 = tanh(W2 @ h1 + b2); s = sum(h2)", VALUES)
    assert defined.value == pytest.approx(written.value)
    for name in VALUES:
        np.testing.assert_allclose(defined.gradients[name], written.gradients[name])
    body = defined.to_dict()
    assert_trace_invariants(body)
    calls = [g for g in body["groups"] if g["kind"] == "call"]
    assert [g["name"] for g in calls] == ["neuron", "neuron"]
    nodes = {n["id"]: n for n in body["nodes"]}
    # The second call reads the first one's output: h1 is a wire into its box.
    assert calls[0]["output"] in calls[1]["inputs"]
    assert nodes[calls[0]["output"]]["name"] == "h1"
    for call in calls:
        upstream = decode(call["upstream"])
        for wire in call["wires"]:
            local = decode(wire["local"])
            assert list(local.shape) == wire["local_shape"]
            # downstream = upstream x local, the composite gate's chain rule.
            np.testing.assert_allclose(
                np.tensordot(upstream, local, axes=upstream.ndim), decode(wire["downstream"]), atol=1e-12
            )
    # d h2 / d h1 = diag(1 - h2^2) @ W2, the layer's Jacobian.
    h2 = decode(nodes[calls[1]["output"]]["value"])
    (into_h1,) = [w for w in calls[1]["wires"] if w["source"] == calls[0]["output"]]
    np.testing.assert_allclose(decode(into_h1["local"]), np.diag(1 - h2**2) @ np.array(VALUES["W2"]))


def test_a_local_too_large_to_send_is_null() -> None:
    n = 80
    values = {"W": np.eye(n).tolist(), "x": [1.0] * n}
    body = gradtrace.trace("def lin(a, b) = 2 * (a @ b); s = sum(lin(W, x))", values).to_dict()
    call = next(g for g in body["groups"] if g["kind"] == "call")
    by_source = {w["source"]: w for w in call["wires"]}
    assert by_source["n0"]["local"] is None  # 80 x 80 x 80 numbers
    assert by_source["n0"]["local_shape"] == [n, n, n]


@pytest.mark.parametrize(
    ("program", "values", "message", "marked"),
    [
        ("def f(a) = a * 2; def f(b) = b; f(x)", {"x": 1}, "defined already", "f"),
        ("def f(a) = a * 2; f(x, x)", {"x": 1}, "f takes 1 argument", "f(x, x)"),
        ("def f(a) = f(a); f(x)", {"x": 1}, "calls itself", "f"),
        ("s = g(x); def g(a) = a * 2", {"x": 1}, "called before its def", "g"),
        ("def f(a) = a * 2; x + 1", {"x": 1}, "never called", "f"),
        ("def f(a) = a * w; f(x)", {"x": 1, "w": 2}, "not a parameter of f", "w"),
        ("def exp(a) = a; exp(x)", {"x": 1}, "a function of the language", "exp"),
        ("def f(a) = a * 2", {"x": 1}, "ends with a def", "def f(a) = a * 2"),
    ],
)
def test_mistakes_in_a_def_are_refused_at_their_place(
    program: str, values: dict[str, float], message: str, marked: str
) -> None:
    with pytest.raises(TraceError) as caught:
        gradtrace.trace(program, values)
    error = caught.value
    assert message in error.message
    assert error.span is not None
    assert program[error.span[0] : error.span[1]] == marked


def test_a_call_is_priced_as_its_inlined_ops() -> None:
    from gradtrace.cost import estimate
    from gradtrace.graph import build_graph
    from gradtrace.limits import Limits
    from gradtrace.parser import parse
    from gradtrace.values import coerce_values

    def price(program: str) -> object:
        parsed = parse(program)
        values = coerce_values(parsed, VALUES, Limits())
        graph = build_graph(program, parsed, values, Limits())
        return estimate(graph, values, False, 4096)

    written = "h1 = tanh(W1 @ x + b1)\nh2 = tanh(W2 @ h1 + b2)\ns = sum(h2)"
    defined, inline = price(NEURON), price(written)
    # The same nodes and numbers; the calls' gates add their own small products and bytes.
    assert (defined.nodes, defined.elements) == (inline.nodes, inline.elements)  # type: ignore[attr-defined]
    assert defined.flops >= inline.flops  # type: ignore[attr-defined]


def test_a_parameter_may_share_a_name_of_the_program() -> None:
    """A body reads only its parameters, so `def sig(x) = ...; sig(x)` means what it says."""
    plain = gradtrace.trace("s = 1 / (1 + exp(-x))", {"x": 0.5})
    called = gradtrace.trace("def sig(x) = 1 / (1 + exp(-x)); s = sig(x)", {"x": 0.5})
    assert called.value == plain.value
    assert called.gradients["x"] == plain.gradients["x"]
    twice = gradtrace.trace("a = x * 2; def f(a) = a * a; s = f(a) + f(x)", {"x": 3.0})
    assert twice.value == 36.0 + 9.0
    assert twice.gradients["x"] == 2 * 6.0 * 2 + 2 * 3.0
