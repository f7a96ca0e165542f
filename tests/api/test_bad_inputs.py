"""Every case of the bad-inputs list, over HTTP: a 4xx that says what and where, or a right 200."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import (
    assert_contract_error,
    assert_request_error,
    check_trace,
    number,
    post_trace,
)

W23 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]

# -- code execution and syntax: (expression, values, type, span start) ------------------------

REFUSED = [
    ("__import__('os').system('id')", {}, "syntax_error", 0),
    ("x.__class__", {"x": 1}, "syntax_error", 1),
    ("eval('1+1')", {}, None, 0),
    ("((x + y)", {"x": 1, "y": 2}, "syntax_error", 0),
    ("x + y)", {"x": 1, "y": 2}, "syntax_error", 5),
    ("x + * y", {"x": 1, "y": 2}, "syntax_error", 4),
    ("x +", {"x": 1}, "syntax_error", 3),
    ("x^2", {"x": 1}, "syntax_error", 1),
    ("foo(x)", {"x": 1}, "unknown_function", 0),
    ("", {}, "syntax_error", 0),
    ("x = 2; y = x * 3", {"x": 1}, None, 0),
    ("a = b + 1; b = x", {"x": 1}, "undefined_name", 4),
    ("x + y", {"x": 1}, "undefined_name", 4),
    ("W @ x", {"W": W23, "x": [1.0, 2.0]}, "shape_error", 2),
    ("x + y", {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0, 4.0]}, "shape_error", 2),
]


@pytest.mark.parametrize(("expression", "values", "type_", "start"), REFUSED)
def test_refused_with_type_and_place(
    client: TestClient, expression: str, values: dict[str, Any], type_: str | None, start: int
) -> None:
    response = post_trace(client, expression, values)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    if type_ is not None:
        assert detail["type"] == type_
    assert detail["span"][0] == start, detail
    assert detail["line"] == 1 and detail["column"] == start + 1


def test_eval_names_the_known_functions(client: TestClient) -> None:
    detail = assert_contract_error(post_trace(client, "eval('1+1')"), 422, "unknown_function", 0)
    for known in ("exp", "log", "sigmoid", "max"):
        assert known in detail["message"]


def test_caret_hint_says_to_use_double_star(client: TestClient) -> None:
    detail = assert_contract_error(post_trace(client, "x^2", {"x": 1}), 422, "syntax_error", 1)
    assert "**" in detail["message"]


def test_shape_error_names_both_shapes(client: TestClient) -> None:
    detail = assert_contract_error(
        post_trace(client, "W @ x", {"W": W23, "x": [1.0, 2.0]}), 422, "shape_error", 2
    )
    assert "2" in detail["message"] and "3" in detail["message"]


def test_input_cannot_be_assigned(client: TestClient) -> None:
    detail = assert_contract_error(post_trace(client, "x = 2; y = x * 3", {"x": 1}), 422, "assignment_error", 0)
    assert "x" in detail["message"]


def test_deep_nesting_names_the_depth_limit(client: TestClient) -> None:
    response = post_trace(client, "(" * 300 + "x" + ")" * 300, {"x": 1})
    detail = assert_contract_error(response, 422, "limit_exceeded")
    assert detail["limit"] == "max_depth"
    # At the first parenthesis past the limit (200 by default).
    assert detail["span"][0] == 200


def test_too_long_names_the_length_limit(client: TestClient) -> None:
    response = post_trace(client, "x" * 120_001, {"x": 1})
    detail = assert_contract_error(response, 422, "limit_exceeded")
    assert detail["limit"] == "max_expression_length"


# -- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [[[1, 2], [3]], True, None, "1", [1, True], [[1.0, None]]],
    ids=["ragged", "boolean", "null", "string", "boolean-in-list", "null-in-matrix"],
)
def test_value_that_is_not_numbers_is_refused(client: TestClient, value: Any) -> None:
    assert_request_error(post_trace(client, "x", {"x": value}), "x")


def test_neural_layer_gradients_have_their_inputs_shapes(client: TestClient) -> None:
    values = {"W": W23, "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5], "u": [1.0, -1.0]}
    response = post_trace(client, "z = W @ x + b; h = sigmoid(z); s = u @ h", values)
    assert response.status_code == 200, response.text
    body = response.json()
    check_trace(body)
    assert len(body["gradients"]["W"]) == 2 and len(body["gradients"]["W"][0]) == 3
    assert len(body["gradients"]["x"]) == 3
    assert len(body["gradients"]["b"]) == 2
    assert len(body["gradients"]["u"]) == 2


# -- numerics: a 200 with the truth in it ----------------------------------------------------

INF, NAN = math.inf, math.nan

NUMERICS = [
    ("x / y", {"x": 1, "y": 0}, INF, {"x": INF, "y": -INF}),
    ("log(x)", {"x": 0}, -INF, {"x": INF}),
    ("sqrt(x)", {"x": 0}, 0.0, {"x": INF}),
    ("exp(x)", {"x": 1000}, INF, {"x": INF}),
    ("max(y, z)", {"y": 2, "z": 2}, 2.0, {"y": 0.5, "z": 0.5}),
    ("relu(x)", {"x": 0}, 0.0, {"x": 0.0}),
]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize(("expression", "values", "value", "gradients"), NUMERICS)
def test_numerics_are_answered_with_the_truth(
    client: TestClient,
    expression: str,
    values: dict[str, Any],
    value: float,
    gradients: dict[str, float],
) -> None:
    response = post_trace(client, expression, values)
    assert response.status_code == 200, response.text
    body = response.json()
    assert _same(number(body["value"]), value)
    for name, expected in gradients.items():
        assert _same(number(body["gradients"][name]), expected), (name, body["gradients"])
    # Non-finite numbers travel as the contract's strings, never as bare NaN or null.
    assert "NaN" not in response.text.replace('"NaN"', "")
    assert "Infinity" not in response.text.replace('"Infinity"', "").replace('"-Infinity"', "")


def test_nan_is_a_string_and_a_warning_names_its_node(client: TestClient) -> None:
    response = post_trace(client, "log(x) - log(x)", {"x": 0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["value"] == "NaN"
    nodes = {node["id"]: node for node in body["nodes"]}
    flagged = [w for w in body["warnings"] if w["node"] is not None]
    assert flagged, body["warnings"]
    first = nodes[flagged[0]["node"]]
    # The first node where a non-finite value appeared is a log (-inf), or the NaN itself.
    assert first["op"] in {"log", "sub"}


# -- transport -------------------------------------------------------------------------------


def test_five_megabyte_body_is_413(client: TestClient) -> None:
    body = b'{"expression": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/trace", content=body, headers={"content-type": "application/json"}
    )
    detail = assert_contract_error(response, 413, "limit_exceeded")
    assert detail["limit"] == "max_body_bytes"


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/trace", content=b'{"expression": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_unknown_field_is_422(client: TestClient) -> None:
    response = post_trace(client, "x", {"x": 1}, debug=True)
    issues = assert_request_error(response, "debug")
    assert issues[0]["type"] == "extra_forbidden"


def test_every_problem_is_listed_with_its_span(client: TestClient) -> None:
    """Version 1's fields of the first problem, then `problems`: every input without a value."""
    response = client.post(
        "/api/v1/trace", json={"expression": "u^T h", "values": {"u": [1.0], "h": [2.0]}}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["span"] == [1, 3] and "u.T @ h" in detail["message"]
    response = client.post("/api/v1/trace", json={"expression": "a = x + y\nb = a * z", "values": {"x": 1}})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert (detail["type"], detail["span"], detail["line"], detail["column"]) == ("undefined_name", [8, 9], 1, 9)
    assert [(p["span"], p["line"], p["column"]) for p in detail["problems"]] == [([8, 9], 1, 9), ([18, 19], 2, 9)]
    assert "'z' has no value" in detail["problems"][1]["message"]


def test_the_new_ops_refuse_a_bad_index_or_axis_at_its_place(client: TestClient) -> None:
    values = {"z": [1.0, 2.0, 0.5], "A": W23}
    for expression, span in (("-log(softmax(z)[3])", [15, 18]), ("sum(A, axis=2) @ z", [7, 13])):
        response = client.post("/api/v1/trace", json={"expression": expression, "values": values})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert (detail["type"], detail["span"]) == ("shape_error", span)
    response = client.post(
        "/api/v1/trace",
        json={"expression": "-log(softmax(z)[y])", "values": {"z": [1.0, 2.0, 0.5], "y": 1}, "constants": ["y"]},
    )
    assert response.status_code == 200
    body = response.json()
    assert [n["op"] for n in body["nodes"] if n["kind"] == "op"] == ["softmax", "index", "log", "neg"]


def test_the_registry_listing_and_the_schema_carry_the_extensions(client: TestClient) -> None:
    ops = {op["name"]: op for op in client.get("/api/v1/ops").json()}
    assert (ops["amax"]["call"], ops["amax"]["syntax"], ops["max"]["call"]) == ("max", "max(v)", "max")
    assert (ops["transpose"]["call"], ops["transpose"]["symbol"]) == ("transpose", ".T")
    assert ops["sum_axis"]["params"] == ["axis"] and ops["add"]["params"] == []
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"problems", "problems_omitted"} <= set(schemas["ErrorDetail"]["properties"])
    assert {"call", "params"} <= set(schemas["Op"]["properties"])
