"""Send a trace's bytes: in chunks as the client reads them, within a time limit, within a memory budget.

A trace's JSON is held in memory until its client has read it. A slow reader
would hold it for as long as it likes, and many of them all the worker's
memory. So each worker counts the bytes of the trace responses it is sending
(`max_pending_response_bytes`): a response that would pass the budget is
answered 503 `busy` instead. The bytes go out in chunks, each written only when
the connection has taken the last (uvicorn waits for the socket to drain), and
the whole response must be read within `max_send_seconds`, or the connection is
closed and its bytes freed. (A client that reads nothing at all is dropped
sooner, by the transport's `send_stall_seconds`.)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.types import Receive, Scope, Send

from gradtrace.api.middleware import JSONBytesResponse
from gradtrace.api.runner import ServiceUnavailable

#: Bytes written per send: small enough that a slow reader holds up little in the socket.
CHUNK_BYTES = 64 * 1024


class PendingBytes:
    """The bytes of trace responses one worker holds for clients that are still reading."""

    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.held = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> None:
        """Count `size` more bytes, or raise ServiceUnavailable (a 503) when over the budget."""
        with self._lock:
            if self.held and self.held + size > self.limit:
                raise ServiceUnavailable(
                    "busy",
                    f"this worker already holds {self.held} bytes of responses for clients still "
                    f"reading them; the limit (max_pending_response_bytes) is {self.limit}. "
                    "Try again in a moment.",
                    "max_pending_response_bytes",
                    self.retry_after,
                )
            self.held += size

    def give_back(self, size: int) -> None:
        with self._lock:
            self.held -= size


class TraceResponse(JSONBytesResponse):
    """A trace's JSON bytes, sent in chunks under the send time limit and the bytes budget."""

    def __init__(self, content: bytes, pending: PendingBytes, max_send_seconds: float, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.pending = pending
        self.max_send_seconds = max_send_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.body
        size = len(body)
        if size <= CHUNK_BYTES:
            await super().__call__(scope, receive, send)
            return
        self.pending.take(size)
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            view = memoryview(body)
            try:
                async with asyncio.timeout(self.max_send_seconds):
                    for start in range(0, size, CHUNK_BYTES):
                        end = start + CHUNK_BYTES
                        await send({"type": "http.response.body", "body": bytes(view[start:end]), "more_body": end < size})
            except TimeoutError:
                abort = scope.get("extensions", {}).get("gradtrace.abort")
                if abort is None:
                    raise
                abort()  # the transport's: the connection closes, the bytes are freed
        finally:
            self.pending.give_back(size)
