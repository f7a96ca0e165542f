"""ASGI middleware and the JSON response: body size limit, HEAD, security headers, orjson bytes.

The middlewares are plain ASGI (no BaseHTTPMiddleware) so that they see every
response, stream nothing twice and add no task per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradtrace.api.encoding import dumps


def content_security_policy(frame_ancestors: Sequence[str] = ()) -> str:
    """The page's CSP; `frame_ancestors` are the origins that may frame it (none by default)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # KaTeX and Swagger UI set style attributes.
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


def security_headers(frame_ancestors: Sequence[str] = ()) -> list[tuple[bytes, bytes]]:
    """The headers every response carries.

    X-Frame-Options can only say DENY (or one origin, in old browsers): where
    origins may frame the page it is left out, and the CSP's frame-ancestors,
    which every current browser obeys, says which.
    """
    headers = [
        (b"content-security-policy", content_security_policy(frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if not frame_ancestors:
        headers.insert(2, (b"x-frame-options", b"DENY"))
    return headers


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS: list[tuple[bytes, bytes]] = security_headers()


class JSONBytesResponse(JSONResponse):
    """A JSON response encoded by orjson, non-finite numbers as the contract's strings.

    Content that is already bytes (a trace serialized in its worker thread) is
    sent as is. (A JSONResponse subclass, so that the OpenAPI document gives
    its endpoints their JSON schemas.)
    """

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return dumps(content)


def error_response(
    status_code: int, detail: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONBytesResponse:
    """The contract's error body: {"detail": {...}}, with the request's id when it has one."""
    from gradtrace.api.logs import current_request_id

    body: dict[str, Any] = {"detail": detail}
    request_id = current_request_id.get()
    if request_id is not None:
        # The 500 handler answers outside the request-log middleware, which adds it to the rest.
        body["request_id"] = request_id
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONBytesResponse(body, status_code=status_code, headers=headers)


#: The contract's `type` for Starlette's own errors (a 404, a 405...), which carry only a string.
_HTTP_ERROR_TYPES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def http_error_detail(error: Any) -> dict[str, Any]:
    """The contract's detail object for a Starlette HTTPException (its detail is a bare string)."""
    if isinstance(error.detail, dict):
        return error.detail
    return {
        "type": _HTTP_ERROR_TYPES.get(error.status_code, "http_error"),
        "message": str(error.detail),
        "span": None,
        "line": None,
        "column": None,
    }


def _too_large_detail(limit: int) -> dict[str, Any]:
    return {
        "type": "limit_exceeded",
        "message": f"the request body is larger than the limit (max_body_bytes) of {limit} bytes",
        "span": None,
        "line": None,
        "column": None,
        "limit": "max_body_bytes",
    }


class BodySizeLimitMiddleware:
    """Answer 413 to a request body over `max_bytes`, without reading it whole.

    A declared Content-Length over the limit is refused before any byte is
    read. A body without one (chunked) is counted as it arrives and refused
    as soon as the count passes the limit; what was read so far is at most
    `max_bytes` plus one chunk, and is replayed to the app when it fits.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope.get("headers", ()))
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(scope, send)
                return
            # The server holds the body to its declared length, so it cannot grow.
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = error_response(413, _too_large_detail(self.max_bytes))
        response.headers["connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class HeadAsGetMiddleware:
    """Answer HEAD on every GET route: run it as a GET and send the head without the body.

    FastAPI routes answer only the methods they declare, so HEAD on a GET route was a 405.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def head_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, head_only)


class SecurityHeadersMiddleware:
    """Add the security headers (CSP, nosniff, who may frame) to every HTTP response."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]] = SECURITY_HEADERS) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
