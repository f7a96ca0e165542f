"""The JSON encoder: non-finite numbers become the contract's strings, whatever carries them."""

from __future__ import annotations

import math

import numpy as np
import orjson

from gradtrace.api.encoding import dumps, json_safe


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
