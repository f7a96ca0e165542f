"""Constants are data: number literals and inputs named in `constants` need no gradient.

Version 1's fields stay (every node keeps its grad, `gradients` every input);
what changes is what is said about them: nodes are marked, their backward
steps say they need no gradient, and no warning is raised for theirs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrace


def node_named(body: dict, display: str) -> dict:  # type: ignore[type-arg]
    return next(n for n in body["nodes"] if n["display_name"] == display)


def backward_text(body: dict, node_id: str) -> str:  # type: ignore[type-arg]
    return next(s["text"] for s in body["steps"] if s["phase"] == "backward" and s["node"] == node_id)


def test_the_exponent_of_a_polynomial_is_a_constant_without_a_warning() -> None:
    # x**3 at x = -2: d/d3 of x**3 is x**3 ln x, NaN for x < 0; nothing uses it.
    body = gradtrace.trace("x**3", {"x": -2}).to_dict()
    assert body["warnings"] == []
    three = node_named(body, "3")
    assert three["constant"] is True and three["kind"] == "constant"
    assert three["grad"] == "NaN"  # version 1 keeps every node's grad
    assert "x" in body["gradients"] and body["gradients"]["x"] == 12.0
    assert backward_text(body, three["id"]) == "df/d3: 3 is a constant, and a constant needs no gradient"
    output_step = backward_text(body, body["output"])
    assert "df/dx += 1 x 12 = 12" in output_step
    assert "3 is a constant: no gradient to send it" in output_step
    assert "constant" not in node_named(body, "x")


def test_a_loss_whose_target_is_a_constant() -> None:
    z = np.array([1.0, 2.0, 0.5])
    t = np.array([0.0, 1.0, 0.0])
    program = "p = softmax(z); loss = -sum(t * log(p))"
    body = gradtrace.trace(program, {"z": z.tolist(), "t": t.tolist()}, check=True, constants=["t"]).to_dict()
    softmax = np.exp(z) / np.sum(np.exp(z))
    # The textbook result: d loss / dz = softmax(z) - t, with t summing to 1.
    np.testing.assert_allclose(body["gradients"]["z"], softmax - t, rtol=1e-12, atol=1e-15)
    assert body["value"] == pytest.approx(-math.log(softmax[1]))
    target = node_named(body, "t")
    assert target["kind"] == "input" and target["constant"] is True
    assert "t" in body["gradients"]  # still sent, as version 1 says
    assert backward_text(body, target["id"]) == "dloss/dt: t is a constant, and a constant needs no gradient"
    # The check is of the gradients that are needed: z's, not the target's.
    assert set(body["check"]) == {"z"} and body["check"]["z"]["ok"] is True
    assert body["warnings"] == []
    # Without naming t a constant, the trace is version 1's, t checked like any input.
    plain = gradtrace.trace(program, {"z": z.tolist(), "t": t.tolist()}, check=True).to_dict()
    assert set(plain["check"]) == {"z", "t"}
    assert "constant" not in node_named(plain, "t")


def test_a_constants_non_finite_gradient_is_not_warned_but_its_value_is() -> None:
    # log(t) at t = 0 is -inf: a true fact about the forward pass. t's gradient (1/0) is unused.
    body = gradtrace.trace("x * 2 + log(t)", {"x": 1, "t": 0}, constants=["t"]).to_dict()
    kinds = [(w["node"], w["message"]) for w in body["warnings"]]
    assert len(kinds) == 1 and "value of log(t)" in kinds[0][1]
    # The same without constants: the infinite gradient of t is warned as well.
    plain = gradtrace.trace("x * 2 + log(t)", {"x": 1, "t": 0}).to_dict()
    assert any("gradient of t" in w["message"] for w in plain["warnings"])


def test_warnings_say_what_is_true_about_infinities_and_nan() -> None:
    warnings = gradtrace.trace("log(x) - log(x)", {"x": 0}).to_dict()["warnings"]
    values = [w["message"] for w in warnings if "value" in w["message"]]
    assert len(values) == 2
    assert sum("the first non-finite value in the forward pass" in m for m in values) == 1
    assert "-inf: the first non-finite value" in values[0]
    assert "NaN: the first NaN (not a number) in the forward pass" in values[1]


@pytest.mark.parametrize(
    ("constants", "says"),
    [
        (["q"], "'q' is named in constants but has no value"),
        (["a"], "'a' is named in constants but the program computes it"),
        ("x", "constants must be a list of input names"),
    ],
)
def test_constants_must_name_inputs(constants: object, says: str) -> None:
    with pytest.raises(gradtrace.InvalidValueError, match=says):
        gradtrace.trace("a = x * 2; a + 1", {"x": 1}, constants=constants)  # type: ignore[arg-type]


def test_a_constant_given_but_unused_is_accepted() -> None:
    body = gradtrace.trace("x * 2", {"x": 1, "t": 5}, constants=["t"]).to_dict()
    assert body["gradients"] == {"x": 2.0, "t": 0.0}
