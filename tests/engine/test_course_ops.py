"""The ops courses write, against numpy (and PyTorch's conventions for ties), with every error's place.

Indexing and slicing, reductions along an axis, max(v) and min(v), outer, norm,
logsumexp, log_softmax, the named numbers pi and e, transpose(u), and the
cross-entropy -log(softmax(z)[y]) whose gradient is softmax(z) - onehot(y).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrace
from gradtrace import Limits
from gradtrace.errors import TraceError

Z = [1.0, 2.0, 0.5]
W = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum())


def error_of(expression: str, values: dict[str, object], **kwargs: object) -> TraceError:
    with pytest.raises(TraceError) as caught:
        gradtrace.trace(expression, values, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("expression", "index"),
    [
        ("z[2]", (2,)),
        ("z[-1]", (-1,)),
        ("z[0]", (0,)),
    ],
)
def test_a_vector_indexed_by_a_whole_number(expression: str, index: tuple[int, ...]) -> None:
    t = gradtrace.trace(expression, {"z": Z}, check=True)
    assert t.value == np.asarray(Z)[index]
    expected = np.zeros(3)
    expected[index] = 1.0
    np.testing.assert_array_equal(t.gradients["z"], expected)
    assert t.check is not None and t.check["z"]["ok"]


@pytest.mark.parametrize(
    ("inner", "index"),
    [
        ("W[0, :]", (0, slice(None))),
        ("W[:, 1]", (slice(None), 1)),
        ("W[1]", (1,)),
        ("W[-1, 0:2]", (-1, slice(0, 2))),
        ("W[:, 1:]", (slice(None), slice(1, None))),
        ("W[0, -1]", (0, -1)),
    ],
)
def test_a_matrix_indexed_and_sliced_as_numpy_does(inner: str, index: tuple[Any, ...]) -> None:
    picked = np.asarray(W)[index]
    weights = np.arange(1.0, 1.0 + np.size(picked)).reshape(np.shape(picked))
    values = {"W": W, "w": weights.tolist()}
    t = gradtrace.trace(f"sum({inner} * w)", values, check=True)
    assert t.value == pytest.approx(float(np.sum(picked * weights)))
    expected = np.zeros((2, 3))
    expected[index] = weights
    np.testing.assert_array_equal(t.gradients["W"], expected)
    node = next(n for n in t.to_dict()["nodes"] if n["op"] == "index")
    assert node["label"] == inner[1:]  # "[0, :]", as typed
    assert list(np.shape(picked)) == node["shape"]


@pytest.mark.parametrize("y", [0, 1, 2])
def test_cross_entropy_gradient_is_softmax_minus_onehot(y: int) -> None:
    z = np.asarray(Z)
    expected = softmax(z) - np.eye(3)[y]
    # y a number literal, y an input named as a constant, y an input not named so.
    by_literal = gradtrace.trace(f"-log(softmax(z)[{y}])", {"z": Z}, check=True)
    by_constant = gradtrace.trace(
        "loss = -log(softmax(z)[y])", {"z": Z, "y": y}, check=True, constants=["y"]
    )
    by_input = gradtrace.trace("-log(softmax(z)[y])", {"z": Z, "y": y})
    for t in (by_literal, by_constant, by_input):
        assert t.value == pytest.approx(-math.log(softmax(z)[y]))
        np.testing.assert_allclose(t.gradients["z"], expected, rtol=1e-12, atol=1e-15)
        assert not [w for w in t.warnings if w["kind"] == "unused_input"]
    assert by_literal.check is not None and by_literal.check["z"]["ok"]
    assert by_constant.check is not None and set(by_constant.check) == {"z"}
    body = by_constant.to_dict()
    assert body["gradients"]["y"] == 0.0
    index = next(n for n in body["nodes"] if n["op"] == "index")
    assert index["label"] == "[y]"
    assert "softmax(z)[y]" in next(s["text"] for s in body["steps"] if s["node"] == index["id"])


@pytest.mark.parametrize(
    ("expression", "axis", "mean"),
    [
        ("sum(A, axis=0)", 0, False),
        ("sum(A, axis=1)", 1, False),
        ("sum(A, axis=-1)", -1, False),
        ("mean(A, axis=0)", 0, True),
        ("mean(A, axis=1)", 1, True),
    ],
)
def test_reductions_along_an_axis(expression: str, axis: int, mean: bool) -> None:
    a = np.asarray(W)
    reduced = a.mean(axis=axis) if mean else a.sum(axis=axis)
    weights = np.arange(1.0, 1.0 + reduced.size)
    t = gradtrace.trace(f"{expression} @ w", {"A": W, "w": weights.tolist()}, check=True)
    assert t.value == pytest.approx(float(reduced @ weights))
    expected = np.broadcast_to(np.expand_dims(weights, axis), a.shape) / (a.shape[axis] if mean else 1)
    np.testing.assert_allclose(t.gradients["A"], expected, rtol=1e-12)
    assert t.check is not None and t.check["A"]["ok"]


def test_sum_and_mean_of_a_vector_along_axis_0_are_sum_and_mean() -> None:
    t = gradtrace.trace("sum(v, axis=0) + mean(v, axis=0)", {"v": Z})
    assert t.value == pytest.approx(sum(Z) + sum(Z) / 3)
    np.testing.assert_allclose(t.gradients["v"], np.full(3, 1 + 1 / 3))


@pytest.mark.parametrize(
    ("expression", "values", "gradient"),
    [
        # Ties share the gradient evenly, as PyTorch's amax and amin do.
        ("max(v)", [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
        ("min(v)", [2.0, 2.0, 2.0, 5.0], [1 / 3, 1 / 3, 1 / 3, 0.0]),
        ("max(v)", [1.0, 3.0, 2.0], [0.0, 1.0, 0.0]),
        ("min(v)", [[4.0, -1.0], [0.0, 2.0]], [[0.0, 1.0], [0.0, 0.0]]),
    ],
)
def test_max_and_min_of_one_argument(expression: str, values: Any, gradient: Any) -> None:
    t = gradtrace.trace(expression, {"v": values})
    reduce = np.max if expression.startswith("max") else np.min
    assert t.value == reduce(values)
    np.testing.assert_allclose(t.gradients["v"], gradient, rtol=1e-15)
    ties = [w for w in t.warnings if w["kind"] == "tie"]
    assert bool(ties) == (np.count_nonzero(np.asarray(values) == reduce(values)) > 1)
    assert next(n for n in t.to_dict()["nodes"] if n["kind"] == "op")["op"] == (
        "amax" if expression.startswith("max") else "amin"
    )


def test_two_argument_max_and_min_stay_as_they_are() -> None:
    t = gradtrace.trace("max(y, z) + min(y, z)", {"y": 2.0, "z": 2.0})
    assert (t.gradients["y"], t.gradients["z"]) == (1.0, 1.0)
    ops = [n["op"] for n in t.to_dict()["nodes"] if n["kind"] == "op"]
    assert ops[:2] == ["max", "min"]


def test_outer_norm_logsumexp_log_softmax_against_numpy() -> None:
    a, b = np.asarray(Z), np.asarray([0.5, -1.5])
    m = np.asarray([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.0]])
    values = {"a": Z, "b": b.tolist(), "M": m.tolist()}
    t = gradtrace.trace("sum(outer(a, b) * M)", values, check=True)
    assert t.value == pytest.approx(float(np.sum(np.outer(a, b) * m)))
    np.testing.assert_allclose(t.gradients["a"], m @ b)
    np.testing.assert_allclose(t.gradients["b"], m.T @ a)
    t = gradtrace.trace("norm(a)", values, check=True)
    assert t.value == pytest.approx(float(np.linalg.norm(a)))
    np.testing.assert_allclose(t.gradients["a"], a / np.linalg.norm(a))
    t = gradtrace.trace("logsumexp(a)", values, check=True)
    assert t.value == pytest.approx(float(np.log(np.sum(np.exp(a)))))
    np.testing.assert_allclose(t.gradients["a"], softmax(a))
    t = gradtrace.trace("log_softmax(a)[1]", values, check=True)
    assert t.value == pytest.approx(float(np.log(softmax(a))[1]))
    np.testing.assert_allclose(t.gradients["a"], np.eye(3)[1] - softmax(a))
    # log_softmax of a matrix works along its last axis, as softmax does.
    t = gradtrace.trace("sum(log_softmax(M) * M)", values, check=True)
    shifted = m - m.max(axis=-1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    assert t.value == pytest.approx(float(np.sum(expected * m)))
    assert t.check is not None and t.check["M"]["ok"]


def test_norm_at_zero_takes_pytorchs_zero_gradient() -> None:
    t = gradtrace.trace("norm(v)", {"v": [0.0, 0.0]})
    assert t.value == 0.0
    np.testing.assert_array_equal(t.gradients["v"], [0.0, 0.0])
    assert [w["kind"] for w in t.warnings] == ["kink"]


def test_pi_and_e_are_named_numbers() -> None:
    t = gradtrace.trace("pi * x + e", {"x": 2.0})
    assert t.value == pytest.approx(2 * math.pi + math.e)
    assert t.gradients == {"x": math.pi}
    body = t.to_dict()
    constants = [n for n in body["nodes"] if n["kind"] == "constant"]
    assert [n["label"] for n in constants] == ["pi", "e"]
    # An input or an assignment of that name wins.
    assert gradtrace.trace("e * 2", {"e": 3.0}).value == 6.0
    assert gradtrace.trace("e = x - 1; e * e", {"x": 3.0}).value == 4.0


def test_transpose_is_the_same_op_as_dot_t_and_a_vectors_transpose_is_warned() -> None:
    values = {"u": [1.0, 2.0], "h": [3.0, 4.0], "W": [[1.0, 2.0], [3.0, 4.0]]}
    called = gradtrace.trace("s = transpose(u) @ h", values).to_dict()
    written = gradtrace.trace("s = u.T @ h", values).to_dict()
    assert called["value"] == written["value"] == 11.0
    assert [n["op"] for n in called["nodes"]] == [n["op"] for n in written["nodes"]]
    warnings = [w for w in written["warnings"] if w["kind"] == "no_effect"]
    assert len(warnings) == 1 and warnings[0]["node"] == "n1"
    assert "changes nothing" in warnings[0]["message"] and "[[1], [2]]" in warnings[0]["message"]
    matrix = gradtrace.trace("sum(transpose(W) @ u)", values)
    assert not [w for w in matrix.warnings if w["kind"] == "no_effect"]
    np.testing.assert_array_equal(matrix.gradients["W"], np.outer([1.0, 2.0], [1.0, 1.0]))


V3 = {"z": Z, "A": W, "y": 1, "half": 1.5, "v2": [1.0, 2.0]}


@pytest.mark.parametrize(
    ("expression", "type_", "span", "words"),
    [
        ("z[3]", "shape_error", (1, 4), "out of range"),
        ("z[-4]", "shape_error", (1, 5), "out of range"),
        ("A[0, 3]", "shape_error", (1, 7), "axis 1"),
        ("A[0, 0, 0]", "shape_error", (1, 10), "3 indices"),
        ("z[2:2]", "shape_error", (1, 6), "takes nothing"),
        ("sum(z[0][0])", "shape_error", (8, 11), "scalar cannot be indexed"),
        ("sum(A, axis=2)", "shape_error", (7, 13), "axis 2 is out of range"),
        ("mean(A, axis=-3)", "shape_error", (8, 15), "out of range"),
        ("x = sum(z, axis=0); sum(x, axis=0)", "shape_error", (27, 33), "scalar has no axis"),
        ("z[1.5]", "syntax_error", (2, 5), "whole number"),
        ("z[::-1]", "syntax_error", (3, 4), "step"),
        ("sum(A, axes=0)", "syntax_error", (7, 13), "no keyword 'axes'"),
        ("sum(A, axis=x)", "syntax_error", (12, 13), "whole number"),
        ("sum(axis=0, A)", "syntax_error", (12, 13), "keywords"),
        ("max(z, z, z)", "syntax_error", (0, 12), "max(a, b) or max(v)"),
        ("z[half]", "invalid_value", (2, 6), "whole number"),
        ("z[v2]", "invalid_value", (2, 4), "one whole number"),
        ("q = 1; z[q]", "invalid_value", (9, 10), "computed"),
        ("z[k] + m", "undefined_name", (2, 3), "'k' has no value"),
        ("[1, 2] @ z", "syntax_error", (0, 1), "input values"),
        ("z[0", "syntax_error", (1, 2), "unclosed '['"),
    ],
)
def test_errors_of_the_new_ops_at_their_place(
    expression: str, type_: str, span: tuple[int, int], words: str
) -> None:
    error = error_of(expression, V3)
    assert (error.type, error.span) == (type_, span), error.message
    assert words in error.message


def test_every_missing_name_includes_the_ones_read_as_an_index() -> None:
    detail = error_of("z[k] + m", V3).to_dict()
    assert [p["span"] for p in detail["problems"]] == [[2, 3], [7, 8]]


def test_the_cost_model_prices_the_new_ops_before_anything_runs() -> None:
    big = {"a": np.ones(2000), "b": np.ones(2000)}
    with pytest.raises(TraceError) as caught:
        gradtrace.plan("sum(outer(a, b))", big, limits=Limits())
    assert caught.value.type == "limit_exceeded"
    assert caught.value.span == (4, 9)  # at outer, before its 4,000,000 numbers exist
    plan = gradtrace.plan("logsumexp(log_softmax(a)) + max(a) + norm(a) + a[3] + sum(a, axis=0)", big)
    assert plan.cost.flops > 0 and plan.cost.nodes == 11


def test_log_softmax_and_logsumexp_are_priced_as_softmax_is() -> None:
    values = {"a": np.ones(50)}
    flops = {
        name: gradtrace.plan(f"sum({name}(a))", values).cost.flops for name in ("softmax", "log_softmax")
    }
    assert flops["softmax"] == flops["log_softmax"]
    assert gradtrace.plan("logsumexp(a)", values).cost.flops > gradtrace.plan("sum(a)", values).cost.flops
