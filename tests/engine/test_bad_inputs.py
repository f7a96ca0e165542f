"""The engine-level cases of the bad-inputs table, with positions exactly as the table says."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrace
from gradtrace import Limits, TraceError
from tests.engine.invariants import assert_trace_invariants


def refused(expression: str, values: dict[str, Any], **kwargs: Any) -> TraceError:
    with pytest.raises(TraceError) as caught:
        gradtrace.trace(expression, values, **kwargs)
    error = caught.value
    detail = error.to_dict()
    assert detail["type"] == error.type and detail["message"] == error.message
    if error.span is not None:
        assert error.line is not None and error.column is not None
    return error


def traced(expression: str, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    body = gradtrace.trace(expression, values, **kwargs).to_dict()
    assert_trace_invariants(body)
    return body


# -- code execution and syntax (through the public API, at the table's positions) --------


@pytest.mark.parametrize(
    ("expression", "type_", "start"),
    [
        ("__import__('os').system('id')", "syntax_error", 0),
        ("x.__class__", "syntax_error", 1),
        ("eval('1+1')", "unknown_function", 0),
        ("", "syntax_error", 0),
        ("((x + y)", "syntax_error", 0),
        ("x + y)", "syntax_error", 5),
        ("x + * y", "syntax_error", 4),
        ("x +", "syntax_error", 3),
        ("x^2", "syntax_error", 1),
        ("foo(x)", "unknown_function", 0),
    ],
)
def test_grammar_refuses(expression: str, type_: str, start: int) -> None:
    error = refused(expression, {"x": 1, "y": 2}, limits=Limits())
    assert error.type == type_
    assert error.span is not None and error.span[0] == start


def test_eval_lists_the_known_functions() -> None:
    error = refused("eval('1+1')", {})
    assert "sigmoid" in error.message and "softmax" in error.message


def test_xor_hint() -> None:
    assert "**" in refused("x^2", {"x": 1}).message


def test_nesting_limit_at_the_first_paren_past_it() -> None:
    text = "(" * 300 + "x" + ")" * 300
    error = refused(text, {"x": 1}, limits=Limits())
    assert error.type == "limit_exceeded" and error.limit == "max_depth"
    assert error.span == (200, 201)


def test_length_limit_named_before_tokenizing() -> None:
    error = refused("x" * 120001, {"x": 1}, limits=Limits())
    assert error.limit == "max_expression_length"
    assert "120001" in error.message and "max_expression_length" in error.message


# -- names and statements ---------------------------------------------------------


def test_neural_net_shapes() -> None:
    values = {"W": np.ones((2, 3)), "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5], "u": [1.0, 2.0]}
    body = traced("z = W @ x + b; h = sigmoid(z); s = u @ h", values)
    assert np.shape(body["gradients"]["W"]) == (2, 3)
    assert np.shape(body["gradients"]["x"]) == (3,)
    assert np.shape(body["gradients"]["b"]) == (2,)
    assert np.shape(body["gradients"]["u"]) == (2,)


def test_input_cannot_be_assigned() -> None:
    error = refused("x = 2; y = x * 3", {"x": 1})
    assert (error.type, error.span) == ("assignment_error", (0, 1))


def test_name_used_before_it_is_defined() -> None:
    error = refused("a = b + 1; b = x", {"x": 1})
    assert error.type == "undefined_name" and error.span is not None and error.span[0] == 4
    assert "before" in error.message


def test_name_without_value() -> None:
    error = refused("x + y", {"x": 1})
    assert error.type == "undefined_name" and error.span == (4, 5)
    assert "'y'" in error.message


def test_name_assigned_twice() -> None:
    error = refused("a = x; a = x * 2; a", {"x": 1})
    assert error.type == "assignment_error" and error.span == (7, 8)


# -- values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([[1, 2], [3]], "ragged"),
        (True, "boolean"),
        (None, "null"),
        ("3", "string"),
        ([], "empty"),
        ([[]], "empty"),
        ([[[1.0]]], "rank"),
        (np.ones((2, 2, 2)), "rank"),
        (np.array([True, False]), "bool"),
        ([1, True], "boolean"),
        ([1, "2"], "not a number"),
        ([1, [2]], "mixes"),
        ({"a": 1}, "dict"),
        (10**400, "too large"),
    ],
)
def test_invalid_values_name_the_input(value: Any, words: str) -> None:
    error = refused("sum(x) * 2", {"x": value})
    assert error.type == "invalid_value"
    assert "'x'" in error.message and words in error.message
    assert error.span == (4, 5)


def test_numpy_values_and_numbers_are_accepted() -> None:
    body = traced(
        "sum(x * y) + z + w",
        {"x": np.arange(3), "y": np.array([1.0, 2.0, 3.0], dtype=np.float32), "z": np.float64(2), "w": 3},
    )
    assert body["value"] == 0 * 1 + 1 * 2 + 2 * 3 + 2 + 3
    assert body["gradients"]["x"] == [1.0, 2.0, 3.0]


def test_matmul_shapes_named_at_the_operator() -> None:
    error = refused("W @ x", {"W": np.ones((2, 3)), "x": [1.0, 2.0]})
    assert error.type == "shape_error" and error.span == (2, 3)
    assert "[2, 3]" in error.message and "[2]" in error.message


def test_broadcast_shapes_named_at_the_operator() -> None:
    error = refused("x + y", {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0, 4.0]})
    assert error.type == "shape_error" and error.span == (2, 3)
    assert "[3]" in error.message and "[4]" in error.message


def test_shape_errors_deep_in_a_program_point_at_their_line() -> None:
    error = refused("a = x * 2\nb = a @ y\nsum(b)", {"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]})
    assert error.type == "shape_error" and (error.line, error.column) == (2, 7)


def test_output_must_be_one_number() -> None:
    error = refused("x * 2", {"x": [1.0, 2.0]})
    assert error.type == "output_not_scalar" and "sum(" in error.message
    # The hint names the request that takes a vector output: its whole Jacobian.
    assert "POST /api/v1/jacobian" in error.message
    body = traced("x * 2", {"x": [[3.0]]})
    assert body["value"] == 6.0 and body["gradients"]["x"] == [[2.0]]


# -- numerics: a 200 with the truth in it -----------------------------------------------


def test_division_by_zero() -> None:
    body = traced("x / y", {"x": 1, "y": 0})
    assert body["value"] == "Infinity"
    assert body["gradients"] == {"x": "Infinity", "y": "-Infinity"}
    assert any(w["kind"] == "non_finite" for w in body["warnings"])


def test_log_of_zero() -> None:
    body = traced("log(x)", {"x": 0})
    assert body["value"] == "-Infinity" and body["gradients"]["x"] == "Infinity"


def test_sqrt_of_zero() -> None:
    body = traced("sqrt(x)", {"x": 0})
    assert body["value"] == 0.0 and body["gradients"]["x"] == "Infinity"


def test_exp_overflow() -> None:
    body = traced("exp(x)", {"x": 1000})
    assert body["value"] == "Infinity" and body["gradients"]["x"] == "Infinity"


def test_max_tie_and_relu_at_zero() -> None:
    body = traced("max(y, z)", {"y": 2, "z": 2})
    assert body["value"] == 2.0 and body["gradients"] == {"y": 0.5, "z": 0.5}
    body = traced("relu(x)", {"x": 0})
    assert body["value"] == 0.0 and body["gradients"]["x"] == 0.0


def test_nan_is_encoded_and_its_first_node_named() -> None:
    body = traced("log(x) - log(x)", {"x": 0})
    assert body["value"] == "NaN"
    warnings = [w for w in body["warnings"] if w["kind"] == "non_finite"]
    first_value = warnings[0]
    log_node = next(n for n in body["nodes"] if n["op"] == "log")
    assert first_value["node"] == log_node["id"]
    sub_node = next(n for n in body["nodes"] if n["op"] == "sub")
    assert any(w["node"] == sub_node["id"] and "NaN" in w["message"] for w in warnings)


def test_tensor_non_finite_values() -> None:
    body = traced("sum(log(x))", {"x": [1.0, 0.0, -1.0]})
    assert body["value"] == "NaN"
    log_node = next(n for n in body["nodes"] if n["op"] == "log")
    assert log_node["value"] == [0.0, "-Infinity", "NaN"]
    assert body["gradients"]["x"] == [1.0, "Infinity", -1.0]
    assert any(w["node"] == log_node["id"] for w in body["warnings"] if w["kind"] == "non_finite")


def test_python_math_never_raises_where_numpy_returns_inf_or_nan() -> None:
    cases = {
        "x / y": {"x": 0, "y": 0},
        "x**y": {"x": 0, "y": -1},
        "x**y * 1": {"x": -8, "y": 1 / 3},
        "x**y + 0": {"x": 10, "y": 400},
        "sin(x) + cos(x)": {"x": math.inf},
        "sigmoid(x) + sigmoid(y)": {"x": -1000, "y": math.nan},
        "tanh(x) * abs(y)": {"x": math.inf, "y": math.nan},
        "exp(x) - exp(x)": {"x": 1000},
        "sqrt(x)": {"x": -1},
    }
    for expression, values in cases.items():
        body = traced(expression, values)
        with np.errstate(all="ignore"):
            tensor = gradtrace.trace(f"sum({expression} + z)", {**values, "z": [0.0]}).to_dict()
        assert tensor["value"] == body["value"], expression
        for name in values:
            assert tensor["gradients"][name] == body["gradients"][name], (expression, name)


# -- limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "lowered", "expression", "values"),
    [
        ("max_statements", {"max_statements": 2}, "a = x; b = a; c = b", {"x": 1}),
        ("max_nodes", {"max_nodes": 10}, " + ".join(["x"] * 20), {"x": 1}),
        ("max_tensor_elements", {"max_tensor_elements": 10}, "sum(x)", {"x": list(range(11))}),
        ("max_tensor_elements", {"max_tensor_elements": 20}, "sum(c * r)", {"c": [[1.0]] * 5, "r": [1.0] * 5}),
        ("max_total_elements", {"max_total_elements": 30}, "sum(x + x + x + x)", {"x": list(range(8))}),
        ("max_input_elements", {"max_input_elements": 5}, "sum(x)", {"x": list(range(6))}),
    ],
)
def test_each_limit_is_named(limit: str, lowered: dict[str, int], expression: str, values: dict[str, Any]) -> None:
    error = refused(expression, values, limits=Limits(**lowered))
    assert error.type == "limit_exceeded" and error.limit == limit
    assert limit in error.message
    assert error.to_dict()["limit"] == limit


def test_intermediate_too_large_is_refused_at_its_place_before_computing() -> None:
    values = {"c": np.ones((3000, 1)), "r": np.ones(3000)}
    error = refused("s = sum(c * r)", values, limits=Limits())
    assert error.limit == "max_tensor_elements" and error.span == (10, 11)


def test_deadline_is_cooperative_and_named() -> None:
    text = "\n".join(f"a{i} = tanh(a{i - 1}) * x" if i else "a0 = x" for i in range(3000))
    error = refused(text, {"x": 0.5}, limits=Limits(max_seconds=1e-9, max_nodes=None, max_statements=None, max_expression_length=None))
    assert error.limit == "max_seconds"


def test_numeric_check_too_costly_is_refused() -> None:
    error = refused("sum(x * x)", {"x": list(range(100))}, check=True, limits=Limits(max_check_evaluations=100))
    assert error.limit == "max_check_evaluations"


def test_deadline_also_covers_building_the_json_body() -> None:
    from gradtrace.limits import Deadline

    result = gradtrace.trace("x * y + x", {"x": 1.0, "y": 2.0}, limits=Limits())
    result.deadline = Deadline(1e-9)  # as if the request's time ran out after trace()
    with pytest.raises(TraceError) as caught:
        result.to_dict()
    assert caught.value.limit == "max_seconds"
    # Without limits there is no deadline at all.
    assert gradtrace.trace("x * y + x", {"x": 1.0, "y": 2.0}).to_dict()["value"] == 3.0


def test_deadline_stops_the_numeric_check() -> None:
    # A small graph with many input elements: the check's many short forward passes
    # must still look at the clock.
    with pytest.raises(TraceError) as caught:
        gradtrace.trace(
            "sum(x * x)", {"x": list(range(5000))}, check=True,
            limits=Limits(max_seconds=1e-9, max_check_evaluations=None),
        )
    assert caught.value.limit == "max_seconds"


def test_a_trace_too_large_to_send_is_refused_up_front() -> None:
    # Each node is within max_tensor_elements, and all of them within max_total_elements,
    # but the JSON body would carry tens of millions of numbers.
    expression = "a = c * r; " + "; ".join(f"a{i} = a * {i}" for i in range(6)) + "; sum(a5)"
    values = {"c": [[1.0]] * 1_000, "r": [1.0] * 1_000}
    error = refused(expression, values, limits=Limits())
    assert error.limit == "max_total_elements" and error.span is not None


def test_numeric_check_cost_counts_numbers_not_just_nodes() -> None:
    error = refused("sum(exp(x))", {"x": [0.5] * 100_000}, check=True, limits=Limits())
    assert error.limit == "max_check_evaluations"
