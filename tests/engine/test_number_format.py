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
