"""Each endpoint answers what the contract says: trace, examples, ops, health."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.settings import Settings
from gradtrace.examples import examples
from gradtrace.ops import describe_ops
from tests.api.helpers import check_trace, number, post_trace

LECTURE = {"x": 1, "y": 2, "z": 0}


def test_trace_gives_the_lectures_numbers(client: TestClient) -> None:
    response = post_trace(client, "(x + y) * max(y, z)", LECTURE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    check_trace(body)
    assert body["expression"] == "(x + y) * max(y, z)"
    assert body["value"] == 6.0
    assert body["gradients"] == {"x": 2.0, "y": 5.0, "z": 0.0}
    assert body["check"] is None


def test_trace_of_the_lecture_program_names_its_nodes(client: TestClient) -> None:
    response = post_trace(client, "a = x + y\nb = max(y, z)\nf = a * b", LECTURE)
    assert response.status_code == 200, response.text
    body = response.json()
    check_trace(body)
    grads = {node["name"]: node["grad"] for node in body["nodes"] if node["name"]}
    assert grads["a"] == 2.0 and grads["b"] == 3.0 and grads["f"] == 1.0
    assert body["gradients"]["y"] == 5.0


def test_trace_with_check_adds_a_numeric_check(client: TestClient) -> None:
    response = post_trace(client, "x**3", {"x": 4}, check=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["value"] == 64.0 and body["gradients"]["x"] == 48.0
    check = body["check"]["x"]
    assert check["ok"] is True
    assert abs(number(check["numeric"]) - 48.0) < 1e-4


def test_trace_values_default_to_none_needed(client: TestClient) -> None:
    response = post_trace(client, "2 * 3")
    assert response.status_code == 200, response.text
    assert response.json()["value"] == 6.0


def test_trace_accepts_integers_and_floats_alike(client: TestClient) -> None:
    as_int = post_trace(client, "x * y", {"x": 3, "y": 2}).json()
    as_float = post_trace(client, "x * y", {"x": 3.0, "y": 2.0}).json()
    assert as_int == as_float


def test_examples_lists_the_lectures_examples(client: TestClient) -> None:
    response = client.get("/api/v1/examples")
    assert response.status_code == 200
    listed = response.json()
    assert listed == examples()
    expressions = {example["expression"] for example in listed}
    assert "x**3" in expressions
    assert "(x + y) * max(y, z)" in expressions
    assert any("max(y, z)" in e and "a = x + y" in e for e in expressions)
    assert any("sigmoid" in e and "W @ x + b" in e for e in expressions)
    assert "log(x) - log(x)" in expressions
    for example in listed:
        assert set(example) == {"id", "title", "expression", "values", "teaches"}
    assert len({example["id"] for example in listed}) == len(listed)


@pytest.mark.parametrize("example", examples(), ids=lambda example: example["id"])
def test_every_example_traces(client: TestClient, example: dict[str, Any]) -> None:
    response = post_trace(client, example["expression"], example["values"])
    assert response.status_code == 200, response.text
    check_trace(response.json())


WORKED = {
    "cube-at-1": (1.0, {"x": 3.0}),
    "cube-at-4": (64.0, {"x": 48.0}),
    "chain-rule": (12.0, {"x": 12.0}),
    "lecture-program": (6.0, {"x": 2.0, "y": 5.0, "z": 0.0}),
    "lecture-expression": (6.0, {"x": 2.0, "y": 5.0, "z": 0.0}),
    "max-tie": (2.0, {"y": 0.5, "z": 0.5}),
    "branches": (12.0, {"x": 7.0}),
    "broadcast-multiply": (-4.0, {"v": [5.0, 7.0, 9.0]}),
    "broadcast-bias": (21.0, {"b": [3.0, 3.0]}),
}


@pytest.mark.parametrize("example_id", sorted(WORKED))
def test_worked_examples_give_the_worked_numbers(client: TestClient, example_id: str) -> None:
    example = next(e for e in examples() if e["id"] == example_id)
    body = post_trace(client, example["expression"], example["values"]).json()
    value, gradients = WORKED[example_id]
    assert body["value"] == pytest.approx(value)
    for name, expected in gradients.items():
        assert body["gradients"][name] == pytest.approx(expected)


def test_ops_lists_the_registry_with_formulas(client: TestClient) -> None:
    response = client.get("/api/v1/ops")
    assert response.status_code == 200
    ops = response.json()
    assert ops == describe_ops()
    names = {op["name"] for op in ops}
    assert {"add", "mul", "max", "exp", "log", "sigmoid", "softmax"} <= names
    for op in ops:
        assert op["syntax"] and op["forward_latex"]
        assert len(op["local_latex"]) == op["arity"]
    intuitions = {op["name"]: op["intuition"] for op in ops}
    assert intuitions["add"] and intuitions["max"] and intuitions["mul"]


def test_health(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_page_embeds_examples_and_limits(client: TestClient) -> None:
    import json
    import re

    response = client.get("/")
    assert response.status_code == 200
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', response.text, re.S
    )
    assert found is not None
    data = json.loads(found.group(1))
    assert data["examples"] == client.get("/api/v1/examples").json()
    assert data["limits"]["max_expression_length"] == 120_000
    assert data["limits"]["max_body_bytes"] == 1_048_576
    assert data["version"]
    # Nothing in the embedded JSON can close the script element early.
    assert "</" not in found.group(1) and "<" not in found.group(1)


def test_a_trace_at_the_node_limit_is_answered_in_full(client: TestClient) -> None:
    # x, then a constant, a product and a sum per term: as many nodes as the default allows.
    terms = (Settings().max_nodes - 1) // 3
    expression = "+".join(f"x*{i % 7 + 1}" for i in range(terms))
    response = post_trace(client, expression, {"x": 0.5})
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert Settings().max_nodes - 3 <= len(body["nodes"]) <= Settings().max_nodes
    assert len(body["steps"]) == 2 * len(body["nodes"])
    slope = sum(i % 7 + 1 for i in range(terms))
    assert body["gradients"]["x"] == pytest.approx(slope)
    assert body["value"] == pytest.approx(0.5 * slope)
