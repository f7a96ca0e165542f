"""Structured request logs: one JSON line per request, tied to its request id.

Each request gets an id: the client's own X-Request-ID when it sends a sane
one (a load balancer in front passes its id on), otherwise a fresh one. The id
goes back in the X-Request-ID response header, in the `request_id` field of
every JSON error body (next to `detail`, so v1's form is unchanged), and in
the request's log line, so a student's screenshot of an error finds its line.

The middleware here is plain ASGI, outermost but for Starlette's own error
handler, and it also feeds the request metrics (gradtrace.api.metrics).
"""

from __future__ import annotations

import gzip
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradtrace.api import metrics

REQUEST_ID_HEADER = b"x-request-id"
# Anything else a client sends as its id (too long, spaces, control characters) is
# replaced, so a log line can never be forged or blown up through the header.
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}", re.ASCII)

#: The id of the request being answered, for code outside the middleware (the 500 handler).
current_request_id: ContextVar[str | None] = ContextVar("gradtrace_request_id", default=None)

access_log = logging.getLogger("gradtrace.access")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is sane, else a new random id."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class JSONLineFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


JSONLineFormatter.converter = time.gmtime


def log_config(level: str = "info") -> dict[str, Any]:
    """A logging config (dictConfig form) that writes gradtrace's and uvicorn's logs as JSON lines."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["json"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONLineFormatter}},
        "handlers": {"json": handler},
        "loggers": {"gradtrace": quiet, "uvicorn": quiet, "uvicorn.error": {"level": level.upper()}},
    }


def _ensure_handler() -> None:
    # Under `gradtrace serve` the config above is installed; an app built any other way
    # (a test, another ASGI server) still gets its lines, once, as JSON on stderr.
    logger = logging.getLogger("gradtrace")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JSONLineFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _route_of(scope: Scope, root_path: str) -> str:
    # The route's template, never the raw path: one label per endpoint, whatever is asked.
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    mounted = scope.get("root_path", "")
    if isinstance(mounted, str) and mounted != root_path:  # a static files mount took it
        return mounted[len(root_path) :] + "/{path}"
    return "unmatched"


def _with_request_id(body: bytes, request_id: str) -> tuple[bytes, Any]:
    """The JSON error body with `request_id` added beside `detail`, and its `detail`."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
    if not isinstance(data, dict):
        return body, None
    if "request_id" not in data:
        data["request_id"] = request_id
        body = orjson.dumps(data)
    return body, data.get("detail")


class RequestLogMiddleware:
    """Give each request its id, log it as one JSON line and count it in the metrics.

    Error bodies (JSON with a status of 400 or more) are held until complete, so
    that `request_id` can be added to them; they are small. Every other body
    streams through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        _ensure_handler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        request_id = request_id_from(scope.get("headers", []))
        current_request_id.set(request_id)
        is_trace = scope["method"] == "POST" and scope["path"] == "/api/v1/trace"
        if is_trace:
            metrics.trace_started(scope)
        state: dict[str, Any] = {"status": 500, "bytes": 0, "detail": None}
        held: list[Message] = []

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                state["status"] = status
                headers = [
                    *(h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
                message = {**message, "headers": headers}
                if status >= 400 and _is_json(headers):
                    held.append(message)
                    return
            elif message["type"] == "http.response.body":
                if held:
                    held.append(message)
                    if message.get("more_body", False):
                        return
                    await self._send_error(held, request_id, state, send)
                    return
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_logged)
        except BaseException as raised:
            error = raised
            raise
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(scope, root_path)
            status = state["status"]
            metrics.request_done(scope["method"], route, status, seconds)
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "bytes": state["bytes"],
                "client": (scope.get("client") or [None])[0],
            }
            if is_trace:
                outcome, limit = metrics.trace_done(scope, status, state["detail"])
                fields["outcome"] = outcome
                if limit:
                    fields["limit"] = limit
            if error is not None and not isinstance(error, Exception):
                fields["cancelled"] = True
            access_log.info(
                "request",
                extra={"fields": fields},
                exc_info=error if isinstance(error, Exception) else None,
            )

    @staticmethod
    async def _send_error(
        held: list[Message], request_id: str, state: dict[str, Any], send: Send
    ) -> None:
        start, *bodies = held
        body = b"".join(m.get("body", b"") for m in bodies)
        # A large error body may come gzipped from the compression inside this middleware.
        gzipped = (b"content-encoding", b"gzip") in [(n.lower(), v) for n, v in start["headers"]]
        if gzipped:
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError):
                gzipped = False  # not what it says it is: leave it as it came
        body, detail = _with_request_id(body, request_id)
        if gzipped:
            body = gzip.compress(body, compresslevel=5)
        state["detail"] = detail
        state["bytes"] = len(body)
        headers = [(n, v) for n, v in start["headers"] if n.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        held.clear()


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(n.lower() == b"content-type" and v.startswith(b"application/json") for n, v in headers)
