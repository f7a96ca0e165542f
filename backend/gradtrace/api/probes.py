"""Readiness, apart from liveness: may a load balancer send this replica requests now?

`GET /api/v1/health` is liveness: the process answers, it touches nothing else,
so an orchestrator restarts only a replica that is really stuck. `GET
/api/v1/ready` is readiness: each check the app registered (the lessons
database, when the app has one) must pass within `ready_timeout_seconds`,
else a 503 that names the failing check; a replica whose database is
unreachable is taken out of rotation but not restarted, and comes back by
itself when the database does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request

from gradtrace.api.middleware import JSONBytesResponse, error_response
from gradtrace.api.schemas import ErrorBody

#: A readiness check: returns when its dependency answers, raises otherwise.
ReadinessCheck = Callable[[], Awaitable[None]]

router = APIRouter(prefix="/api/v1", default_response_class=JSONBytesResponse)

READY_TIMEOUT_SECONDS = 2.0


def add_readiness_check(app: object, name: str, check: ReadinessCheck) -> None:
    """Make `check` part of this app's readiness under `name`."""
    state = app.state  # type: ignore[attr-defined]
    if not hasattr(state, "readiness_checks"):
        state.readiness_checks = {}
    state.readiness_checks[name] = check


@router.get(
    "/ready",
    summary="Say whether this replica can serve requests now",
    response_model=None,
    responses={
        200: {"description": 'Every dependency answers: {"status": "ready", "checks": {...}}.'},
        503: {"model": ErrorBody, "description": "A dependency (type `not_ready`) does not answer."},
    },
)
async def get_ready(request: Request) -> JSONBytesResponse:
    """200 when every dependency (the database) answers in time; 503 `not_ready` naming it if not."""
    checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness_checks", {})
    passed: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                await check()
        except Exception as error:  # any failure of a dependency means "not ready"
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            detail = {
                "type": "not_ready",
                "message": f"{name} does not answer: {reason}",
                "span": None,
                "line": None,
                "column": None,
                "check": name,
            }
            return error_response(503, detail, {"Retry-After": "1"})
        passed[name] = "ok"
    return JSONBytesResponse({"status": "ready", "checks": passed})
