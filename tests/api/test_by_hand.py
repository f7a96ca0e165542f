"""POST /api/v1/by-hand: the derivation endpoint, its limit, its errors and its OpenAPI entry;
and `gradtrace by-hand` prints the same body."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from gradtrace import cli
from gradtrace.api.app import create_app
from gradtrace.api.schemas_by_hand import ByHand
from gradtrace.api.settings import Settings

LAYER = {
    "expression": "z = W @ x + b; h = sigmoid(z); s = u @ h",
    "values": {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5], "u": [1.0, -1.0]},
}


def test_the_derivation_of_b_names_delta_at_z(client: TestClient) -> None:
    response = client.post("/api/v1/by-hand", json={**LAYER, "of": "b"})
    assert response.status_code == 200
    body = ByHand.model_validate(response.json())  # the documented model
    (d,) = body.derivations
    assert d.of == "b" and d.path_count == 1
    assert [f.closed_form for f in d.paths[0].factors] == [r"{u}^{\top}", r"\operatorname{diag}(\sigma'(z))", "I"]
    assert [s.name for s in body.shared] == ["z"]


def test_without_of_every_input_and_named_intermediate_is_derived(client: TestClient) -> None:
    response = client.post("/api/v1/by-hand", json=LAYER)
    assert response.status_code == 200
    assert [d["of"] for d in response.json()["derivations"]] == ["W", "x", "b", "z", "h", "u"]


def test_asking_for_more_paths_than_the_setting_names_the_limit() -> None:
    with TestClient(create_app(Settings(max_derivation_paths=4))) as small:
        response = small.post("/api/v1/by-hand", json={**LAYER, "of": "b", "max_paths": 5})
    assert response.status_code == 422
    assert response.json()["detail"]["limit"] == "max_derivation_paths"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({**LAYER, "of": "q"}, "invalid_derivation"),
        ({**LAYER, "of": "s"}, "invalid_derivation"),
        ({"expression": "x + * y", "values": {"x": 1, "y": 2}}, "syntax_error"),
        ({"expression": "x + y", "values": {"x": 1}}, "undefined_name"),
    ],
)
def test_what_cannot_be_derived_is_a_422_that_says_why(client: TestClient, body: dict, kind: str) -> None:
    response = client.post("/api/v1/by-hand", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]["type"] == kind


def test_a_bad_request_shape_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/by-hand", json={**LAYER, "max_paths": 0})
    assert response.status_code == 422
    response = client.post("/api/v1/by-hand", json={**LAYER, "debug": True})
    assert response.status_code == 422


def test_openapi_documents_the_endpoint_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/by-hand"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert "neural-layer-b" in examples
    assert "ByHand" in spec["components"]["schemas"]


def test_the_cli_prints_the_endpoints_body(client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status = cli.main(["by-hand", LAYER["expression"], "--values", json.dumps(LAYER["values"]), "--of", "W"])
    out = capsysbinary.readouterr().out
    assert status == 0
    assert json.loads(out) == client.post("/api/v1/by-hand", json={**LAYER, "of": "W"}).json()


def test_the_cli_reports_an_error_with_exit_2(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status = cli.main(["by-hand", "x * 2", "--values", '{"x": 1}', "--of", "y"])
    assert status == 2
    assert json.loads(capsysbinary.readouterr().err)["type"] == "invalid_derivation"


def test_by_hand_takes_the_requests_constants(client: TestClient) -> None:
    body = {"expression": "p = softmax(z); loss = -sum(t * log(p))",
            "values": {"z": [1, 2, 0.5], "t": [0, 1, 0]}, "constants": ["t"]}
    response = client.post("/api/v1/by-hand", json=body)
    assert response.status_code == 200, response.text
    assert [d["of"] for d in response.json()["derivations"]] == ["z", "p"]
    refused = client.post("/api/v1/by-hand", json={**body, "of": "t"})
    assert refused.status_code == 422
    assert "constant" in refused.json()["detail"]["message"]
