"""Request ids, the JSON request log, the Prometheus metrics and readiness apart from liveness."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gradtrace.api.app import create_app
from gradtrace.api.probes import add_readiness_check
from gradtrace.api.runner import ServiceUnavailable
from gradtrace.api.settings import Settings
from tests.api.helpers import post_trace

SYNTAX_ERROR = {"expression": "x + * y", "values": {"x": 1, "y": 2}}


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        from gradtrace.api.logs import JSONLineFormatter

        self.lines.append(json.loads(JSONLineFormatter().format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    handler = _Lines()
    logger = logging.getLogger("gradtrace.access")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def _sample(client: TestClient, name: str, **labels: str) -> float:
    """One sample's value from /metrics (0 when it is not there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


# -- request ids ---------------------------------------------------------------------------


def test_a_clients_request_id_comes_back_in_the_header_and_the_error_body(client: TestClient) -> None:
    response = client.post("/api/v1/trace", json=SYNTAX_ERROR, headers={"X-Request-ID": "lab-7.q3"})
    assert response.status_code == 422
    assert response.headers["x-request-id"] == "lab-7.q3"
    body = response.json()
    assert body["request_id"] == "lab-7.q3"
    # v1's form is unchanged beside it.
    assert body["detail"]["type"] == "syntax_error" and body["detail"]["span"] == [4, 5]
    assert int(response.headers["content-length"]) == len(response.content)


def test_without_one_the_server_makes_a_fresh_id_per_request(client: TestClient) -> None:
    first = client.get("/api/v1/health").headers["x-request-id"]
    second = client.get("/api/v1/health").headers["x-request-id"]
    assert first and second and first != second


@pytest.mark.parametrize("sent", ["a" * 129, "two words", "line\tbreak", ""])
def test_an_insane_request_id_is_replaced(client: TestClient, sent: str) -> None:
    response = client.get("/api/v1/health", headers={"X-Request-ID": sent})
    assert response.status_code == 200
    got = response.headers["x-request-id"]
    assert got != sent and 0 < len(got) <= 128


def test_every_kind_of_error_body_carries_the_request_id(client: TestClient) -> None:
    sent = {"X-Request-ID": "rid-1"}
    answers = [
        client.post("/api/v1/trace", json={"expression": "x", "values": {"x": True}}, headers=sent),
        client.post("/api/v1/trace", content=b"x" * 1_048_577, headers={**sent, "content-type": "application/json"}),
        client.get("/no/such/page", headers=sent),
        client.post("/api/v1/trace", json={"expression": "x + x", "values": {"x": 1}}, headers={**sent, "X-Request-ID": "rid-2"}),
    ]
    assert [a.status_code for a in answers] == [422, 413, 404, 200]
    for answer in answers[:3]:
        assert answer.json()["request_id"] == "rid-1", answer.text
        assert answer.headers["x-request-id"] == "rid-1"
    # A successful trace's body is the contract's trace, untouched.
    assert "request_id" not in answers[3].json()
    assert answers[3].headers["x-request-id"] == "rid-2"


def test_a_large_gzipped_error_body_carries_the_request_id_too(client: TestClient) -> None:
    # Forty unknown fields make FastAPI's 422 list long enough to be compressed.
    unknown = {f"v{i}": True for i in range(40)}
    response = client.post(
        "/api/v1/trace",
        json={"expression": "v0", **unknown},
        headers={"X-Request-ID": "gz-err", "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 422
    assert response.headers["content-encoding"] == "gzip"
    body = response.json()  # httpx undoes the gzip
    assert body["request_id"] == "gz-err" and isinstance(body["detail"], list)


def test_a_server_bug_answers_500_with_the_request_id() -> None:
    app = create_app(Settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as bugged:
        response = bugged.get("/boom", headers={"X-Request-ID": "bug-42"})
    assert response.status_code == 500
    assert response.json()["request_id"] == "bug-42"
    assert response.json()["detail"]["type"] == "internal_error"
    assert response.headers["x-request-id"] == "bug-42"


def test_the_openapi_document_names_the_request_id(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "request_id" in schemas["ErrorBody"]["properties"]
    assert "request_id" not in schemas["ErrorBody"].get("required", [])
    assert "request_id" in schemas["ValidationErrorBody"]["properties"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/metrics" in paths and "/api/v1/ready" in paths


# -- the request log -----------------------------------------------------------------------


def test_one_json_line_per_request_with_its_id_route_status_and_outcome(
    client: TestClient, log_lines: list[dict[str, Any]]
) -> None:
    client.post("/api/v1/trace", json=SYNTAX_ERROR, headers={"X-Request-ID": "log-1"})
    client.get("/static/js/main.js", headers={"X-Request-ID": "log-2"})
    assert [line["request_id"] for line in log_lines] == ["log-1", "log-2"]
    trace, page = log_lines
    assert trace["route"] == "/api/v1/trace" and trace["status"] == 422
    assert trace["outcome"] == "syntax_error" and trace["method"] == "POST"
    assert trace["duration_ms"] >= 0 and trace["level"] == "info"
    assert page["route"] == "/static/{path}" and page["status"] == 200 and page["bytes"] > 0
    assert "outcome" not in page


# -- metrics -------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_and_status(client: TestClient) -> None:
    labels = {"route": "/static/{path}", "method": "GET", "status": "404"}
    before = _sample(client, "gradtrace_http_requests_total", **labels)
    client.get("/static/no-such-file-1.js")
    client.get("/static/no-such-file-2.js")
    assert _sample(client, "gradtrace_http_requests_total", **labels) == before + 2
    count = _sample(client, "gradtrace_http_request_duration_seconds_count", route="/static/{path}")
    assert count >= before + 2
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert "gradtrace_http_request_duration_seconds_bucket" in response.text


@pytest.mark.parametrize(
    ("body", "outcome", "limit"),
    [
        ({"expression": "x * x", "values": {"x": 3}}, "ok", ""),
        (SYNTAX_ERROR, "syntax_error", ""),
        ({"expression": "x + y", "values": {"x": 1}}, "undefined_name", ""),
        ({"expression": "x", "values": {"x": "one"}}, "request_invalid", ""),
        ({"expression": " + ".join(["x"] * 40), "values": {"x": 1}}, "limit", "max_nodes"),
    ],
)
def test_traces_are_counted_by_outcome(body: dict[str, Any], outcome: str, limit: str) -> None:
    with TestClient(create_app(Settings(max_nodes=20))) as small:
        before = _sample(small, "gradtrace_traces_total", outcome=outcome, limit=limit)
        small.post("/api/v1/trace", json=body)
        assert _sample(small, "gradtrace_traces_total", outcome=outcome, limit=limit) == before + 1


class _SaturatedRunner:
    """A runner that is full: three traces waiting, two computing, the next one refused."""

    waiting = 3
    running = 2

    async def run(self, work: Any) -> bytes:
        raise ServiceUnavailable("busy", "no thread is free", "max_queued_traces", 1)

    def shutdown(self) -> None:
        pass


def test_busy_traces_and_the_queue_depth_and_in_flight_gauges() -> None:
    with TestClient(create_app(Settings())) as busy:
        busy.app.state.runner = _SaturatedRunner()  # type: ignore[attr-defined]
        before = _sample(busy, "gradtrace_traces_total", outcome="busy", limit="max_queued_traces")
        response = post_trace(busy, "x * x", {"x": 2}, check=True)
        assert response.status_code == 503
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert _sample(busy, "gradtrace_traces_total", outcome="busy", limit="max_queued_traces") == before + 1
        assert _sample(busy, "gradtrace_trace_queue_depth") == 3
        assert _sample(busy, "gradtrace_traces_in_flight") == 2


def test_the_database_pool_is_reported_when_the_app_has_one() -> None:
    with TestClient(create_app(Settings())) as pooled:
        pooled.app.state.db_pool_figures = lambda: {"size": 5, "checked_out": 1, "overflow": 0, "idle": 4}  # type: ignore[attr-defined]
        assert _sample(pooled, "gradtrace_db_pool_connections", state="size") == 5
        assert _sample(pooled, "gradtrace_db_pool_connections", state="checked_out") == 1


# -- readiness and liveness ----------------------------------------------------------------


def test_ready_without_dependencies(client: TestClient) -> None:
    response = client.get("/api/v1/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_not_ready_while_a_dependency_fails_but_still_alive() -> None:
    app = create_app(Settings())
    state = {"up": False}

    async def database() -> None:
        if not state["up"]:
            raise ConnectionRefusedError("connection refused")

    add_readiness_check(app, "database", database)
    with TestClient(app) as probed:
        response = probed.get("/api/v1/ready")
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert detail["type"] == "not_ready" and detail["check"] == "database"
        assert "connection refused" in detail["message"]
        assert response.headers["retry-after"] == "1"
        assert probed.get("/api/v1/health").status_code == 200
        state["up"] = True
        assert probed.get("/api/v1/ready").json() == {"status": "ready", "checks": {"database": "ok"}}


def test_a_hanging_dependency_is_not_ready_within_the_probe_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from gradtrace.api import probes

    monkeypatch.setattr(probes, "READY_TIMEOUT_SECONDS", 0.05)
    app = create_app(Settings())

    async def hangs() -> None:
        await asyncio.sleep(3600)

    add_readiness_check(app, "database", hangs)
    with TestClient(app) as probed:
        response = probed.get("/api/v1/ready")
    assert response.status_code == 503
    assert "TimeoutError" in response.json()["detail"]["message"]


# -- several worker processes --------------------------------------------------------------


def test_with_two_workers_a_scrape_sums_every_workers_requests() -> None:
    from bench.load import Server

    with Server(workers=2) as server:
        server.wait_healthy(timeout=180)  # two workers start slowly on a loaded machine
        before = _scraped(server.url, "/api/v1/examples")
        for _ in range(30):  # each on a connection of its own: the kernel spreads them
            with urllib.request.urlopen(server.url + "/api/v1/examples", timeout=10) as answer:
                assert answer.status == 200
        totals = {_scraped(server.url, "/api/v1/examples") for _ in range(6)}
    # Whichever worker answers the scrape, it reports both workers' requests.
    assert totals == {before + 30}


def _scraped(url: str, route: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gradtrace_http_requests_total" and sample.labels.get("route") == route:
                return float(sample.value)
    return 0.0
