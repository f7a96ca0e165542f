"""The contract's conventions at ties and kinks (PyTorch's), warnings, and very long programs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrace
from tests.engine.invariants import assert_trace_invariants


def traced(expression: str, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    body = gradtrace.trace(expression, values, **kwargs).to_dict()
    assert_trace_invariants(body)
    return body


def kinds(body: dict[str, Any]) -> list[str]:
    return [w["kind"] for w in body["warnings"]]


@pytest.mark.parametrize("op", ["max", "min"])
def test_tie_splits_evenly_and_warns(op: str) -> None:
    body = traced(f"{op}(y, z) * 4", {"y": 2, "z": 2})
    assert body["gradients"] == {"y": 2.0, "z": 2.0}
    tie = next(w for w in body["warnings"] if w["kind"] == "tie")
    node = next(n for n in body["nodes"] if n["op"] == op)
    assert tie["node"] == node["id"] and "0.5" in tie["message"]


def test_max_of_a_value_with_itself_gives_the_full_gradient() -> None:
    body = traced("max(y, y)", {"y": 3})
    assert body["gradients"]["y"] == 1.0
    assert [e["local"] for e in body["edges"]] == [0.5, 0.5]


def test_tensor_ties_split_elementwise() -> None:
    body = traced("sum(max(a, b))", {"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]})
    assert body["gradients"] == {"a": [0.0, 0.5, 1.0], "b": [1.0, 0.5, 0.0]}
    assert "tie" in kinds(body)


@pytest.mark.parametrize(
    ("expression", "values", "name", "grad", "kind"),
    [
        ("relu(x)", {"x": 0}, "x", 0.0, "kink"),
        ("abs(x)", {"x": 0}, "x", 0.0, "kink"),
        ("sqrt(x)", {"x": 0}, "x", math.inf, "kink"),
        ("x**0", {"x": 0}, "x", 0.0, "kink"),
        ("x**0", {"x": 3}, "x", 0.0, "kink"),
        ("x**y", {"x": 0, "y": 2}, "y", 0.0, "kink"),
        ("x**y", {"x": 0, "y": 0}, "y", 0.0, "kink"),
    ],
)
def test_kinks_follow_pytorch(expression: str, values: dict[str, float], name: str, grad: float, kind: str) -> None:
    result = gradtrace.trace(expression, values)
    assert_trace_invariants(result.to_dict())
    assert result.gradients[name] == grad
    assert kind in kinds(result.to_dict())


def test_smooth_points_do_not_warn() -> None:
    body = traced("relu(x) + abs(x) + sqrt(y) + max(x, y) + x**2", {"x": 1.5, "y": 2.5})
    assert body["warnings"] == []


def test_tensor_kinks_warn() -> None:
    body = traced("sum(relu(x) + abs(x))", {"x": [-1.0, 0.0, 2.0]})
    assert body["gradients"]["x"] == [-1.0, 0.0, 2.0]
    assert kinds(body).count("kink") == 2


def test_unused_inputs_and_values_warn() -> None:
    body = traced("a = y * 2; x * 3", {"x": 1, "y": 2, "w": 5})
    assert body["gradients"] == {"x": 3.0, "y": 0.0, "w": 0.0}
    messages = {w["kind"]: w for w in body["warnings"]}
    assert "unused_input" in messages and "unused_value" in messages
    assert any("'w'" in w["message"] and w["node"] is None for w in body["warnings"])
    assert any("'y'" in w["message"] for w in body["warnings"])


def test_named_intermediates_keep_their_names() -> None:
    body = traced("a = x + y; b = a * a; b", {"x": 1, "y": 2})
    names = {n["name"]: n for n in body["nodes"] if n["name"]}
    assert names["a"]["label"] == "+" and names["b"]["label"] == "*"
    assert body["gradients"] == {"x": 6.0, "y": 6.0}
    a_step = next(s for s in body["steps"] if s["phase"] == "backward" and s["node"] == names["a"]["id"])
    assert "3 + 3 = 6" in a_step["text"]


def test_reused_node_gradient_sums_in_tensors() -> None:
    body = traced("sum(x * x + x)", {"x": [1.0, -2.0]})
    assert body["gradients"]["x"] == [3.0, -3.0]


def test_local_jacobian_is_null_above_the_limit_but_shape_is_given() -> None:
    values = {"W": np.ones((20, 30)), "x": np.ones(30)}
    body = traced("sum(W @ x)", values, limits=gradtrace.Limits(max_local_elements=100))
    w_edge = next(e for e in body["edges"] if e["source"] == "n0")
    assert w_edge["local"] is None and w_edge["local_shape"] == [20, 20, 30]
    sum_edge = next(e for e in body["edges"] if body["nodes"][int(e["target"][1:])]["op"] == "sum")
    assert sum_edge["local"] is not None


def test_broadcast_gradients_sum_back_to_their_shapes() -> None:
    values = {"m": np.arange(6.0).reshape(2, 3), "r": [[1.0, 2.0, 3.0]], "c": [[1.0], [2.0]], "s": 2.0}
    body = traced("sum(m * r + c * s)", values)
    assert body["gradients"]["r"] == [[3.0, 5.0, 7.0]]
    assert body["gradients"]["c"] == [[6.0], [6.0]]
    assert body["gradients"]["s"] == 3 * (1.0 + 2.0)


def test_json_is_plain_python() -> None:
    body = traced("sum(softmax(W @ x))", {"W": np.eye(2), "x": np.array([1.0, 2.0])})
    import json

    assert json.loads(json.dumps(body)) == body


def test_hundred_thousand_op_chain_has_no_recursion_error() -> None:
    # 100,000 ops in statements that branch and reuse, then one flat 50,000-term sum.
    lines = ["a0 = x"]
    ops = ["a{p} * 0.5 + x", "tanh(a{p})", "relu(a{p}) + a{q}", "max(a{p}, a{q}) * 0.5"]
    count = 0
    i = 0
    while count < 100_000:
        i += 1
        template = ops[i % 4]
        lines.append(f"a{i} = " + template.format(p=i - 1, q=max(0, i - 7)))
        count += 2 if i % 4 in (0, 2, 3) else 1
    text = "\n".join(lines)
    result = gradtrace.trace(text, {"x": 0.3})
    assert math.isfinite(result.value) and math.isfinite(result.gradients["x"])
    assert len(result.to_dict()["nodes"]) > 100_000
    flat = " + ".join(["x"] * 50_000)
    result = gradtrace.trace(flat, {"x": 1.0})
    assert result.value == 50_000.0 and result.gradients["x"] == 50_000.0


def test_negative_literals_are_one_constant() -> None:
    body = traced("-2 * x + (-3)", {"x": 1.5})
    constants = [n for n in body["nodes"] if n["kind"] == "constant"]
    assert [(n["label"], n["value"]) for n in constants] == [("-2", -2.0), ("-3", -3.0)]
    assert not any(n["op"] == "neg" for n in body["nodes"])
    assert body["value"] == -6.0 and body["gradients"]["x"] == -2.0
    # A negated name or expression is an op node.
    body = traced("-x - -(x * 2)", {"x": 1.0})
    assert sum(n["op"] == "neg" for n in body["nodes"]) == 2


def test_unused_tensor_inputs_get_zero_gradients_of_their_shape() -> None:
    body = traced("x * 2", {"x": 1.0, "v": [1.0, 2.0, 3.0]})
    assert body["gradients"]["v"] == [0.0, 0.0, 0.0]


def test_long_flat_chain_serialises() -> None:
    # Each + node's span covers the chain before it: texts must not copy those spans.
    text = " + ".join(["x"] * 20_000)
    body = gradtrace.trace(text, {"x": 0.5}).to_dict()
    assert body["value"] == 10_000.0 and body["gradients"]["x"] == 20_000.0
    assert len(body["steps"]) == 2 * len(body["nodes"])


@pytest.mark.parametrize(
    ("expression", "values", "gradients"),
    [
        ("t = log(z); 2*z", {"z": 0.0}, {"z": 2.0}),
        ("t = z/y; y", {"z": 1.0, "y": 0.0}, {"z": 0.0, "y": 1.0}),
        ("t = sqrt(z); N = relu(h); A = z", {"z": -4.0, "h": [[1e-127], [-5.0], [-700.0]]},
         {"z": 1.0, "h": [[0.0], [0.0], [0.0]]}),
        ("t = log(v); sum(v * 2)", {"v": [0.0, 1.0]}, {"v": [2.0, 2.0]}),
    ],
)
def test_dead_statements_send_no_gradient(expression: str, values: dict[str, Any], gradients: dict[str, Any]) -> None:
    # A statement the output never uses must not turn 0 x inf into NaN in its inputs' gradients.
    body = traced(expression, values)
    assert body["gradients"] == gradients
    assert "unused_value" in kinds(body)


@pytest.mark.parametrize(
    ("expression", "values"),
    [("sum(log(x))", {"x": [[0.0]]}), ("exp(dot(A, (log(x)) @ (A)))", {"A": [0.0], "x": [[0.0]]})],
)
def test_non_finite_numbers_in_jacobians_of_any_rank(expression: str, values: dict[str, Any]) -> None:
    body = traced(expression, values)
    locals_ = [e["local"] for e in body["edges"] if e["local"] is not None]
    assert any(len(e["local_shape"]) >= 3 for e in body["edges"])
    assert locals_


@pytest.mark.parametrize("blank", [" ", "\t", "\r"])
def test_trailing_blanks_are_not_quadratic(blank: str) -> None:
    # 20,000 characters; the old scan retried the blanks from every position (minutes).
    text = "x" + blank * 19_999
    body = traced(text, {"x": 1.5})
    assert body["value"] == 1.5


@pytest.mark.parametrize("expression", ["a = x * 2; b = y * 3; a", "c = x * 2\nx", "a = x * y; b = a + 1; f = a"])
def test_the_first_backward_step_seeds_the_output(expression: str) -> None:
    body = traced(expression, {"x": 1.5, "y": -2.0})
    backward = [s for s in body["steps"] if s["phase"] == "backward"]
    assert backward[0]["node"] == body["output"]
    assert body["nodes"][-1]["id"] == body["output"]
    assert "seed" in backward[0]["text"]


def test_a_non_finite_gradient_of_a_constant_is_kept_but_not_warned() -> None:
    # d/dy x**y = x**y log(x) is NaN for x < 0: the exponent 1 is a constant here, and
    # a constant needs no gradient, so nothing is wrong with the trace.
    body = traced("exp(exp(A ** 1))", {"A": -1.0})
    constant = next(n for n in body["nodes"] if n["kind"] == "constant")
    assert constant["grad"] == "NaN" and constant["constant"] is True
    assert not any(w["node"] == constant["id"] for w in body["warnings"])


def test_cancelling_branches_round_within_the_invariants() -> None:
    # 1/x and -x/x**2 cancel exactly in truth; in floats the order of the sum decides.
    traced("x / x + x", {"x": 1.3612304922349008e-134})
