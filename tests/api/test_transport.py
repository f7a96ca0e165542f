"""The transport: body size limit (declared and chunked), request strictness, headers, CORS."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.middleware import BodySizeLimitMiddleware
from gradtrace.api.settings import Settings
from tests.api.helpers import assert_contract_error, assert_request_error, post_trace, run_async

# -- the body size limit --------------------------------------------------------------------


def _run_asgi(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """Send a POST whose body arrives in `chunks`; return status, body and chunks read."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        await asyncio.sleep(3600)  # a client that never sends more
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/trace",
        "raw_path": b"/api/v1/trace",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    run_async(asyncio.wait_for(app(scope, receive, send), timeout=30))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, read


def test_chunked_body_over_the_limit_is_413_before_it_is_all_read() -> None:
    app = create_app(Settings(max_body_bytes=1000))
    chunks = [b" " * 600] * 50  # 30,000 bytes in all, no Content-Length
    status, body, read = _run_asgi(app, chunks, [])
    assert status == 413
    assert json.loads(body)["detail"]["limit"] == "max_body_bytes"
    assert read == 2  # the second chunk passed the limit; the other 48 were never read


def test_declared_length_over_the_limit_is_413_before_any_byte_is_read() -> None:
    app = create_app(Settings(max_body_bytes=1000))
    status, body, read = _run_asgi(app, [b" " * 600] * 50, [(b"content-length", b"30000")])
    assert status == 413
    assert read == 0


def test_chunked_body_under_the_limit_is_traced() -> None:
    app = create_app(Settings(max_body_bytes=1000))
    payload = json.dumps({"expression": "x * y", "values": {"x": 3, "y": 4}}).encode()
    chunks = [payload[i : i + 7] for i in range(0, len(payload), 7)]
    status, body, read = _run_asgi(app, chunks, [])
    assert status == 200, body
    assert json.loads(body)["value"] == 12.0
    assert read == len(chunks)


def test_body_size_middleware_passes_other_scopes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = BodySizeLimitMiddleware(inner, max_bytes=1)
    run_async(middleware({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


def test_body_just_under_the_limit_is_not_refused() -> None:
    with TestClient(create_app(Settings(max_body_bytes=200))) as client:
        body = json.dumps({"expression": "x", "values": {"x": 2}}).encode()
        body += b" " * (200 - len(body))
        response = client.post(
            "/api/v1/trace", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200
        response = client.post(
            "/api/v1/trace", content=body + b" ", headers={"content-type": "application/json"}
        )
        assert response.status_code == 413


# -- strict requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expression": 1}, "expression"),
        ({"expression": None}, "expression"),
        ({"expression": ["x"]}, "expression"),
        ({"expression": "x", "values": {"x": 1}, "check": "yes"}, "check"),
        ({"expression": "x", "values": {"x": 1}, "check": 1}, "check"),
        ({"expression": "x", "values": [1]}, "values"),
        ({"expression": "x", "values": {"x": "1"}}, "x"),
        ({"expression": "x", "values": {"x": [[[1.0]]]}}, "x"),
        ({"expression": "x", "values": {"x": []}}, "x"),
        ({"expression": "x", "values": {"x": [[]]}}, "x"),
        ({"expression": "x", "values": {"x": {"a": 1}}}, "x"),
        ({"expression": "x", "values": {"__proto__": 1}}, "__proto__"),
        ({"values": {"x": 1}}, "expression"),
    ],
)
def test_request_that_does_not_fit_the_model_is_refused(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    assert_request_error(client.post("/api/v1/trace", json=body), field)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_non_finite_number_is_refused(client: TestClient, literal: bytes) -> None:
    # Python's JSON reader accepts these literals and overflows 1e400 to inf.
    body = b'{"expression": "x", "values": {"x": [1.0, ' + literal + b"]}}"
    response = client.post(
        "/api/v1/trace", content=body, headers={"content-type": "application/json"}
    )
    issues = assert_request_error(response, "x")
    # The echoed input is encoded too: the body is valid JSON, with no bare NaN.
    assert b"NaN," not in response.content and b"Infinity," not in response.content
    assert issues


def test_integer_too_large_for_a_float_is_refused(client: TestClient) -> None:
    body = b'{"expression": "x", "values": {"x": 1' + b"0" * 400 + b"}}"
    response = client.post(
        "/api/v1/trace", content=body, headers={"content-type": "application/json"}
    )
    assert_request_error(response, "x")


def test_body_that_is_not_json_is_a_4xx(client: TestClient) -> None:
    for content, kind in [(b"\xff\xfe\x00", "application/json"), (b"expression=x", "text/plain")]:
        response = client.post("/api/v1/trace", content=content, headers={"content-type": kind})
        assert 400 <= response.status_code < 500, response.text


def test_engine_error_is_the_contracts_422(client: TestClient) -> None:
    response = post_trace(client, "x + * y", {"x": 1, "y": 2})
    detail = assert_contract_error(response, 422, "syntax_error", 4)
    assert set(detail) >= {"type", "message", "span", "line", "column"}
    assert detail["span"] == [4, 5] and detail["line"] == 1 and detail["column"] == 5


def test_error_line_and_column_count_from_one(client: TestClient) -> None:
    response = post_trace(client, "a = x + 1\nb = a + * 2", {"x": 1})
    detail = assert_contract_error(response, 422, "syntax_error", 18)
    assert (detail["line"], detail["column"]) == (2, 9)


def test_wrong_method_and_unknown_path_are_4xx(client: TestClient) -> None:
    assert client.get("/api/v1/trace").status_code == 405
    assert client.get("/api/v1/nothing").status_code == 404


# -- headers --------------------------------------------------------------------------------

PATHS = [
    ("get", "/"),
    ("get", "/api/v1/health"),
    ("get", "/api/v1/examples"),
    ("get", "/docs"),
    ("get", "/openapi.json"),
    ("get", "/static/css/app.css"),
    ("get", "/api/v1/nothing"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_response_has_the_security_headers(client: TestClient, method: str, path: str) -> None:
    _assert_security_headers(getattr(client, method)(path).headers)


def test_error_responses_have_the_security_headers(client: TestClient) -> None:
    _assert_security_headers(post_trace(client, "x +", {"x": 1}).headers)
    _assert_security_headers(client.post("/api/v1/trace", json={"nope": 1}).headers)
    big = client.post(
        "/api/v1/trace", content=b" " * 2_000_000, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    _assert_security_headers(big.headers)


def _assert_security_headers(headers: Any) -> None:
    csp = headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]
    assert set(directives["style-src"]) == {"'self'", "'unsafe-inline'"}
    assert set(directives["font-src"]) == {"'self'", "data:"}
    assert set(directives["img-src"]) == {"'self'", "data:", "blob:"}
    assert headers["x-content-type-options"] == "nosniff"


def test_cors_is_closed_by_default(client: TestClient) -> None:
    response = client.options(
        "/api/v1/trace",
        headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers
    response = client.get("/api/v1/health", headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_opens_to_configured_origins_only() -> None:
    settings = Settings(cors_origins=["https://course.example"])
    with TestClient(create_app(settings)) as client:
        allowed = client.options(
            "/api/v1/trace",
            headers={"origin": "https://course.example", "access-control-request-method": "POST"},
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://course.example"
        other = client.get("/api/v1/health", headers={"origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_can_be_set_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADTRACE_CORS_ORIGINS", '["https://course.example"]')
    assert Settings().cors_origins == ["https://course.example"]


def test_a_bug_is_a_json_500_with_the_security_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradtrace

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(gradtrace, "plan", broken)  # what the API calls
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = post_trace(client, "x", {"x": 1})
    assert response.status_code == 500
    assert response.json()["detail"]["type"] == "internal_error"
    assert "a bug" not in response.text
    _assert_security_headers(response.headers)
