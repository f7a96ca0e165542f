"""The server keeps serving: traces run off the event loop, bounded, each within its time limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.runner import ServiceUnavailable, TraceRunner
from gradtrace.api.settings import Settings
from tests.api.helpers import run_async
from tests.conftest import LiveServer


def heavy_request(statements: int = 130, size: int = 50) -> dict[str, Any]:
    """A trace whose gradient check needs many seconds: every one of size**2 inputs is
    perturbed twice, and each perturbation runs `statements` ops on size**2 elements.
    (Over 64 nodes, so that the engine's forward pass looks at its deadline.)"""
    lines = ["a0 = sin(W)"] + [f"a{i} = sin(a{i - 1})" for i in range(1, statements)]
    lines.append(f"sum(a{statements - 1})")
    matrix = [[((i * size + j) % 7) / 7.0 for j in range(size)] for i in range(size)]
    return {"expression": "\n".join(lines), "values": {"W": matrix}, "check": True}


def heavy_settings(**overrides: Any) -> Settings:
    """Limits that let the heavy trace start, so that only the time limit stops it."""
    base: dict[str, Any] = {
        "max_check_evaluations": 10**15,
        "max_total_elements": 10**9,
        "max_flops": 10**15,
        "max_response_bytes": 10**12,
        "max_seconds": 1.5,
    }
    return Settings(**{**base, **overrides})


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll for a condition the test needs before it goes on (not a timing assertion)."""
    event = threading.Event()
    for _ in range(3000):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError(f"gave up waiting until {what}")


@pytest.fixture()
def server_factory() -> Iterator[Callable[[Settings], LiveServer]]:
    servers: list[LiveServer] = []

    def start(settings: Settings) -> LiveServer:
        server = LiveServer(settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _runner(server: LiveServer) -> TraceRunner:
    runner: TraceRunner = server.server.config.app.state.runner
    return runner


def test_health_answers_while_heavy_traces_run(
    server_factory: Callable[[Settings], LiveServer],
) -> None:
    # Long enough that the traces are still running while health is asked, on a loaded machine too.
    server = server_factory(heavy_settings(max_concurrent_traces=2, max_seconds=4.0))
    runner = _runner(server)
    results: list[httpx.Response] = []

    def post_heavy() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            results.append(http.post("/api/v1/trace", json=heavy_request()))

    threads = [threading.Thread(target=post_heavy) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_until(lambda: runner.running == 2 and runner.waiting == 2, "both threads are busy")

    with httpx.Client(base_url=server.url, timeout=60) as http:
        for _ in range(5):
            health = http.get("/api/v1/health")
            assert health.status_code == 200
            assert health.json() == {"status": "ok"}
            assert http.get("/api/v1/examples").status_code == 200
    # Health was answered while every heavy trace was still running or waiting.
    assert results == []
    assert runner.running == 2

    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 4
    for response in results:
        assert response.status_code == 422, response.text
        assert response.json()["detail"]["limit"] == "max_seconds"
    wait_until(lambda: runner.running == 0, "every thread is free again")


def test_trace_past_its_time_limit_is_422_and_frees_its_thread() -> None:
    settings = heavy_settings(max_seconds=0.2, max_concurrent_traces=1)
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/trace", json=heavy_request())
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert detail["type"] == "limit_exceeded"
        assert detail["limit"] == "max_seconds"
        runner: TraceRunner = client.app.state.runner  # type: ignore[attr-defined]
        wait_until(lambda: runner.running == 0, "the thread is free")
        # The only thread is free: the next trace is answered.
        light = client.post("/api/v1/trace", json={"expression": "x * 2", "values": {"x": 1}})
        assert light.status_code == 200


def test_saturated_server_answers_503_with_retry_after(
    server_factory: Callable[[Settings], LiveServer],
) -> None:
    server = server_factory(
        # Every trace through the threads here, the smallest included, to fill the queue.
        heavy_settings(
            max_concurrent_traces=1,
            max_queued_traces=0,
            max_seconds=2.0,
            inline_max_expression_length=0,
        )
    )
    runner = _runner(server)
    results: list[httpx.Response] = []

    def post_heavy() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            results.append(http.post("/api/v1/trace", json=heavy_request()))

    thread = threading.Thread(target=post_heavy)
    thread.start()
    wait_until(lambda: runner.running == 1, "the only thread is busy")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        refused = http.post("/api/v1/trace", json={"expression": "x", "values": {"x": 1}})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "2"
        detail = refused.json()["detail"]
        assert detail["type"] == "busy" and detail["limit"] == "max_queued_traces"
        thread.join(timeout=60)
        wait_until(lambda: runner.running == 0, "the thread is free")
        again = http.post("/api/v1/trace", json={"expression": "x", "values": {"x": 1}})
        assert again.status_code == 200
    assert results[0].status_code == 422


# -- the runner on its own, with work that waits for the test's signal ---------------------------


def _blocked_work(release: threading.Event) -> Callable[[], bytes]:
    def work() -> bytes:
        release.wait(30)
        return b"{}"

    return work


def _runner_for(**overrides: Any) -> TraceRunner:
    options: dict[str, Any] = {
        "max_concurrent": 1,
        "max_queued": 4,
        "max_queue_seconds": 10.0,
        "max_seconds": 0.05,
        "grace_seconds": 0.05,
        "retry_after": 1,
    }
    return TraceRunner(**{**options, **overrides})


def test_runner_gives_up_on_a_trace_past_its_grace_but_keeps_its_slot() -> None:
    runner = _runner_for()
    release = threading.Event()

    async def scenario() -> None:
        with pytest.raises(ServiceUnavailable) as raised:
            await runner.run(_blocked_work(release))
        assert raised.value.type == "timeout"
        # The thread is still busy, so its slot is still taken.
        assert runner.running == 1
        release.set()
        for _ in range(3000):
            if runner.running == 0:
                break
            await asyncio.sleep(0.01)
        assert runner.running == 0
        assert await runner.run(lambda: b"[]") == b"[]"

    try:
        run_async(scenario())
    finally:
        release.set()
        runner.shutdown()


def test_runner_refuses_a_trace_that_waits_too_long_for_a_thread() -> None:
    runner = _runner_for(max_seconds=30.0, max_queue_seconds=0.05)
    release = threading.Event()

    async def scenario() -> None:
        first = asyncio.ensure_future(runner.run(_blocked_work(release)))
        while runner.running == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(ServiceUnavailable) as raised:
            await runner.run(lambda: b"[]")
        assert raised.value.type == "busy" and raised.value.limit == "max_queue_seconds"
        assert runner.waiting == 0
        release.set()
        assert await first == b"{}"

    try:
        run_async(scenario())
    finally:
        release.set()
        runner.shutdown()


def test_runner_runs_queued_traces_in_turn() -> None:
    runner = _runner_for(max_seconds=30.0)
    release = threading.Event()

    async def scenario() -> None:
        first = asyncio.ensure_future(runner.run(_blocked_work(release)))
        while runner.running == 0:
            await asyncio.sleep(0.01)
        second = asyncio.ensure_future(runner.run(lambda: b"2"))
        while runner.waiting == 0:
            await asyncio.sleep(0.01)
        assert not second.done()
        release.set()
        assert await first == b"{}"
        assert await second == b"2"

    try:
        run_async(scenario())
    finally:
        release.set()
        runner.shutdown()


def test_gradient_check_of_a_small_graph_stops_at_the_time_limit() -> None:
    settings = heavy_settings(max_seconds=0.05, max_concurrent_traces=1)
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/trace", json=heavy_request(statements=30, size=20))
        assert response.status_code == 422, response.status_code
        assert response.json()["detail"]["limit"] == "max_seconds"


class _CountingRunner:
    """Stands in for the app's runner and counts the traces sent to the threads."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.calls = 0

    async def run(self, work: Any) -> bytes:
        self.calls += 1
        result: bytes = await self.runner.run(work)
        return result


def test_small_traces_run_inline_and_large_ones_in_the_threads() -> None:
    app = create_app(Settings(inline_max_expression_length=64, inline_max_input_elements=4))
    with TestClient(app) as client:
        counting = _CountingRunner(app.state.runner)
        app.state.runner = counting
        lecture = {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}}
        response = client.post("/api/v1/trace", json=lecture)
        assert response.status_code == 200 and response.json()["value"] == 6.0
        assert counting.calls == 0
        # A gradient check, a long expression or many numbers go to the threads.
        for body in (
            {**lecture, "check": True},
            {"expression": " + ".join(["x"] * 40), "values": {"x": 1}},
            {"expression": "sum(v)", "values": {"v": [1, 2, 3, 4, 5]}},
        ):
            response = client.post("/api/v1/trace", json=body)
            assert response.status_code == 200, response.text
        assert counting.calls == 3
        # An engine error found inline is the same 422 as from a thread.
        response = client.post("/api/v1/trace", json={"expression": "x + * y", "values": {}})
        assert response.status_code == 422
        assert response.json()["detail"]["type"] == "syntax_error"
        assert response.json()["detail"]["span"] == [4, 5]


def test_inline_traces_can_be_switched_off() -> None:
    app = create_app(Settings(inline_max_expression_length=0))
    with TestClient(app) as client:
        counting = _CountingRunner(app.state.runner)
        app.state.runner = counting
        response = client.post("/api/v1/trace", json={"expression": "x", "values": {"x": 1}})
        assert response.status_code == 200
        assert counting.calls == 1
