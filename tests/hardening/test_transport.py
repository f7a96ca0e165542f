"""Malformed transport: wrong content types, broken and deep JSON, giant bodies, odd methods
and paths. Every request gets a 4xx; the big ones are refused without being read whole.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import LiveServer
from tests.fuzz import tally
from tests.fuzz.contract import strict_json
from tests.hardening.support import URL, client

__all__ = ["client"]

FAMILY = "bad: transport"
GOOD = {"expression": "x * 2", "values": {"x": 1}}


def post_raw(client: TestClient, content: bytes, headers: dict[str, str]) -> httpx.Response:
    with tally.timed(FAMILY):
        response = client.post(URL, content=content, headers=headers)
    tally.count(FAMILY, str(response.status_code))
    return response


def assert_4xx_json(response: httpx.Response) -> dict[str, object]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = strict_json(response.content)
    assert "detail" in body, body
    return body


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (json.dumps(GOOD).encode(), "text/plain"),
        (json.dumps(GOOD).encode(), "application/x-www-form-urlencoded"),
        (b"expression=x&values=1", "application/x-www-form-urlencoded"),
        (b'--b\r\nContent-Disposition: form-data; name="expression"\r\n\r\nx\r\n--b--\r\n', "multipart/form-data; boundary=b"),
        (json.dumps(GOOD).encode(), "application/xml"),
        (b'{"expression": "x\xff\xfe", "values": {"x": 1}}', "application/json"),
        (b"\x1f\x8b\x08\x00garbage", "application/json"),
        (b"", "application/json"),
        (b"null", "application/json"),
        (b"[]", "application/json"),
        (b'"x"', "application/json"),
        (b"1", "application/json"),
        (b'{"expression": "x", ', "application/json"),
        (b'{"expression": "x", "values": {"x": 1}, "debug": true}', "application/json"),
        (b'{"expression": "x", "values": {"x": 1}, "check": "yes"}', "application/json"),
        (b'{"expression": 1, "values": {"x": 1}}', "application/json"),
        (b'{"expression": ["x"], "values": {"x": 1}}', "application/json"),
        (b'{"expression": null}', "application/json"),
        (b'{"values": {"x": 1}}', "application/json"),
        (b'{"expression": "x", "values": [1]}', "application/json"),
        (b'{"expression": "x", "values": "x=1"}', "application/json"),
        (b"{" + b'"a": 1, ' * 20_000 + b'"expression": "x"}', "application/json"),
    ],
    ids=[
        "text-plain", "form-with-json", "form", "multipart", "xml", "invalid-utf8",
        "gzip-bytes", "empty", "null", "array", "string", "number", "truncated", "unknown-field",
        "check-string", "expression-number", "expression-list", "expression-null", "no-expression",
        "values-list", "values-string", "20000-unknown-keys",
    ],
)
def test_malformed_bodies_get_4xx(client: TestClient, content: bytes, content_type: str) -> None:
    assert_4xx_json(post_raw(client, content, {"content-type": content_type}))


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (json.dumps(GOOD).encode(), {}),
        (json.dumps(GOOD).encode("utf-16"), {"content-type": "application/json; charset=utf-16"}),
        (json.dumps(GOOD).encode("utf-32"), {"content-type": "application/json"}),
        (b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), {"content-type": "application/json"}),
    ],
    ids=["no-content-type", "utf-16", "utf-32", "utf-8-bom"],
)
def test_other_encodings_are_read_as_json_or_refused(client: TestClient, content: bytes, headers: dict[str, str]) -> None:
    # JSON allows UTF-16/32 (RFC 8259 reads them; Python's json detects them): a right trace or a 4xx.
    response = post_raw(client, content, headers)
    assert response.status_code in (200, 415, 422), response.text[:300]
    if response.status_code == 200:
        assert strict_json(response.content)["value"] == 2.0


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_deep_json_gets_4xx(client: TestClient, depth: int, bracket: str) -> None:
    open_, close = bracket
    inner = (b'{"a": ' * depth + b"1" + b"}" * depth) if open_ == "{" else (b"[" * depth + b"1" + b"]" * depth)
    body = b'{"expression": "sum(x)", "values": {"x": ' + inner + b"}}"
    assert_4xx_json(post_raw(client, body, {"content-type": "application/json"}))


def test_duplicate_keys_are_answered(client: TestClient) -> None:
    body = b'{"expression": "x", "expression": "x * 2", "values": {"x": 1}, "values": {"x": 2}}'
    response = post_raw(client, body, {"content-type": "application/json"})
    assert response.status_code in (200, 422)


def test_body_over_the_limit_gets_413(client: TestClient) -> None:
    big = json.dumps({"expression": "x", "values": {"x": [1.0] * 1_000_000}}).encode()
    response = post_raw(client, big, {"content-type": "application/json"})
    assert response.status_code == 413, response.status_code
    assert strict_json(response.content)["detail"]["type"] == "limit_exceeded"


def test_expression_of_a_megabyte_gets_413_or_the_length_limit(client: TestClient) -> None:
    response = post_raw(client, json.dumps({"expression": "x" * 1_000_000, "values": {}}).encode(), {"content-type": "application/json"})
    assert response.status_code in (413, 422)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", URL, {405}),
        ("PUT", URL, {405}),
        ("DELETE", URL, {405}),
        ("PATCH", URL, {405}),
        ("POST", "/api/v1/health", {405}),
        ("GET", "/api/v2/trace", {404}),
    ],
)
def test_odd_methods_and_paths(client: TestClient, method: str, path: str, allowed: set[int]) -> None:
    tally.count(FAMILY)
    response = client.request(method, path)
    assert response.status_code in allowed, (response.status_code, response.text[:200])


# Over a real socket: the size limit must hold before the body is read.


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> Iterator[LiveServer]:
    yield live_server


def _raw_exchange(server: LiveServer, head: bytes, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send bytes as they are; read one response (head and declared body) or until closed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                header, _, rest = data.partition(b"\r\n\r\n")
                found = re.search(rb"(?im)^content-length:\s*(\d+)", header)
                if found and len(rest) >= int(found.group(1)):
                    break
    return data


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_declared_giant_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    # 50 MB announced, nothing sent: the answer must come without waiting for the body.
    tally.count(FAMILY)
    head = (
        b"POST /api/v1/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n"
    )
    with tally.timed(FAMILY):
        answer = _raw_exchange(server, head, b'{"expression": "x", "values": {"x": [')
    assert _status(answer) == 413, answer[:200]


def test_chunked_giant_body_is_refused(server: LiveServer) -> None:
    def endless() -> Iterator[bytes]:
        yield b'{"expression": "x", "values": {"x": ['
        for _ in range(2_000):  # 8 MB in all, far past the limit
            yield b"1.0, " * 800

    tally.count(FAMILY)
    with httpx.Client(timeout=30) as http, tally.timed(FAMILY):
        try:
            response = http.post(server.url + URL, content=endless(), headers={"content-type": "application/json"})
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            return  # the server closed the connection mid-body: refused
    assert response.status_code == 413, response.status_code


@pytest.mark.parametrize(
    "head",
    [
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 1_0\r\n\r\n",
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        b"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["negative-length", "underscore-length", "giant-length", "two-lengths", "chunked-and-length", "huge-header", "huge-path"],
)
def test_malformed_http_is_refused_and_the_server_lives_on(server: LiveServer, head: bytes) -> None:
    tally.count(FAMILY)
    answer = _raw_exchange(server, head, timeout=5)
    if answer:  # or the connection was closed or left waiting for a body: also a refusal
        assert 400 <= _status(answer) < 500, answer[:200]
    assert httpx.get(server.url + "/api/v1/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        b"/static/../../pyproject.toml",
        b"/static/%2e%2e/%2e%2e/pyproject.toml",
        b"/static/..%2f..%2fpyproject.toml",
        b"/static/....//....//pyproject.toml",
        b"/vendor/katex/../../../package.json",
        b"/vendor/katex/%2e%2e/%2e%2e/%2e%2e/package.json",
        b"/vendor/dagre/..%5c..%5c..%5cpackage.json",
        b"/static/%00",
        b"/static//etc/passwd",
    ],
)
def test_path_traversal_never_serves_a_file_outside_its_directory(server: LiveServer, path: bytes) -> None:
    # Sent over a raw socket, because HTTP clients normalize the dots away before sending.
    tally.count(FAMILY)
    answer = _raw_exchange(server, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert 400 <= _status(answer) < 500, answer[:300]
    assert b"[project]" not in answer and b"root:" not in answer and b'"name"' not in answer
