"""Request shapes and small items: bounded error lists built off the event loop, the two body forms
of every 4xx, HEAD on GET routes, only the page's own files served, what runs on the event loop,
and subnormal numbers answered within max_seconds.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

import gradtrace
from gradtrace.api import routes, static
from gradtrace.api.app import create_app
from gradtrace.api.lessons import Lesson, Slide
from gradtrace.api.schemas import MAX_UNKNOWN_FIELDS, SlopeRequest, TraceRequest
from gradtrace.api.schemas_by_hand import ByHandRequest
from gradtrace.api.settings import Settings
from tests.fuzz.contract import strict_json
from tests.hardening.support import URL

MAX_ERRORS = Settings().max_request_errors


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def post_raw(client: TestClient, content: bytes) -> Any:
    return client.post(URL, content=content, headers={"content-type": "application/json"})


# -- bounded error lists --------------------------------------------------------------------

HUGE_BAD_BODIES = {
    # The report's body: 720 KB of 240,000 bad list entries.
    "240000 bad entries": b'{"expression": "sum(x)", "values": {"x": [' + b",".join([b"[]"] * 240_000) + b"]}}",
    "20000 bad keys": b'{"expression": "x", "values": {' + b",".join(b'"k%d": "no"' % i for i in range(20_000)) + b"}}",
    "20000 unknown fields": b"{" + b",".join(b'"f%d": 1' % i for i in range(20_000)) + b', "expression": "x"}',
    "a long string as a number": b'{"expression": "x", "values": {"x": "' + b"9" * 500_000 + b'"}}',
}


@pytest.mark.parametrize("body", HUGE_BAD_BODIES.values(), ids=HUGE_BAD_BODIES.keys())
def test_a_huge_malformed_body_gets_a_short_list_that_echoes_nothing_large(client: TestClient, body: bytes) -> None:
    response = post_raw(client, body)
    assert response.status_code == 422, response.text[:300]
    issues = strict_json(response.content)["detail"]
    assert isinstance(issues, list) and 1 <= len(issues) <= MAX_ERRORS + 1
    for issue in issues:
        assert {"type", "loc", "msg"} <= set(issue)
        assert len(json.dumps(issue.get("input"))) <= 80
    assert len(response.content) < 16_384


def test_the_rest_is_counted_in_one_last_issue(client: TestClient) -> None:
    # Forty unknown fields: each is an issue of its own (up to MAX_UNKNOWN_FIELDS), twenty listed.
    body = b"{" + b",".join(b'"f%d": 1' % i for i in range(40)) + b', "expression": "x"}'
    issues = post_raw(client, body).json()["detail"]
    assert len(issues) == MAX_ERRORS + 1
    assert issues[-1]["type"] == "too_many_errors" and "more issues" in issues[-1]["msg"]


#: Bodies of every endpoint that takes JSON, each within max_body_bytes, whose every entry is
#: wrong: a request model that listed each would build tens of thousands of issues (seconds
#: of work, on the event loop where FastAPI validates) only for all but a few to be dropped.
N_BAD = 60_000
FLOODS: dict[str, dict[str, Any]] = {
    "bad values": {"values": {f"k{i}": "no" for i in range(N_BAD)}},
    "bad input names": {"values": {f"_k{i}": 1 for i in range(N_BAD)}},
    "unknown fields": {f"f{i}": 1 for i in range(N_BAD)},
    "bad constants": {"constants": ["_k"] * N_BAD},
}
REQUEST_MODELS: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "trace": (TraceRequest, {"expression": "x"}),
    "slope": (SlopeRequest, {"expression": "x", "of": "x"}),
    "by-hand": (ByHandRequest, {"expression": "x"}),
    "lesson slide": (Slide, {"title": "t", "expression": "x"}),
    "lesson": (Lesson, {"version": 1, "title": "t", "slides": [{"title": "t", "expression": "x"}] * N_BAD}),
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
@pytest.mark.parametrize("model", REQUEST_MODELS.values(), ids=REQUEST_MODELS.keys())
def test_a_flood_of_bad_entries_costs_a_few_issues(model: tuple[type[BaseModel], dict[str, Any]], flood: dict[str, Any]) -> None:
    cls, good = model
    if cls is Lesson:
        body: dict[str, Any] = {**good, "slides": [{"title": "t", "expression": "x", **flood}] * 3}
    else:
        body = {**good, **flood}
    with pytest.raises(ValidationError) as caught:
        cls.model_validate(body)
    assert caught.value.error_count() <= MAX_UNKNOWN_FIELDS + 4


def test_a_lesson_of_many_bad_slides_costs_one_issue() -> None:
    with pytest.raises(ValidationError) as caught:
        Lesson.model_validate({"version": 1, "title": "t", "slides": [1] * N_BAD})
    assert caught.value.error_count() == 1


def test_a_few_unknown_fields_are_each_listed() -> None:
    with pytest.raises(ValidationError) as caught:
        TraceRequest.model_validate({"expression": "x", "a": 1, "b": 2})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("extra_forbidden", ("a",)),
        ("extra_forbidden", ("b",)),
    ]


FLOOD_BODIES = {
    "/api/v1/slope": {"expression": "x", "of": "x", **FLOODS["bad values"]},
    "/api/v1/by-hand": {"expression": "x", **FLOODS["unknown fields"]},
    "/api/v1/export": {"expression": "x", **FLOODS["bad input names"]},
    # Within max_lesson_bytes: one slide of 15,000 unknown fields.
    "/api/v1/lessons": {"version": 1, "title": "t", "slides": [{f"f{i}": 1 for i in range(15_000)}]},
}


@pytest.mark.parametrize(("path", "body"), FLOOD_BODIES.items(), ids=FLOOD_BODIES.keys())
def test_every_endpoint_answers_a_flood_with_a_short_list(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    issues = strict_json(response.content)["detail"]
    assert isinstance(issues, list) and 1 <= len(issues) <= MAX_ERRORS + 1
    assert all(len(json.dumps(issue.get("input"))) <= 80 for issue in issues)
    assert len(response.content) < 16_384


def threads_reading(monkeypatch: pytest.MonkeyPatch, reader: str) -> list[str]:
    """The name of the thread of every call of routes' `reader`, as it is called."""
    threads: list[str] = []
    original = getattr(routes, reader)

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(routes, reader, recorded)
    return threads


def test_a_large_body_is_read_in_a_trace_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    threads = threads_reading(monkeypatch, "read_trace_request")
    assert post_raw(client, HUGE_BAD_BODIES["240000 bad entries"]).status_code == 422
    assert post_raw(client, b'{"expression": "x", "values": {"x": true}}').status_code == 422
    large, small = threads
    assert large.startswith("gradtrace-trace")
    assert not small.startswith("gradtrace-trace")


@pytest.mark.parametrize("path", ["/api/v1/slope", "/api/v1/by-hand", "/api/v1/export"])
def test_every_large_body_is_read_in_a_trace_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    threads = threads_reading(monkeypatch, "read_request")
    of = {"of": "x"} if path == "/api/v1/slope" else {}
    large = {"expression": "sum(x)", **of, "values": {"x": [0.5] * 2_000, "y": "no"}}
    small = {"expression": "x", **of, "values": {"x": "no"}}
    for body in (large, small):
        response = post_raw_to(client, path, json.dumps(body).encode())
        assert response.status_code == 422, response.text[:300]
        bad = list(body["values"])[-1]
        assert {tuple(issue["loc"][:3]) for issue in response.json()["detail"]} == {("body", "values", bad)}
    assert len(json.dumps(large)) > Settings().inline_max_body_bytes >= len(json.dumps(small))
    large_thread, small_thread = threads
    assert large_thread.startswith("gradtrace-trace")
    assert not small_thread.startswith("gradtrace-trace")


def test_a_lesson_of_thousands_of_slides_is_refused_before_they_are_validated(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[int] = []
    original = Lesson.model_validate_json

    def recorded(data: Any, *args: Any, **kwargs: Any) -> Any:
        validated.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(Lesson, "model_validate_json", recorded)
    slides = [{"title": "t", "expression": "x"}] * 7_000  # within max_lesson_bytes
    response = post_raw_to(client, "/api/v1/lessons", json.dumps({"version": 1, "title": "t", "slides": slides}).encode())
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"]["limit"] == "max_lesson_slides"
    assert "7000 slides" in response.json()["detail"]["message"]
    assert validated == []


def post_raw_to(client: TestClient, path: str, content: bytes) -> Any:
    return client.post(path, content=content, headers={"content-type": "application/json"})


# -- every 4xx the app makes: the contract's object, or FastAPI's list ------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", URL), ("DELETE", "/api/v1/health"), ("GET", "/static/index.html"), ("PUT", "/")],
)
def test_starlettes_own_errors_have_the_contract_form(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    assert isinstance(detail, dict), detail
    assert {"type", "message", "span", "line", "column"} <= set(detail)
    assert detail["type"] in ("not_found", "method_not_allowed")


# -- HEAD -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1/health", "/api/v1/examples", "/api/v1/ops", "/docs", "/static/js/main.js"])
def test_head_is_answered_on_every_get_route(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert "content-security-policy" in head.headers


def test_head_on_a_post_route_is_still_refused(client: TestClient) -> None:
    assert client.head(URL).status_code == 405


# -- only the page's own files --------------------------------------------------------------

NOT_SERVED = [
    "/static/index.html",
    "/static/package.json",
    "/static/package-lock.json",
    "/static/node_modules/katex/package.json",
    "/vendor/katex/README.md",
    "/vendor/katex/contrib/auto-render.js",
    "/vendor/swagger-ui/index.html",
    "/vendor/swagger-ui/oauth2-redirect.html",
    "/vendor/swagger-ui/swagger-initializer.js",
    "/vendor/swagger-ui/package.json",
    "/vendor/swagger-ui/log.bundle-sizes.swagger-ui.txt",
    "/vendor/dagre/dagre.d.ts",
]


@pytest.mark.parametrize("path", NOT_SERVED)
def test_files_the_page_does_not_load_are_not_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_every_file_the_page_loads_is_served(client: TestClient) -> None:
    page = client.get("/").text
    frontend = Settings().frontend_dir
    wanted = set()
    for found in Path(frontend, "js").rglob("*.js"):
        wanted.add("/static/" + found.relative_to(frontend).as_posix())
    for text in [page, *(p.read_text() for p in Path(frontend, "js").rglob("*.js"))]:
        for prefix in static.SERVED:
            start = 0
            while (at := text.find(prefix + "/", start)) != -1:
                end = min(i for i in (text.find(c, at) for c in "\"' )`") if i != -1)
                wanted.add(text[at:end])
                start = end
    wanted.add("/vendor/katex/fonts/KaTeX_Main-Regular.woff2")
    wanted.add("/vendor/swagger-ui/swagger-ui-bundle.js")
    missing = [path for path in sorted(wanted) if client.get(path).status_code != 200]
    assert not missing, missing


# -- what runs on the event loop ------------------------------------------------------------


def where_traced(client: TestClient, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]) -> str:
    threads: list[str] = []
    original = routes._encoded

    def recorded(plan: gradtrace.Plan) -> bytes:
        threads.append(threading.current_thread().name)
        return original(plan)

    monkeypatch.setattr(routes, "_encoded", recorded)
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text[:300]
    return threads[-1]


def test_the_lecture_runs_on_the_event_loop(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}}
    assert not where_traced(client, monkeypatch, body).startswith("gradtrace-trace")


def test_a_short_request_whose_worst_case_is_large_goes_to_a_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # 70 characters and 16 numbers: short enough for the old rule, but each a * a sends two
    # 4096-number Jacobians, which the cost model counts.
    body = {"expression": "a = x * y; b = a * a; c = b * a; sum(c * a)", "values": {"x": [[1.0]] * 8, "y": [[2.0] * 8]}}
    assert sum(len(v) * len(v[0]) for v in body["values"].values()) <= Settings().inline_max_input_elements
    assert len(body["expression"]) <= Settings().inline_max_expression_length
    assert where_traced(client, monkeypatch, body).startswith("gradtrace-trace")


# -- subnormal numbers ----------------------------------------------------------------------


def test_subnormal_products_are_answered_within_max_seconds_and_a_tenth() -> None:
    # Every product of W's and x's elements is subnormal (1e-155 squared), where BLAS is up to a
    # few hundred times slower. The answer must come within max_seconds plus 10%: a bound the
    # service promises by design (the cost model, the per-op deadline, products off BLAS).
    settings = Settings()
    rows, cols = 900, 100
    W = [[float(f"{1 + (i * cols + j) % 7}e-155") for j in range(cols)] for i in range(rows)]
    x = [float(f"{1 + j % 3}e-155") for j in range(cols)]
    body = {"expression": "h = W @ x; g = W @ x; sum(h) + sum(g)", "values": {"W": W, "x": x}}
    with TestClient(create_app(settings)) as local:
        start = time.monotonic()
        response = local.post(URL, json=body)
        elapsed = time.monotonic() - start
    assert elapsed <= 1.1 * settings.max_seconds, elapsed
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 422:
        assert response.json()["detail"]["limit"] in ("max_seconds", "max_response_bytes")
    else:
        expected = 2 * sum(sum(w * v for w, v in zip(row, x, strict=True)) for row in W)
        assert response.json()["value"] == pytest.approx(expected, rel=1e-9, abs=1e-320)
