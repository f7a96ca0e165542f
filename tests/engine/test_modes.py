"""The counted costs of forward pass, reverse mode, each input separately and forward mode.

Every expected number is counted by hand in the comment beside it, with the
rules of ops.Work: a multiplication (or division) per element of a product,
an addition per term of a sum of two or more terms (so an n x k by k x m
matmul is nkm + nkm = 2nkm), c - 1 additions where c gradients (or tangents)
meet, locals known from the forward pass.
"""

from __future__ import annotations

import numpy as np

import gradtrace
from gradtrace import modes
from gradtrace.graph import build_graph, mark_constants
from gradtrace.limits import Limits
from gradtrace.ops import OPS, Work
from gradtrace.parser import parse
from gradtrace.values import coerce_values


def counted(expression: str, values: dict, constants: tuple[str, ...] = ()) -> modes.Costs:
    limits = Limits.unlimited()
    program = parse(expression, limits.max_depth, None, None)
    inputs = coerce_values(program, values, limits)
    graph = build_graph(expression, program, inputs, limits, vector_output=True)
    mark_constants(graph, constants, inputs)
    return modes.count(graph)


def test_every_op_counts_its_work() -> None:
    missing = [name for name, op in OPS.items() if op.work is None]
    assert not missing, f"ops without a work rule: {missing}"


def test_the_lecture_expression() -> None:
    # f = (x + y) * max(y, z), all scalars.
    c = counted("(x + y) * max(y, z)", {"x": 1.0, "y": 2.0, "z": 0.0})
    # forward: + is 1 addition, max 1 evaluation, * 1 multiplication.
    assert c.forward == Work(multiplications=1, additions=1, functions=1)
    # backward: * sends upstream x local to each input (2 mult.), max likewise (2 mult.),
    # + passes the upstream unchanged (0); y receives 2 gradients: 1 addition.
    assert c.backward_pass == Work(multiplications=4, additions=1)
    assert c.reverse == c.backward_pass  # m = 1
    # separately: x: through * (1) and + (0) = 1 mult.; y: through * and + (1) and through *
    # and max (2), meeting at y (1 add.) = 3 mult. 1 add.; z: through * and max = 2 mult.
    # The * node's gradient toward a = x + y is computed for x and for y, and toward max for y and z.
    assert c.separately == Work(multiplications=6, additions=1)
    # forward mode, one tangent pass per input: x: + (0), * (1) = 1 mult.; y: + (0), max (1),
    # * (2 terms: 2 mult., 1 add.) = 3 mult. 1 add.; z: max (1), * (1) = 2 mult.
    assert c.forward_mode == Work(multiplications=6, additions=1)
    assert (c.m, c.n, c.inputs) == (1, 3, 3)
    # the + node (n2) is on the paths of x and y, max (n4) on those of y and z.
    assert c.repeated == {2: 2, 4: 2}


def test_the_neural_layer() -> None:
    # z = W @ x + b; h = sigmoid(z); s = u @ h with W 2x3, x 3, b 2, u 2.
    values = {
        "W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]],
        "x": [1.0, 2.0, 3.0],
        "b": [0.5, -0.5],
        "u": [1.0, -1.0],
    }
    c = counted("z = W @ x + b; h = sigmoid(z); s = u @ h", values)
    # forward: W @ x 6 mult. + 6 add. (2nkm = 12); + b 2 add.; sigmoid 2 eval.; u @ h 2 mult. 2 add.
    assert c.forward == Work(multiplications=8, additions=10, functions=2)
    assert c.forward.flops == 20
    # backward: u @ h: du = g h (2 mult.), dh = g u (2 mult.); sigmoid: 2 mult.; +: 0;
    # W @ x: dW = δ x^T (6 mult.), dx = W^T δ (6 mult., sums of 2 terms: 6 add.).
    assert c.backward_pass == Work(multiplications=18, additions=6)
    # separately: W: dh, σ', dW = 2 + 2 + 6 = 10 mult.; x: 2 + 2 + 6 mult. + 6 add.;
    # b: 2 + 2 = 4 mult.; u: du = 2 mult. So ∂s/∂h · ∂h/∂z is computed three times (W, x, b).
    assert c.separately == Work(multiplications=26, additions=6)
    # forward mode: 6 tangent passes for W, 3 for x, 2 for b, 2 for u:
    # W: W@x term 6 m. 6 a., σ' 2 m., u @ t 2 m. 2 a. = 10 m. 8 a. per pass -> 60 m. 48 a.
    # x: the same 10 m. 8 a. -> 30 m. 24 a.; b: σ' 2 m., u @ t 2 m. 2 a. -> 8 m. 4 a.
    # u: t @ h 2 m. 2 a. -> 4 m. 4 a.
    assert c.forward_mode == Work(multiplications=102, additions=80)
    assert (c.m, c.n) == (1, 13)
    # z (n4) and h (n5) for W, x and b; W @ x (n2) for W and x (nodes: W, x, W@x, b, z, h, u, s).
    names = {2: "W @ x", 4: "z", 5: "h"}
    assert {names.get(node, node): times for node, times in c.repeated.items()} == {
        "W @ x": 2, "z": 3, "h": 3,
    }
    # The lecture's conclusion: reverse mode costs about what the forward pass costs.
    assert c.reverse.flops / c.forward.flops == 24 / 20


def test_data_needs_no_gradient_and_is_not_counted() -> None:
    # z = W @ x with W data: only dx = W^T δ (6 mult., 6 add.) is counted, not dW.
    c = counted("W @ x", {"W": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "x": [1.0, 2.0, 3.0]}, ("W",))
    assert c.backward_pass == Work(multiplications=6, additions=6)
    assert (c.m, c.n) == (2, 3)
    assert c.reverse == Work(multiplications=12, additions=12)  # 2 passes
    assert c.forward_mode == Work(multiplications=18, additions=18)  # 3 passes of W @ t


def test_broadcasting_sums_back_and_branches_meet() -> None:
    # x * x + c with x (3,), c () broadcast: forward 3 mult. + 3 add.
    c = counted("x * x + c", {"x": [1.0, 2.0, 3.0], "c": 1.0})
    assert c.forward == Work(multiplications=3, additions=3)
    # backward from the (3,) output, seed e_i: + to c sums 3 terms back to one (3 add.),
    # + to x*x passes (0); * sends 3 mult. to each of its two x edges; x meets 2: 3 add.
    assert c.backward_pass == Work(multiplications=6, additions=6)
    assert c.reverse == c.backward_pass * 3


def test_costs_reach_the_json_with_their_ratio() -> None:
    body = gradtrace.jacobian("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}).to_dict()
    costs = body["costs"]
    assert costs["forward"]["flops"] == 3 and costs["forward"]["times_forward"] == 1.0
    assert costs["reverse"]["flops"] == 5 and costs["reverse"]["passes"] == 1
    assert costs["separately"]["flops"] == 7 and costs["separately"]["passes"] == 3
    assert costs["forward_mode"]["passes"] == 3
    assert "reverse mode: one backward pass, 1.7x the forward pass" in costs["conclusion"]
    assert body["repeated"] == {"n2": 2, "n4": 2}
    assert np.isclose(costs["separately"]["times_forward"], 7 / 3, atol=1e-4)


def test_every_ops_work_rule_answers_at_every_legal_shape() -> None:
    from tests.engine.test_registry import CASES

    for name, shapes in CASES:
        op = OPS[name]
        assert op.work is not None, name
        work = op.work(op.shape(*shapes), *shapes)
        assert len(work.vjp) == len(work.jvp) == op.arity, name
        for part in (work.forward, *work.vjp, *work.jvp):
            counts = (part.multiplications, part.additions, part.functions)
            assert all(isinstance(c, int) and c >= 0 for c in counts), (name, shapes, part)


def test_the_counting_stops_at_the_deadline() -> None:
    import pytest

    from gradtrace.errors import LimitExceededError

    values = {f"x{i}": [1.0, 2.0] for i in range(50)}
    expression = " + ".join(values)
    with pytest.raises(LimitExceededError) as caught:
        gradtrace.jacobian(expression, values, limits=Limits(max_seconds=1e-9, max_jacobian_passes=None))
    assert caught.value.limit == "max_seconds"
