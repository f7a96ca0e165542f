"""The HTTP connection itself: time limits on reading a request, a cap on connections, slow readers.

uvicorn's httptools protocol, with what a public server needs below the app:

- the request head (line and headers) must arrive within `header_timeout_seconds` of the
  connection (or of the first byte of a next request on a kept-alive one), and be at most
  `max_header_bytes`; the body within `body_timeout_seconds` of its head. Otherwise the
  server answers 408 (or 431) and closes the connection, so connections that send part of
  a request and stop cannot pile up;
- at most `max_connections` connections per worker: the next one gets a 503 `busy` with
  Retry-After and is closed at once;
- a client that reads nothing of its response for `send_stall_seconds` while the server
  has bytes for it is disconnected, freeing what was held for it;
- the 400 uvicorn writes for malformed HTTP, and every refusal above, is the contract's
  JSON error body with the security headers, like every response of the app.

`gradtrace serve` uses this protocol with the settings from the environment; an
in-process server passes its own (`GuardedProtocol.configured(settings)`).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gradtrace.api.encoding import dumps
from gradtrace.api.middleware import SECURITY_HEADERS
from gradtrace.api.settings import Settings

Headers = tuple[tuple[bytes, bytes], ...] | list[tuple[bytes, bytes]]
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


def error_bytes(status: int, detail: dict[str, Any], extra: Headers = ()) -> bytes:
    """A whole HTTP/1.1 error response (JSON body, security headers, connection: close) as bytes."""
    body = dumps({"detail": {"span": None, "line": None, "column": None, **detail}})
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS[status])]
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *extra,
        *SECURITY_HEADERS,
    ]
    head += [name + b": " + value for name, value in headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _connection_cap(wanted: int) -> int:
    """max_connections, but at most the process's open-file limit minus 64."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return wanted
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft - 64))


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with read timeouts, a connection cap and a stall timeout."""

    settings: ClassVar[Settings | None] = None

    @classmethod
    def configured(cls, settings: Settings) -> type[GuardedProtocol]:
        """This protocol with these settings (for a server run in-process, such as a test's)."""
        return type(cls.__name__, (cls,), {"settings": settings})

    @classmethod
    def _settings(cls) -> Settings:
        if cls.settings is None:
            # Each worker process reads the environment once, as create_app does.
            GuardedProtocol.settings = Settings()
        assert cls.settings is not None
        return cls.settings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self._settings()
        self._header_seconds = settings.header_timeout_seconds
        self._body_seconds = settings.body_timeout_seconds
        self._stall_seconds = settings.send_stall_seconds
        self._max_connections = _connection_cap(settings.max_connections)
        self._max_header_bytes = settings.max_header_bytes
        self._retry_after = settings.retry_after_seconds()
        self._read_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._in_head = True  # waiting for (the rest of) a request head
        self._head_bytes = 0
        self._seen_bytes = False
        self._closed_by_us = False

    # -- connections ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            self._refuse(
                503,
                {
                    "type": "busy",
                    "message": f"this worker already has {self._max_connections} connections open, "
                    "its limit (max_connections). Try again in a moment.",
                    "limit": "max_connections",
                },
                ((b"retry-after", str(self._retry_after).encode()),),
            )
            return
        self._arm_read(self._header_seconds, "header")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read()
        self._cancel_stall()
        super().connection_lost(exc)

    def _refuse(self, status: int, detail: dict[str, Any], extra: Headers = ()) -> None:
        self._closed_by_us = True
        self._cancel_read()
        if not self.transport.is_closing():
            self.transport.write(error_bytes(status, detail, extra))
            self.transport.close()

    # -- reading a request -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._closed_by_us:
            return
        self._seen_bytes = True
        if self._in_head:
            # The head's bytes in this read: up to its blank line, or all of them.
            end = data.find(b"\r\n\r\n")
            head_part = len(data) if end < 0 else end + 4
            if self._head_bytes + head_part > self._max_header_bytes:
                self._refuse(
                    431,
                    {
                        "type": "limit_exceeded",
                        "message": f"the request line and headers are over {self._max_header_bytes} "
                        "bytes (max_header_bytes)",
                        "limit": "max_header_bytes",
                    },
                )
                return
        super().data_received(data)
        if self._in_head and not self._closed_by_us:
            self._head_bytes += len(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # What the app may call to drop a connection whose client reads too slowly (sending.py).
        self.scope["extensions"] = {"gradtrace.abort": self.transport.abort}  # type: ignore[dict-item]
        self._in_head = True
        if self._read_timer is None:  # a next request on a kept-alive connection
            self._arm_read(self._header_seconds, "header")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_read()
        super().on_headers_complete()
        expects_body = any(
            (name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding"
            for name, value in self.headers
        )
        if expects_body and self.cycle is not None and self.cycle.more_body:
            self._arm_read(self._body_seconds, "body")

    def on_message_complete(self) -> None:
        self._cancel_read()
        super().on_message_complete()

    def _arm_read(self, seconds: float, what: str) -> None:
        self._cancel_read()
        self._read_timer = self.loop.call_later(seconds, self._read_timed_out, what)

    def _cancel_read(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self, what: str) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if what == "header" and not self._seen_bytes:
            # A connection that never sent anything: nobody to answer.
            self._closed_by_us = True
            self.transport.close()
            return
        if self.cycle is not None and self.cycle.response_started:
            self._closed_by_us = True
            self.transport.close()
            return
        limit = "header_timeout_seconds" if what == "header" else "body_timeout_seconds"
        seconds = self._header_seconds if what == "header" else self._body_seconds
        self._refuse(
            408,
            {
                "type": "timeout",
                "message": f"the request's {'head' if what == 'header' else 'body'} did not arrive "
                f"within {seconds:g} s ({limit})",
                "limit": limit,
            },
        )

    # -- writing a response ----------------------------------------------------------------

    def on_response_complete(self) -> None:
        self._seen_bytes = False
        super().on_response_complete()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self._stall_seconds, self._stalled)

    def resume_writing(self) -> None:
        self._cancel_stall()
        super().resume_writing()

    def _cancel_stall(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _stalled(self) -> None:
        # The client has read nothing for send_stall_seconds: drop it and what it holds.
        self._stall_timer = None
        self._closed_by_us = True
        self.transport.abort()

    # -- uvicorn's own answers -------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self._refuse(
            400,
            {"type": "bad_request", "message": "the request is not valid HTTP/1.1: " + msg.rstrip(".")},
        )


def open_files_for(connections: int) -> None:
    """Raise the soft limit of open files toward the hard one, to hold this many connections."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # the listening socket, logs, the database, the modules...
    if soft != resource.RLIM_INFINITY and soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
        except (ValueError, OSError):
            pass


def server_options(settings: Settings, in_process: bool = True) -> dict[str, Any]:
    """uvicorn's options for a gradtrace server with these settings (for uvicorn.Config or run).

    Worker processes import the protocol by name and read the settings from the
    environment; a server run in this process gets a protocol bound to `settings`.
    """
    open_files_for(settings.max_connections)
    return {
        "http": GuardedProtocol.configured(settings) if in_process else f"{__name__}:GuardedProtocol",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "server_header": False,
        # A worker that starts slowly on a loaded machine (numpy, the app) is not a dead one:
        # uvicorn's 5 s would kill and restart it again and again.
        "timeout_worker_healthcheck": 30,
    }
