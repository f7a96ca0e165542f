"""POST /api/v1/jacobian: the documented model, its limits and errors, OpenAPI, the Python API
and `gradtrace jacobian`; and POST /api/v1/trace's refusal of a vector output naming it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

import gradtrace
from gradtrace import cli
from gradtrace.api.app import create_app
from gradtrace.api.schemas_jacobian import Jacobian
from gradtrace.api.settings import Settings

LAYER = {
    "expression": "z = W @ x + b",
    "values": {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5]},
    "constants": ["W"],
}


def test_the_layer_gives_w_for_x_and_i_for_b(client: TestClient) -> None:
    response = client.post("/api/v1/jacobian", json=LAYER)
    assert response.status_code == 200, response.text
    body = Jacobian.model_validate(response.json())  # the documented model
    assert (body.m, body.n) == (2, 5)
    assert body.blocks["x"] == LAYER["values"]["W"]
    assert body.blocks["b"] == [[1.0, 0.0], [0.0, 1.0]]
    assert len(body.reverse.passes) == 2 and len(body.forward.passes) == 5  # type: ignore[union-attr]
    assert body.check.ok and body.check.modes_max_abs_difference == 0.0
    assert body.cheaper == "reverse" and "2 output elements against 5 input elements" in body.why
    assert body.costs.forward.flops == 14  # W @ x: 2 x 2 x 3 = 12; + b: 2


def test_the_python_api_gives_the_same_body(client: TestClient) -> None:
    result = gradtrace.jacobian(LAYER["expression"], LAYER["values"], constants=LAYER["constants"])
    np.testing.assert_array_equal(result.blocks["x"], np.array(LAYER["values"]["W"]))
    assert json.loads(json.dumps(result.to_dict())) == client.post("/api/v1/jacobian", json=LAYER).json()


def test_a_non_finite_number_is_encoded_as_in_v1(client: TestClient) -> None:
    response = client.post("/api/v1/jacobian", json={"expression": "log(x)", "values": {"x": [0.0, 1.0]}})
    assert response.status_code == 200
    body = response.json()
    assert body["jacobian"][0][0] == "Infinity"
    assert body["check"]["ok"] is False


def test_the_passes_setting_is_named_in_its_422() -> None:
    with TestClient(create_app(Settings(max_jacobian_passes=3))) as small:
        response = small.post("/api/v1/jacobian", json=LAYER)  # 2 + 5 passes
        assert response.status_code == 422
        assert response.json()["detail"]["limit"] == "max_jacobian_passes"
        fits = small.post("/api/v1/jacobian", json={**LAYER, "modes": ["reverse"]})
        assert fits.status_code == 200


def test_the_cost_model_prices_the_passes_before_any_numpy_call() -> None:
    big = {"expression": "h = sigmoid(z)", "values": {"z": [0.5] * 600}, "modes": ["reverse"]}
    with TestClient(create_app(Settings(max_response_bytes=1_000_000))) as small:
        response = small.post("/api/v1/jacobian", json=big)
    assert response.status_code == 422
    assert response.json()["detail"]["limit"] in ("max_response_bytes", "max_total_elements")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**LAYER, "modes": ["sideways"]}, 422),
        ({**LAYER, "modes": []}, 422),
        ({**LAYER, "check": True}, 422),  # unknown field
        ({"expression": "x + * y", "values": {"x": 1, "y": 2}}, 422),
        ({"expression": "x + y", "values": {"x": 1}}, 422),
    ],
)
def test_bad_requests_are_422s(client: TestClient, body: dict, status: int) -> None:
    assert client.post("/api/v1/jacobian", json=body).status_code == status


def test_trace_still_refuses_a_vector_output_and_names_the_jacobian(client: TestClient) -> None:
    response = client.post("/api/v1/trace", json={"expression": "h = sigmoid(z)", "values": {"z": [1, 2]}})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["type"] == "output_not_scalar"
    assert "POST /api/v1/jacobian" in detail["message"]


def test_openapi_documents_the_endpoint_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/jacobian"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {"neural-layer", "elementwise", "loss"} <= set(examples)
    assert "Jacobian" in spec["components"]["schemas"]
    for example in examples.values():
        assert client.post("/api/v1/jacobian", json=example["value"]).status_code == 200


def test_the_cli_prints_the_endpoints_body(client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status = cli.main(
        ["jacobian", LAYER["expression"], "--values", json.dumps(LAYER["values"]), "--constants", "W"]
    )
    out = capsysbinary.readouterr().out
    assert status == 0
    assert json.loads(out) == client.post("/api/v1/jacobian", json=LAYER).json()
    status = cli.main(["jacobian", "h = sigmoid(z)", "--values", '{"z": [1, 2]}', "--modes", "forward"])
    body = json.loads(capsysbinary.readouterr().out)
    assert status == 0 and body["reverse"] is None and len(body["forward"]["passes"]) == 2


def test_the_cli_reports_an_error_with_exit_2(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status = cli.main(["jacobian", "x * 2", "--values", '{"x": 1}', "--modes", "sideways"])
    assert status == 2
    assert json.loads(capsysbinary.readouterr().err)["type"] == "invalid_value"


def test_a_flood_of_bad_entries_costs_a_few_issues(client: TestClient) -> None:
    floods = [
        {"values": {f"k{i}": "no" for i in range(60_000)}},
        {f"f{i}": 1 for i in range(60_000)},
        {"constants": ["_k"] * 60_000},
    ]
    for flood in floods:
        response = client.post("/api/v1/jacobian", json={"expression": "x", **flood})
        assert response.status_code == 422
        assert len(response.json()["detail"]) <= 21 and len(response.content) < 16_384


def test_a_large_body_is_read_in_a_trace_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from gradtrace.api import routes

    threads: list[str] = []
    original = routes.read_request

    def recorded(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(routes, "read_request", recorded)
    large = {"expression": "x * 2", "values": {"x": [0.5] * 2_000, "y": "no"}}
    response = client.post("/api/v1/jacobian", json=large)
    assert response.status_code == 422
    assert {tuple(issue["loc"][:3]) for issue in response.json()["detail"]} == {("body", "values", "y")}
    assert threads and threads[0].startswith("gradtrace-trace")
