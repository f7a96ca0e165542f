"""POST /api/v1/slope and the constants field: the slope view over HTTP, and errors as the contract writes them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import assert_contract_error


def test_slope_of_the_cube_at_4(client: TestClient) -> None:
    response = client.post("/api/v1/slope", json={"expression": "x**3", "values": {"x": 4}, "of": "x"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["gradient"] == 48.0 and body["value"] == 64.0
    assert body["points"] == 41 and len(body["samples"]["x"]) == 41
    assert abs(body["nudge"]["f"] - 64.481201) < 1e-12
    assert body["nudge"]["text"].startswith("f(4.01) = 64.481201")


def test_slope_sends_non_finite_samples_as_strings(client: TestClient) -> None:
    response = client.post(
        "/api/v1/slope", json={"expression": "log(x)", "values": {"x": 0.25}, "of": "x", "points": 3}
    )
    assert response.status_code == 200, response.text
    assert response.json()["samples"]["f"][0] == "NaN"


def test_slope_of_a_vector_needs_an_index(client: TestClient) -> None:
    body = {"expression": "sum(x * x)", "values": {"x": [1, 2]}, "of": "x"}
    assert_contract_error(client.post("/api/v1/slope", json=body), 422, "invalid_value")
    response = client.post("/api/v1/slope", json={**body, "index": [1]})
    assert response.status_code == 200 and response.json()["gradient"] == 4.0


def test_slope_errors_of_the_program_are_the_traces_errors(client: TestClient) -> None:
    response = client.post("/api/v1/slope", json={"expression": "x + * y", "values": {"x": 1}, "of": "x"})
    assert_contract_error(response, 422, "syntax_error", start=4)


def test_slope_request_is_strict(client: TestClient) -> None:
    base = {"expression": "x * 2", "values": {"x": 1}, "of": "x"}
    for bad in ({"points": 2}, {"points": 202}, {"radius": 0}, {"nudge": -1}, {"unknown": 1}):
        response = client.post("/api/v1/slope", json={**base, **bad})
        assert response.status_code == 422, bad
        assert isinstance(response.json()["detail"], list), bad


def test_trace_takes_constants_and_marks_their_nodes(client: TestClient) -> None:
    body = {
        "expression": "p = softmax(z); loss = -sum(t * log(p))",
        "values": {"z": [1.0, 2.0, 0.5], "t": [0.0, 1.0, 0.0]},
        "constants": ["t"],
    }
    response = client.post("/api/v1/trace", json=body)
    assert response.status_code == 200, response.text
    trace = response.json()
    marked = {n["display_name"] for n in trace["nodes"] if n.get("constant")}
    assert marked == {"t"}
    assert set(trace["gradients"]) == {"z", "t"}
    unknown = client.post("/api/v1/trace", json={**body, "constants": ["q"]})
    assert_contract_error(unknown, 422, "invalid_value")
    malformed = client.post("/api/v1/trace", json={**body, "constants": ["1t"]})
    assert malformed.status_code == 422 and isinstance(malformed.json()["detail"], list)


def test_slope_takes_constants(client: TestClient) -> None:
    body = {"expression": "x * t", "values": {"x": 2, "t": 3}, "of": "x", "constants": ["t"], "points": 3}
    response = client.post("/api/v1/slope", json=body)
    assert response.status_code == 200 and response.json()["gradient"] == 3.0
