"""The backward pass gives, bit for bit, the multiply-add loop the lecture writes.

Every gradient and downstream number of `engine.backward` on scalar graphs is
compared by its bits (signed zeros and infinities included; NaN as NaN) with a loop
written here from the lecture, on programs with fan-out, ops whose two inputs
are one node, statements the output never uses, and long programs.
"""

from __future__ import annotations

import gc
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace.engine import backward, forward
from gradtrace.graph import Graph, build_graph
from gradtrace.limits import Deadline, Limits
from gradtrace.parser import parse
from gradtrace.values import coerce_values


def _plain_backward(graph: Graph, locals_: list[float]) -> tuple[list[float], list[float]]:
    """[downstream] = [upstream] x [local], summed into the source's gradient."""
    grads = [0.0] * graph.size
    grads[graph.output] = 1.0
    downstream = [0.0] * graph.n_edges
    for i in range(graph.size - 1, -1, -1):
        if graph.op[i] is None or not graph.reaches[i]:
            continue
        upstream = grads[i]
        for k, source in enumerate(graph.args[i]):
            e = graph.edge_start[i] + k
            downstream[e] = upstream * locals_[e]
            grads[source] += downstream[e]
    return grads, downstream


def _bits(numbers: list[float]) -> list[bytes]:
    # Every NaN alike: which NaN a sum of two NaNs keeps depends on how the interpreter
    # compiled the addition (its specialised float add picks the other operand), and
    # the contract sends every NaN as "NaN".
    return [b"NaN" if x != x else struct.pack("<d", x) for x in numbers]


def _graph(text: str, values: dict[str, Any]) -> tuple[Graph, dict[str, Any]]:
    limits = Limits.unlimited()
    program = parse(text)
    inputs = coerce_values(program, values, limits)
    graph = build_graph(text, program, inputs, limits)
    assert graph.scalar
    return graph, inputs


def _assert_same_bits(text: str, values: dict[str, Any], deadline: Deadline) -> Graph:
    graph, inputs = _graph(text, values)
    values, locals_ = forward(graph, inputs, deadline)
    assert locals_ is not None
    grads, downstream = backward(graph, values, locals_, deadline)
    want_grads, want_downstream = _plain_backward(graph, locals_)
    assert _bits(grads) == _bits(want_grads)
    assert _bits(downstream) == _bits(want_downstream)
    return graph


def _long_program(n: int) -> str:
    """n statements mixing every binary op and a few functions, with fan-out up to 7 back."""
    ops = ["+", "*", "-", "/"]
    lines = ["v0 = x * y"]
    for k in range(1, n):
        back = f"v{max(0, k - 1 - k % 7)}"
        if k % 5 == 0:
            lines.append(f"v{k} = tanh(v{k - 1}) + {back}")
        elif k % 11 == 0:
            lines.append(f"v{k} = max(v{k - 1}, {back})")
        elif k % 13 == 0:
            lines.append(f"v{k} = v{k - 1} - v{k - 1}")  # both edges from one node
        else:
            lines.append(f"v{k} = v{k - 1} {ops[k % 4]} {back}")
    return "\n".join(lines)


SPECIAL = [0.0, -0.0, 1.0, -1.5, 3.0, 1e-310, -1e308, math.inf, -math.inf, math.nan]

SMALL = [
    "a = x - x\nb = a * y\nc = b + x",  # x - x: its two edges in their order
    "a = x * y\nb = a - x\nc = b / y\nd = c + a",
    "a = x * 0\nb = a - y",  # downstream -0.0 and +0.0
    "a = log(x)\nb = a * y\nc = b - b",
    "a = relu(x)\nb = a * y\nq = log(x)\nc = b + y",  # q does not reach the output
    "a = x * 2\nb = y + 1\na",  # the output is an earlier value
    "a = max(x, y)\nb = min(a, x)\nc = a * b * x",
    "a = x",  # no op at all
]


@pytest.mark.parametrize("text", SMALL)
@pytest.mark.parametrize("x", SPECIAL)
def test_small_programs_at_special_values(text: str, x: float) -> None:
    for y in (2.0, -0.0, math.inf, math.nan):
        _assert_same_bits(text, {"x": x, "y": y}, Limits.unlimited().deadline())


@pytest.mark.parametrize("deadline", [None, 60.0], ids=["no deadline", "deadline"])
@pytest.mark.parametrize("n", [1, 511, 1543])
def test_long_programs(n: int, deadline: float | None) -> None:
    graph = _assert_same_bits(_long_program(n), {"x": 0.75, "y": -1.25}, Deadline(deadline))
    assert len(graph.ops) >= n


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(allow_nan=True, allow_infinity=True),
    y=st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_long_program_at_any_values(x: float, y: float) -> None:
    _assert_same_bits(_long_program(1027), {"x": x, "y": y}, Limits().deadline())


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was_found(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        trace = gradtrace.trace("a = x * y\nb = a + x", {"x": 1.0, "y": 2.0}, limits=Limits())
        assert gc.isenabled() is enabled
        trace.to_dict()
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
