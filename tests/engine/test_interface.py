"""The Python interface other parts of gradtrace code against: names, fields and types."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import gradtrace
from gradtrace import Limits, Trace, TraceError
from gradtrace.ops import OPS, describe_ops
from tests.engine.invariants import assert_trace_invariants


def test_public_names() -> None:
    assert gradtrace.__version__ == "0.1.0"
    for name in ("trace", "TraceError", "Limits", "Trace", "describe_ops"):
        assert hasattr(gradtrace, name)
    for sub in (
        gradtrace.SyntaxTraceError,
        gradtrace.UndefinedNameError,
        gradtrace.UnknownFunctionError,
        gradtrace.ShapeError,
        gradtrace.InvalidValueError,
        gradtrace.LimitExceededError,
        gradtrace.OutputNotScalarError,
        gradtrace.AssignmentError,
    ):
        assert issubclass(sub, TraceError)


def test_limits_defaults_and_unlimited() -> None:
    limits = Limits()
    assert dataclasses.is_dataclass(limits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_nodes = 1  # type: ignore[misc]
    assert (limits.max_expression_length, limits.max_depth, limits.max_statements) == (120_000, 200, 5_000)
    assert (limits.max_nodes, limits.max_tensor_elements, limits.max_total_elements) == (
        5_000,
        1_000_000,
        10_000_000,
    )
    assert (limits.max_local_elements, limits.max_input_elements, limits.max_seconds) == (4096, 100_000, 5.0)
    assert limits.max_check_evaluations is not None
    unlimited = Limits.unlimited()
    assert unlimited.max_nodes is None and unlimited.max_seconds is None and unlimited.max_depth > 0


def test_trace_record() -> None:
    result = gradtrace.trace("z = W @ x + b; s = sum(z) * c", {"W": np.eye(2), "x": [1.0, 2.0], "b": [0.5, 0.5], "c": 2})
    assert isinstance(result, Trace)
    assert isinstance(result.value, float) and result.value == 8.0
    assert isinstance(result.gradients["c"], float)
    assert isinstance(result.gradients["W"], np.ndarray) and result.gradients["W"].shape == (2, 2)
    body = result.to_dict()
    assert set(body) == {
        "version", "expression", "output", "value", "gradients", "nodes", "edges", "steps", "check", "warnings",
        "groups",  # an extension: the statements as groups
    }
    assert body["check"] is None
    assert set(body["nodes"][0]) >= {"id", "kind", "op", "name", "label", "shape", "value", "grad", "span"}
    assert set(body["edges"][0]) >= {"id", "source", "target", "index", "upstream", "local", "local_shape", "downstream"}
    assert set(body["steps"][0]) == {"index", "phase", "node", "edges", "text"}
    assert [n["id"] for n in body["nodes"]] == [f"n{i}" for i in range(len(body["nodes"]))]
    assert [e["id"] for e in body["edges"]] == [f"e{i}" for i in range(len(body["edges"]))]
    by_label = {n["label"]: n for n in body["nodes"]}
    assert by_label["@"]["op"] == "matmul" and by_label["+"]["name"] == "z"
    assert_trace_invariants(body)
    assert json.loads(json.dumps(body)) == body


def test_check_entries() -> None:
    body = gradtrace.trace("sum(v * v) + x", {"v": [1.0, 2.0], "x": 3}, check=True).to_dict()
    assert set(body["check"]) == {"v", "x"}
    for entry in body["check"].values():
        # Version 1's three fields, and the optional ones docs/api-extensions.md adds.
        assert {"numeric", "max_abs_error", "ok"} <= set(entry)
        assert set(entry) - {"numeric", "max_abs_error", "ok"} <= {"tolerance", "evaluations", "elements"}
        assert entry["ok"] is True
    assert np.shape(body["check"]["v"]["numeric"]) == (2,)


def test_trace_error_detail() -> None:
    with pytest.raises(TraceError) as caught:
        gradtrace.trace("a = x\nb = a +* 2", {"x": 1})
    detail = caught.value.to_dict()
    first = {
        "type": "syntax_error",
        "message": detail["message"],
        "span": [13, 14],
        "line": 2,
        "column": 8,
    }
    # Version 1's fields of the first problem, then the list of every problem (one here).
    assert detail == {**first, "problems": [first]}
    with pytest.raises(TraceError) as caught:
        gradtrace.trace("x" * 30, {}, limits=Limits(max_expression_length=10))
    assert caught.value.to_dict()["limit"] == "max_expression_length"


def test_describe_ops_shape() -> None:
    described = describe_ops()
    assert [d["name"] for d in described] == list(OPS)
    for d in described:
        assert set(d) >= {"name", "syntax", "arity", "forward_latex", "local_latex", "intuition", "elementwise"}
        assert isinstance(d["local_latex"], list)
    json.dumps(described)


def test_a_broken_trace_shows_its_graph_as_equations() -> None:
    import copy

    import pytest

    from tests.engine.invariants import assert_trace_invariants

    good = gradtrace.trace("a = x * y\nsin(a) + x", {"x": 1.0, "y": 2.0}).to_dict()
    broken = copy.deepcopy(good)
    broken["nodes"][0]["grad"] = 123.0  # x's gradient no longer the sum of its edges
    with pytest.raises(AssertionError) as caught:
        assert_trace_invariants(broken)
    message = str(caught.value)
    assert "a = mul(x, y)" in message and "n4 = add(n3, x)" in message
