"""POST /api/v1/trace with a program's own functions: the groups and their gates in the
answer, valid against the OpenAPI schema's models, and a def's mistakes as 422s at their place."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gradtrace.api.schemas import Trace
from tests.api.helpers import check_trace, post_trace

SIG = "def sig(a) = 1 / (1 + exp(-a))\nh = sig(z)\ns = h * y"


def test_a_call_is_a_group_with_its_gate(client: TestClient) -> None:
    response = post_trace(client, SIG, {"z": 0.5, "y": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    check_trace(body)
    Trace.model_validate(body)
    kinds = [(g["kind"], g["name"]) for g in body["groups"]]
    assert kinds == [("call", "sig"), ("statement", "h")]
    call = body["groups"][0]
    assert body["expression"][slice(*call["span"])] == "sig(z)"
    (wire,) = call["wires"]
    # The gate's upstream is dh's gradient, 2 (y), and its local sigmoid's σ(1 - σ).
    assert call["upstream"] == 2.0
    assert abs(wire["local"] - 0.2350037122015945) < 1e-12
    assert abs(wire["downstream"] - 2 * wire["local"]) < 1e-12
    assert body["gradients"]["z"] == wire["downstream"]


def test_a_def_mistake_is_a_422_at_its_place(client: TestClient) -> None:
    response = post_trace(client, "def sig(a) = 1 / (1 + exp(-a))\ns = sig(z, z)", {"z": 0.5})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "sig takes 1 argument" in detail["message"]
    assert detail["span"] == [35, 44] and detail["line"] == 2
