"""The one number format (docs/number-format.md), from the fixture the page is tested against too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradtrace
from gradtrace.display import format_number

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "number-format.json"
CASES = json.loads(FIXTURE.read_text())
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


@pytest.mark.parametrize(("number", "expected"), CASES, ids=[text for _, text in CASES])
def test_format_number_follows_the_fixture(number: float | str, expected: str) -> None:
    value = _NON_FINITE[number] if isinstance(number, str) else float(number)
    assert format_number(value) == expected


def test_the_fixture_covers_every_rule() -> None:
    texts = {text for _, text in CASES}
    # zeros, whole integers, exponent form both ways, ties, and the three non-finite spellings
    assert {"0", "1000000", "1e9", "1.234e-5", "1234", "NaN", "inf", "-inf"} <= texts
    assert any(isinstance(n, float) and str(n) == "-0.0" for n, _ in CASES)


def test_step_texts_use_the_format_and_parenthesise_negative_operands() -> None:
    steps = [s["text"] for s in gradtrace.trace("x**2", {"x": -2}).to_dict()["steps"]]
    assert "x**2 = (-2)**2 = 4" in steps
    big = gradtrace.trace("1 * x", {"x": 1e6}).to_dict()
    assert "1 * x = 1 * 1000000 = 1000000" in [s["text"] for s in big["steps"]]
    zero = gradtrace.trace("x * y", {"x": -0.0, "y": 2}).to_dict()
    assert "x = 0 (input)" in [s["text"] for s in zero["steps"]]
    inf = gradtrace.trace("exp(x)", {"x": 1000}).to_dict()
    assert "exp(x) = exp(1000) = inf" in [s["text"] for s in inf["steps"]]


def test_step_texts_write_tensors_in_numbers_never_as_their_shape() -> None:
    """A 5 x 5 input is written out whole; a 64-vector and a 64 x 64 matrix as numpy prints them."""
    w = [[float(5 * i + j) for j in range(5)] for i in range(5)]
    t = gradtrace.trace("s = sum(W @ x)", {"W": w, "x": [1, 2, 3, 4, 5]})
    texts = {step["node"]: step["text"] for step in t.to_dict()["steps"] if step["phase"] == "forward"}
    w_text = next(text for text in texts.values() if text.startswith("W = "))
    assert w_text == "W = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 22, 23, 24]] (input)"

    big = [[float(64 * i + j) for j in range(64)] for i in range(64)]
    t = gradtrace.trace("s = sum(W @ x)", {"W": big, "x": [1.0] * 64})
    steps = t.to_dict()["steps"]
    w_text = next(step["text"] for step in steps if step["text"].startswith("W = "))
    assert w_text.startswith("W = [[0, 1, 2, …, 61, 62, 63], [64, 65, 66, …, 125, 126, 127],")
    assert w_text.endswith(", …, [3904, 3905, 3906, …, 3965, 3966, 3967], [3968, 3969, 3970, …, 4029, 4030, 4031], [4032, 4033, 4034, …, 4093, 4094, 4095]] (input)")
    x_text = next(step["text"] for step in steps if step["text"].startswith("x = "))
    assert x_text == "x = [1, 1, 1, …, 1, 1, 1] (input)"
    grad_w = next(step["text"] for step in steps if step["text"].startswith("ds/dW = "))
    assert grad_w.startswith("ds/dW = [[1, 1, 1, …, 1, 1, 1], ")
    # Only a local Jacobian too large to send (its `local` is null) is named by its shape.
    assert all("<64x64>" not in step["text"] for step in steps)
