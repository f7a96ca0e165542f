"""POST /api/v1/export (the offline file) and GRADTRACE_FRAME_ANCESTORS (who may frame the page)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings

LECTURE = {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}}


def embedded_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict = json.loads(found.group(1))
    return data


def test_export_answers_one_html_file_holding_the_trace(client: TestClient) -> None:
    response = client.post("/api/v1/export", json=LECTURE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == 'attachment; filename="gradtrace.html"'
    data = embedded_data(response.text)
    assert data["standalone"] is True
    carried = data["traces"][0]
    assert carried["trace"] == client.post("/api/v1/trace", json=LECTURE).json()
    assert carried["request"] == {**LECTURE, "check": False}
    assert {op["name"] for op in data["ops"]} >= {"add", "mul", "max"}


def test_export_refuses_what_trace_refuses_with_the_same_detail(client: TestClient) -> None:
    bad = {"expression": "x + * y", "values": {"x": 1, "y": 2}}
    response = client.post("/api/v1/export", json=bad)
    assert response.status_code == 422
    detail = response.json()["detail"]
    expected = client.post("/api/v1/trace", json=bad).json()["detail"]
    # The same detail but for the request's own id.
    assert {**detail, "request_id": None} == {**expected, "request_id": None}
    assert detail["type"] == "syntax_error" and detail["span"] is not None
    assert client.post("/api/v1/export", json={"expression": "x"}).status_code == 422


def test_no_origin_may_frame_the_page_by_default(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_frame_ancestors_names_the_allowed_origins() -> None:
    origins = ["https://course.example.org", "http://127.0.0.1:8080"]
    with TestClient(create_app(Settings(frame_ancestors=origins))) as client:
        for response in (client.get("/"), client.post("/api/v1/trace", json={"expression": "x +"})):
            csp = response.headers["content-security-policy"]
            assert "frame-ancestors https://course.example.org http://127.0.0.1:8080" in csp
            # X-Frame-Options cannot name origins: DENY would override the list, so it is left out.
            assert "x-frame-options" not in response.headers


def test_frame_ancestors_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADTRACE_FRAME_ANCESTORS", '["https://course.example.org"]')
    assert Settings().frame_ancestors == ["https://course.example.org"]


@pytest.mark.parametrize(
    "origin", ["*", "https://a.example; script-src *", "javascript:alert(1)", "https://a b", ""]
)
def test_a_frame_ancestor_that_is_not_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="frame_ancestors"):
        Settings(frame_ancestors=[origin])
