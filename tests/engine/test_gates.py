"""Every op's gate text (the lecture's forward/backward class) computes the engine's numbers.

The gate is kept in the op's registry entry to be read; the server never
runs it. These tests do: each gate's source is run here, in a namespace
holding only numpy, and its forward and backward are compared with the op's
own forward and VJP over every legal pair of shapes. The gate is written for
arguments of one shape; where the engine broadcast an argument, its gradient
is summed back to that argument's shape (`unbroadcast`), here as there.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import gradtrace
from gradtrace.ops import OPS, Op, unbroadcast
from tests.engine.test_registry import CASES, inputs_for

# softmax of a single number is 1 whatever it is; its gate is written for vectors.
NOT_FOR_THE_GATE = {("softmax", ((),))}


def gate_class(op: Op) -> type:
    namespace: dict[str, Any] = {"np": np}
    # The registry's own text, never user input: running it is the test.
    exec(compile(op.gate, f"<gate of {op.name}>", "exec"), namespace)  # noqa: S102
    classes = [v for k, v in namespace.items() if isinstance(v, type) and k.endswith("Gate")]
    assert len(classes) == 1, f"{op.name}: its gate text defines one class named ...Gate"
    return classes[0]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_gate_in_the_lectures_form(name: str) -> None:
    op = OPS[name]
    assert op.gate, f"{name}: the registry entry has no gate text"
    assert "eval(" not in op.gate and "exec(" not in op.gate and "import" not in op.gate
    gate = gate_class(op)
    forward = list(inspect.signature(gate.forward).parameters)
    backward = list(inspect.signature(gate.backward).parameters)
    assert forward == ["self", "x", "y"][: op.arity + 1], "forward(self, x[, y])"
    assert backward == ["self", "dz"], "backward(self, dz)"
    assert "return z" in op.gate and "return [dx" in op.gate
    assert describe(name)["gate"] == op.gate


def describe(name: str) -> dict[str, Any]:
    return next(d for d in gradtrace.describe_ops() if d["name"] == name)


GATE_CASES = [case for case in CASES if case not in NOT_FOR_THE_GATE]


@pytest.mark.parametrize(("name", "shapes"), GATE_CASES, ids=[f"{n}-{s}" for n, s in GATE_CASES])
def test_the_gate_computes_the_engines_forward_and_backward(
    name: str, shapes: tuple[tuple[int, ...], ...]
) -> None:
    op = OPS[name]
    args = [a[()] for a in inputs_for(op, shapes, seed=3)]
    out = op.forward(*args)
    upstream = np.random.default_rng(4).uniform(-1.5, 1.5, size=np.shape(out))[()]
    gate = gate_class(op)()
    z = gate.forward(*args)
    np.testing.assert_allclose(z, out, rtol=1e-12, atol=1e-15)
    downstream = gate.backward(upstream)
    assert len(downstream) == op.arity
    expected = op.vjp(upstream, out, *args)
    for k, (d, e) in enumerate(zip(downstream, expected, strict=True)):
        summed = unbroadcast(d, np.shape(args[k]))
        np.testing.assert_allclose(summed, e, rtol=1e-12, atol=1e-15, err_msg=f"{name} argument {k}")


def test_the_lectures_multiply_gate_with_this_nodes_numbers() -> None:
    # The lecture's MultiplyGate on x = 2, y = 3: z = 6; backward with dz = 1: dx = self.y * dz = 3.
    gate = gate_class(OPS["mul"])()
    assert gate.forward(2.0, 3.0) == 6.0
    assert (gate.x, gate.y) == (2.0, 3.0)
    assert gate.backward(1.0) == [3.0, 2.0]
    # The engine's edges carry the same numbers: upstream 1, local 3, downstream 3 into x.
    body = gradtrace.trace("x * y", {"x": 2, "y": 3}).to_dict()
    into_x, into_y = sorted(body["edges"], key=lambda e: e["index"])
    assert (into_x["upstream"], into_x["local"], into_x["downstream"]) == (1.0, 3.0, 3.0)
    assert (into_y["upstream"], into_y["local"], into_y["downstream"]) == (1.0, 2.0, 2.0)
    assert "dx = self.y * dz" in OPS["mul"].gate
    assert "self.x = x  # must keep these around!" in OPS["mul"].gate
