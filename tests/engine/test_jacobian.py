"""The Jacobian of vector outputs by m backward passes and by n tangent passes.

Both modes give the same matrix, which agrees with central differences; the
lecture's cases read as the lecture writes them: diag(σ'(z)) for h = sigmoid(z),
W for x and I for b in z = W @ x + b, and the gradient as a row for a loss.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradtrace
from gradtrace.errors import InvalidValueError, LimitExceededError, OutputNotScalarError
from gradtrace.jacobians import Jacobian
from gradtrace.limits import Limits

W = [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]]
LAYER = {"W": W, "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5]}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def both_modes_agree(result: Jacobian) -> None:
    body = result.to_dict()
    reverse = np.array([p["row"] for p in body["reverse"]["passes"]])
    forward = np.array([p["column"] for p in body["forward"]["passes"]]).T
    np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.matrix, reverse)
    assert body["check"]["ok"], body["check"]
    np.testing.assert_allclose(result.matrix, np.array(body["check"]["numeric"]), atol=1e-6)


def test_sigmoid_gives_diag_of_its_slope() -> None:
    z = np.array([0.5, -1.0, 2.0])
    result = gradtrace.jacobian("h = sigmoid(z)", {"z": z.tolist()})
    s = sigmoid(z)
    np.testing.assert_allclose(result.matrix, np.diag(s * (1 - s)), rtol=1e-12)
    assert (result.m, result.n) == (3, 3)
    both_modes_agree(result)


def test_affine_layer_gives_w_for_x_and_the_identity_for_b() -> None:
    result = gradtrace.jacobian("z = W @ x + b", LAYER, constants=["W"])
    np.testing.assert_array_equal(result.blocks["x"], np.array(W))
    np.testing.assert_array_equal(result.blocks["b"], np.eye(2))
    assert "W" not in result.blocks  # data: no columns
    body = result.to_dict()
    assert [(c["name"], c["offset"], c["size"]) for c in body["inputs"]] == [("x", 0, 3), ("b", 3, 2)]
    assert body["m"] == 2 and body["n"] == 5
    both_modes_agree(result)


def test_the_block_of_a_matrix_has_the_output_shape_then_the_input_shape() -> None:
    result = gradtrace.jacobian("z = W @ x + b", LAYER)
    block = result.blocks["W"]
    assert block.shape == (2, 2, 3)
    # dz_i / dW_kl = [i == k] x_l
    expected = np.einsum("ik,l->ikl", np.eye(2), np.array(LAYER["x"]))
    np.testing.assert_allclose(block, expected)
    both_modes_agree(result)


def test_a_scalar_output_gives_the_gradient_as_a_row() -> None:
    values = {**LAYER, "u": [1.0, -1.0]}
    expression = "z = W @ x + b; h = sigmoid(z); s = u @ h"
    result = gradtrace.jacobian(expression, values)
    traced = gradtrace.trace(expression, values)
    assert result.m == 1
    row = np.concatenate([np.ravel(traced.gradients[name]) for name in ("W", "x", "b", "u")])
    np.testing.assert_allclose(result.matrix[0], row, rtol=1e-12)
    both_modes_agree(result)
    assert result.cheaper == "reverse"


def test_scalar_graphs_use_the_same_passes() -> None:
    result = gradtrace.jacobian("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0})
    np.testing.assert_allclose(result.matrix, [[2.0, 5.0, 0.0]])
    both_modes_agree(result)


def test_a_matrix_output_is_flattened_row_major() -> None:
    values = {"A": [[1.0, 2.0], [3.0, 4.0]], "v": [0.5, -2.0]}
    result = gradtrace.jacobian("A * v", values)  # (2, 2) broadcast with (2,)
    assert result.m == 4 and result.n == 6
    both_modes_agree(result)
    # d(A * v)_{ij} / dv_k = A_ij [j == k]
    block = result.blocks["v"]
    assert block.shape == (2, 2, 2)
    assert block[1, 0, 0] == 3.0 and block[1, 0, 1] == 0.0


def test_softmax_and_transpose_through_both_modes() -> None:
    values = {"z": [1.0, 2.0, 0.5], "M": [[1.0, 0.0, 2.0], [0.5, -1.0, 1.0]]}
    both_modes_agree(gradtrace.jacobian("p = softmax(z); q = (M @ p) * 2; q.T", values))


def test_more_outputs_than_inputs_makes_forward_mode_cheaper() -> None:
    result = gradtrace.jacobian("y = v * a", {"v": [1.0, 2.0, 3.0, 4.0], "a": 2.0}, constants=["v"])
    assert (result.m, result.n) == (4, 1)
    assert result.cheaper == "forward"
    assert "4 output elements against 1 input element" in result.to_dict()["why"]


def test_one_mode_alone() -> None:
    body = gradtrace.jacobian("h = sigmoid(z)", {"z": [1.0, 2.0]}, modes=["forward"]).to_dict()
    assert body["reverse"] is None and len(body["forward"]["passes"]) == 2
    assert body["check"]["modes_max_abs_difference"] is None
    body = gradtrace.jacobian("h = sigmoid(z)", {"z": [1.0, 2.0]}, modes=["reverse"]).to_dict()
    assert body["forward"] is None and len(body["reverse"]["passes"]) == 2


def test_each_pass_keeps_every_nodes_adjoint_or_tangent() -> None:
    body = gradtrace.jacobian("z = W @ x + b; h = sigmoid(z)", LAYER, constants=["W"]).to_dict()
    ids = [node["id"] for node in body["nodes"]]
    first = body["reverse"]["passes"][0]
    assert first["seed"] == [0] and len(first["adjoints"]) == len(ids)
    assert first["adjoints"][ids.index("n0")] is None  # W is data: no adjoint
    assert first["adjoints"][-1] == [1.0, 0.0]  # the seed, e_0
    tangent = body["forward"]["passes"][3]  # b's first element
    assert tangent["input"] == "b" and tangent["node"] == "n3" and tangent["seed"] == [0]
    assert tangent["tangents"][ids.index("n1")] is None  # x is not reached from b
    assert "grad" not in body["nodes"][0]


def test_bad_modes_and_limits_are_refused_before_work() -> None:
    with pytest.raises(InvalidValueError):
        gradtrace.jacobian("x * 2", {"x": 1.0}, modes=["sideways"])
    with pytest.raises(InvalidValueError):
        gradtrace.jacobian("x * 2", {"x": 1.0}, modes="reverse")
    limits = Limits(max_jacobian_passes=4)
    with pytest.raises(LimitExceededError) as caught:
        gradtrace.jacobian("h = sigmoid(z)", {"z": [1.0, 2.0, 3.0]}, limits=limits)
    assert caught.value.limit == "max_jacobian_passes"
    # One mode fits where both do not.
    gradtrace.jacobian("h = sigmoid(z)", {"z": [1.0, 2.0, 3.0]}, modes=["reverse"], limits=limits)


def test_the_trace_still_refuses_a_vector_output_and_names_the_jacobian() -> None:
    with pytest.raises(OutputNotScalarError) as caught:
        gradtrace.trace("h = sigmoid(z)", {"z": [1.0, 2.0]})
    assert "/api/v1/jacobian" in caught.value.message and "sum(" in caught.value.message


def test_passes_reusing_the_forward_locals_give_the_same_numbers() -> None:
    from gradtrace.engine import forward
    from gradtrace.jacobians import forward_passes, prepare, reverse_passes, with_locals
    from gradtrace.limits import Deadline

    values = {"z": [0.5, -1.0, 2.0], "M": [[1.0, 0.0, 2.0], [0.5, -1.0, 1.0]]}
    graph, inputs = prepare("h = tanh(M @ exp(z)); sigmoid(h) * relu(h - 1)", values, (), Limits.unlimited())
    deadline = Deadline(None)
    node_values, locals_ = forward(graph, inputs, deadline)
    linear = with_locals(graph, node_values)
    assert linear.ops != graph.ops and linear.shape is graph.shape
    for passes in (reverse_passes, forward_passes):
        plain = passes(graph, node_values, locals_, deadline)[0]
        np.testing.assert_array_equal(passes(linear, node_values, locals_, deadline)[0], plain)


def test_known_operands_scan_each_value_once_and_forget_them_after() -> None:
    from gradtrace import ops

    W = np.full((10, 10), 2.0)
    W[3, 4] = 1e-300  # a product with it may be subnormal: the einsum path stays chosen
    seed = np.zeros(10)
    seed[2] = 1.0
    expected = np.einsum("ij,j->i", W, seed)
    with ops.known_operands([W]):
        assert ops._smallest(W) == 1e-300 and ops._smallest(W.T) == 1e-300
        np.testing.assert_array_equal(ops.product(W, seed), expected)
        np.testing.assert_array_equal(ops.product(np.transpose(W), seed), np.einsum("ji,j->i", W, seed))
    assert ops._KNOWN.get() is None
    assert ops._smallest(np.ones((10, 10))) == 1.0
