"""The JSON encoder: non-finite numbers become the contract's strings, whatever carries them."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from gradtrace.api.encoding import dumps, dumps_trace, json_safe


def test_non_finite_floats_become_strings_at_any_depth() -> None:
    value = {"a": math.nan, "b": [1.0, [math.inf, -math.inf]], "c": ({"d": math.nan},)}
    assert orjson.loads(dumps(value)) == {
        "a": "NaN",
        "b": [1.0, ["Infinity", "-Infinity"]],
        "c": [{"d": "NaN"}],
    }


def test_numpy_values_are_encoded_as_plain_numbers() -> None:
    value = {"x": np.array([[1.0, np.nan], [np.inf, 2.0]]), "y": np.float64(-np.inf), "n": np.int64(3)}
    assert orjson.loads(dumps(value)) == {
        "x": [[1.0, "NaN"], ["Infinity", 2.0]],
        "y": "-Infinity",
        "n": 3,
    }


def test_integers_beyond_64_bits_do_not_fail() -> None:
    assert orjson.loads(dumps([10**30, -(10**400), True, None, "s"])) == [
        1e30,
        "-Infinity",
        True,
        None,
        "s",
    ]


def test_a_safe_value_is_not_copied() -> None:
    trace = {"nodes": [{"value": 1.0, "grad": [1.0, 2.0], "name": None}], "check": None}
    assert json_safe(trace) is trace


def test_an_unsafe_value_is_copied_not_changed() -> None:
    inner = [1.0, math.nan]
    value = {"keep": [1.0], "fix": inner}
    safe = json_safe(value)
    assert safe["fix"] == [1.0, "NaN"] and math.isnan(inner[1])
    assert safe["keep"] is value["keep"]


def _trace_dict() -> dict:
    import gradtrace

    return gradtrace.trace("a = x * y; b = max(a, op); sum(W * b)", _trace_values()).to_dict()


def _trace_values() -> dict:
    return {"x": 2.0, "y": 3.0, "op": 1.0, "W": [[1.0, 2.0], [3.0, 4.0]]}


def test_dumps_trace_equals_the_full_guard_on_real_traces() -> None:
    import gradtrace

    for expression, values in [
        ("a = x * y; b = max(a, op); sum(W * b)", _trace_values()),
        ("log(x) - log(x)", {"x": 0.0}),
        ("softmax(z) @ t", {"z": [1.0, 2.0, 3.0], "t": [0.0, 0.0, 1.0]}),
    ]:
        trace = gradtrace.trace(expression, values, check=True).to_dict()
        assert dumps_trace(trace) == dumps(trace)


@pytest.mark.parametrize(
    "place",
    ["node value", "edge list", "gradient named op", "check error", "top value", "numpy"],
)
def test_dumps_trace_catches_a_non_finite_float_wherever_it_hides(place: str) -> None:
    trace = _trace_dict()
    if place == "node value":
        trace["nodes"][0]["value"] = math.nan
    elif place == "edge list":
        edge = next(e for e in trace["edges"] if isinstance(e["upstream"], list))
        edge["upstream"][0][0] = math.inf
    elif place == "gradient named op":
        trace["gradients"]["op"] = -math.inf
    elif place == "check error":
        trace["check"] = {"x": {"numeric": 1.0, "max_abs_error": math.nan, "ok": False}}
    elif place == "top value":
        trace["value"] = math.inf
    else:
        trace["nodes"][1]["grad"] = np.array([np.nan])
    body = dumps_trace(trace)
    assert body == dumps(trace)
    assert b"NaN" in body or b"Infinity" in body
