"""The lecture's worked numbers, exactly, through the public Python API."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrace
from tests.engine.invariants import assert_trace_invariants


def traced(expression: str, values: dict, **kwargs: object) -> gradtrace.Trace:
    result = gradtrace.trace(expression, values, **kwargs)  # type: ignore[arg-type]
    assert_trace_invariants(result.to_dict())
    return result


@pytest.mark.parametrize(("x", "value", "grad"), [(1, 1.0, 3.0), (4, 64.0, 48.0)])
def test_cube(x: float, value: float, grad: float) -> None:
    result = traced("x**3", {"x": x})
    assert result.value == value
    assert result.gradients["x"] == grad


@pytest.mark.parametrize("x", [-2.0, 0.5, 3.0])
def test_chain_rule_gives_six_x(x: float) -> None:
    result = traced("y = x**2; z = 3*y", {"x": x})
    assert result.gradients["x"] == pytest.approx(6 * x)
    body = result.to_dict()
    assert [n["name"] for n in body["nodes"] if n["kind"] == "op"] == ["y", "z"]


def test_max_example_every_number() -> None:
    result = traced("a = x + y\nb = max(y, z)\nf = a * b", {"x": 1, "y": 2, "z": 0})
    assert result.value == 6.0
    assert result.gradients == {"x": 2.0, "y": 5.0, "z": 0.0}
    body = result.to_dict()
    by_name = {n["name"]: n for n in body["nodes"]}
    assert by_name["a"]["grad"] == 2.0
    assert by_name["b"]["grad"] == 3.0
    assert by_name["f"]["grad"] == 1.0
    assert by_name["f"]["id"] == body["output"]
    y_step = next(s for s in body["steps"] if s["phase"] == "backward" and s["node"] == by_name["y"]["id"])
    assert "2 + 3 = 5" in y_step["text"] and "sum" in y_step["text"]
    b_step = next(s for s in body["steps"] if s["phase"] == "forward" and s["node"] == by_name["b"]["id"])
    assert b_step["text"] == "b = max(y, z) = max(2, 0) = 2"


def test_max_example_as_one_expression() -> None:
    result = traced("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0})
    assert (result.value, result.gradients) == (6.0, {"x": 2.0, "y": 5.0, "z": 0.0})
    body = result.to_dict()
    assert [n["label"] for n in body["nodes"]] == ["x", "y", "+", "z", "max", "*"]
    assert body["nodes"][-1]["span"] == [0, len("(x + y) * max(y, z)")]


def _neural_net_values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "W": rng.normal(size=(2, 3)),
        "x": rng.normal(size=3),
        "b": rng.normal(size=2),
        "u": rng.normal(size=2),
    }


def test_neural_net_gradients_match_hand_written_numpy() -> None:
    v = _neural_net_values()
    result = traced("z = W @ x + b; h = sigmoid(z); s = u @ h", v, check=True)
    z = v["W"] @ v["x"] + v["b"]
    h = 1 / (1 + np.exp(-z))
    delta = v["u"] * h * (1 - h)  # ds/db = u * f'(z)
    assert result.value == pytest.approx(float(v["u"] @ h))
    np.testing.assert_allclose(result.gradients["b"], delta, rtol=1e-12)
    np.testing.assert_allclose(result.gradients["W"], np.outer(delta, v["x"]), rtol=1e-12)
    np.testing.assert_allclose(result.gradients["u"], h, rtol=1e-12)
    np.testing.assert_allclose(result.gradients["x"], v["W"].T @ delta, rtol=1e-12)
    for name, array in v.items():
        assert result.gradients[name].shape == array.shape
    body = result.to_dict()
    assert all(entry["ok"] for entry in body["check"].values())
    # The local Jacobian of sigmoid is diag(f'(z)).
    sigmoid_edge = next(
        e for e in body["edges"] if body["nodes"][int(e["target"][1:])]["op"] == "sigmoid"
    )
    np.testing.assert_allclose(np.asarray(sigmoid_edge["local"]), np.diag(h * (1 - h)))


def test_numeric_check_reports_every_input() -> None:
    result = traced("x**3", {"x": 4}, check=True)
    entry = result.to_dict()["check"]["x"]
    assert entry["ok"] is True
    assert entry["numeric"] == pytest.approx(48.0, abs=1e-6)
    assert entry["max_abs_error"] < 1e-5
