"""Slow and idle clients over real sockets on 127.0.0.1: each is answered or dropped in bounded
time, the connection cap refuses clearly, and health keeps answering meanwhile.

Every test is bounded in count (at most a thousand connections) and in time (timeouts of a
second or two). Health's 250 ms is the bound the transport guarantees while such clients are
connected; it is measured generously, as the median of five round trips.
"""

from __future__ import annotations

import json
import re
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from gradtrace.api.settings import Settings
from tests.conftest import LiveServer

HEALTH_BOUND_S = 0.25
QUICK = {
    "header_timeout_seconds": 1.0,
    "body_timeout_seconds": 1.0,
    "send_stall_seconds": 1.0,
    "keep_alive_seconds": 1.0,
}


@pytest.fixture()
def serve() -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(**settings: Any) -> LiveServer:
        server = LiveServer(Settings(**{**QUICK, **settings})).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def health_answers_quickly(server: LiveServer) -> None:
    """Health answers, each time on a new connection, within the bound (median of five).

    A plain socket, because an HTTP client's own set-up (an SSL context per client) can
    take longer than the bound on a loaded machine."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        with connect(server) as sock:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = read_answer(sock)
        times.append(time.perf_counter() - start)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'{"status":"ok"}'), answer[:200]
    assert statistics.median(times) < HEALTH_BOUND_S, times


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the socket timeout)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def json_error(answer: bytes, status: int) -> dict[str, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    assert re.search(rb"(?im)^content-security-policy: .*frame-ancestors", head), head
    assert re.search(rb"(?im)^content-type: application/json", head), head
    detail: dict[str, Any] = json.loads(body)["detail"]
    assert {"type", "message", "span", "line", "column"} <= set(detail), detail
    return detail


def test_a_body_that_stops_halfway_gets_a_408_and_is_closed(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(server)) for _ in range(20)]
        for sock in socks:
            sock.sendall(
                b"POST /api/v1/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"expression": "x", '
            )
        health_answers_quickly(server)
        for sock in socks:
            detail = json_error(read_answer(sock), 408)
            assert detail["type"] == "timeout" and detail["limit"] == "body_timeout_seconds"


def test_a_head_that_stops_halfway_gets_a_408_and_is_closed(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(server)) for _ in range(20)]
        for sock in socks:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        health_answers_quickly(server)
        for sock in socks:
            detail = json_error(read_answer(sock), 408)
            assert detail["limit"] == "header_timeout_seconds"


def test_a_thousand_idle_connections_neither_block_health_nor_stay_open(serve: Callable[..., LiveServer]) -> None:
    server = serve(header_timeout_seconds=2.0)
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(server)) for _ in range(1000)]
        health_answers_quickly(server)
        # Each idle connection is closed by the server, without an answer (it asked nothing).
        for sock in socks[::50]:
            assert read_answer(sock) == b""


def test_connections_over_the_cap_get_a_clear_503(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_connections=30, header_timeout_seconds=5.0)
    with ExitStack() as stack:
        for _ in range(30):
            stack.enter_context(connect(server))
        with connect(server) as extra:
            answer = read_answer(extra)
        detail = json_error(answer, 503)
        assert detail["type"] == "busy" and detail["limit"] == "max_connections"
        assert re.search(rb"(?im)^retry-after: \d+", answer)
    # Once they are gone, connections are taken again.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/api/v1/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    health_answers_quickly(server)


def test_a_reader_that_stops_reading_is_dropped_and_its_bytes_freed(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_response_bytes=64 * 1024 * 1024, max_seconds=120.0)  # time is not what is tested
    pending = server.server.config.app.state.pending_bytes
    # A trace of about ten megabytes (more than the sockets' buffers hold), on connections
    # whose clients never read.
    body = json.dumps({"expression": "sum(c * r)", "values": {"c": [[1.5]] * 1000, "r": [0.25] * 300}}).encode()
    request = (
        b"POST /api/v1/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    with ExitStack() as stack:
        socks = []
        for _ in range(4):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(request)
            socks.append(sock)
        # The responses are held while the clients do not read...
        wait_for(lambda: pending.held > 0, "the server holds a response")
        health_answers_quickly(server)
        # ...and freed once the stalled connections are dropped.
        wait_for(lambda: pending.held == 0, "the stalled responses are freed")
        health_answers_quickly(server)
        for sock in socks:
            received = read_answer(sock)
            assert received.startswith(b"HTTP/1.1 200 ")
            head, _, rest = received.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?im)^content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            assert len(rest) < length  # cut off: the client never read it all


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll for a state the test needs before it goes on (not a timing assertion)."""
    event = threading.Event()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        event.wait(0.02)
    raise AssertionError(f"gave up waiting until {what}")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"BLAH / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 100_000 + b"\r\n\r\n", 431),
    ],
    ids=["bad-method", "negative-length", "100-kb-header"],
)
def test_malformed_http_gets_the_contract_body_and_the_csp(serve: Callable[..., LiveServer], raw: bytes, status: int) -> None:
    server = serve()
    with connect(server) as sock:
        sock.sendall(raw)
        detail = json_error(read_answer(sock), status)
    assert detail["type"] in ("bad_request", "limit_exceeded")
    health_answers_quickly(server)
