"""The service's metrics, in Prometheus's text format at GET /metrics (prometheus-client).

What is counted: requests by route, method and status, their latency as a
histogram per route, traces by outcome (`ok`, each 4xx type of the contract,
`limit` with the limit's name, `timeout`, `busy`), the trace queue's depth and
the traces in flight, and the database pool when the app has one.

With several worker processes (`gradtrace serve --workers N`), each worker
keeps its figures in files of a directory shared by all of them
(PROMETHEUS_MULTIPROC_DIR, which `gradtrace serve` makes when N > 1), and a
scrape of any worker returns the sum over all of them: counters and
histograms add up, the gauges are summed over the live workers. A worker's
gauges are written when one of its traces starts or ends and when it answers a
scrape, so another worker's queue depth is as of its latest trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import Scope

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "gradtrace_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "gradtrace_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
TRACES = Counter(
    "gradtrace_traces",
    "Answers to POST /api/v1/trace by outcome: ok, an error type of the contract "
    "(syntax_error, shape_error, ...), limit, timeout, busy, request_invalid.",
    ["outcome", "limit"],
)
QUEUE_DEPTH = Gauge(
    "gradtrace_trace_queue_depth",
    "Traces waiting for a thread.",
    multiprocess_mode="livesum",
)
IN_FLIGHT = Gauge(
    "gradtrace_traces_in_flight",
    "Traces being computed by a thread (one past its time limit included).",
    multiprocess_mode="livesum",
)
DB_POOL = Gauge(
    "gradtrace_db_pool_connections",
    "Database connections of the pool by state: size (kept open), checked_out, "
    "overflow (open beyond size), idle.",
    ["state"],
    multiprocess_mode="livesum",
)

router = APIRouter()


def _set_runner_gauges(app: Any) -> None:
    runner = getattr(app.state, "runner", None)
    waiting, running = getattr(runner, "waiting", None), getattr(runner, "running", None)
    if isinstance(waiting, int) and isinstance(running, int):
        QUEUE_DEPTH.set(waiting)
        IN_FLIGHT.set(running)


def trace_started(scope: Scope) -> None:
    """A trace request arrived (it may wait for a thread)."""
    if "app" in scope:
        _set_runner_gauges(scope["app"])


def _outcome(status: int, detail: Any) -> tuple[str, str]:
    if status < 400:
        return "ok", ""
    if isinstance(detail, list):
        return "request_invalid", ""
    kind = detail.get("type") if isinstance(detail, dict) else None
    limit = detail.get("limit") if isinstance(detail, dict) else None
    limit = limit if isinstance(limit, str) else ""
    if kind == "limit_exceeded":
        return "limit", limit
    if isinstance(kind, str):
        return kind, limit
    return f"http_{status}", ""


def trace_done(scope: Scope, status: int, detail: Any) -> tuple[str, str]:
    """Count a trace's answer by outcome; return (outcome, limit name or '')."""
    outcome, limit = _outcome(status, detail)
    TRACES.labels(outcome, limit).inc()
    if "app" in scope:
        _set_runner_gauges(scope["app"])
    return outcome, limit


def request_done(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


def _pool_figures(app: Any) -> dict[str, int] | None:
    probe: Callable[[], dict[str, int] | None] | None = getattr(app.state, "db_pool_figures", None)
    return probe() if probe is not None else None


def render(app: Any) -> bytes:
    """The metrics of this process, or of all worker processes in multiprocess mode."""
    _set_runner_gauges(app)
    figures = _pool_figures(app)
    if figures is None:
        DB_POOL.clear()  # no pool (SQLite): no figures, rather than stale ones
    for state, value in (figures or {}).items():
        DB_POOL.labels(state).set(value)
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def worker_exiting() -> None:
    """Drop this worker's live gauges from the shared directory (multiprocess mode)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


@router.get(
    "/metrics",
    summary="The service's metrics in Prometheus's text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."}},
)
async def get_metrics(request: Request) -> Response:
    """Requests by route and status, latencies, traces by outcome, queue, in flight, DB pool."""
    return Response(render(request.app), media_type=CONTENT_TYPE_LATEST)
