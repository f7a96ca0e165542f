"""The one JSON conversion: a trace's numbers converted once, its bytes encoded once."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradtrace
from gradtrace import jsonform


def test_a_jacobian_too_large_to_send_does_not_make_the_trace_encode_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = gradtrace.trace("sum(W @ x)", {"W": np.ones((70, 70)).tolist(), "x": [1.0] * 70}).to_dict()
    assert any(edge["local"] is None for edge in body["edges"])

    def walked_again(value: object) -> bytes:
        raise AssertionError("the trace was walked and encoded a second time")

    monkeypatch.setattr(jsonform, "dumps", walked_again)
    assert json.loads(jsonform.dumps_trace(body)) == body


def test_non_finite_numbers_are_strings_in_the_bytes() -> None:
    body = gradtrace.trace("sum(v / x)", {"v": [1.0, -1.0, 0.0], "x": 0.0}).to_dict()
    decoded = json.loads(jsonform.dumps_trace(body))
    value = next(node for node in decoded["nodes"] if node["op"] == "div")["value"]
    assert value == ["Infinity", "-Infinity", "NaN"]


def test_a_null_standing_for_a_number_is_caught() -> None:
    # A float that skipped the conversion would become orjson's null: the guard re-encodes it.
    assert json.loads(jsonform.dumps_trace({"value": float("nan"), "nodes": []})) == {
        "value": "NaN",
        "nodes": [],
    }
