"""Run traces off the event loop, a bounded number at a time, each within its time limit.

The event loop only parses requests and sends bytes, so `/api/v1/health` and
every other request keep being answered while heavy traces run. Each trace
runs in a thread of a pool of its own (so static files and other work never
wait behind traces) and is serialized there too, because turning a large
trace into JSON is work as well.

What a client sees when the service is loaded or a trace is slow:

- a trace that needs more than `max_seconds`: the engine stops itself at its
  cooperative deadline and the client gets a 422 `limit_exceeded` naming
  `max_seconds`; its thread is free again at once;
- more than `max_queued_traces` waiting for a thread, or a wait longer than
  `max_queue_seconds`: a 503 `busy` with Retry-After;
- the engine still running `timeout_grace_seconds` past its deadline (a safety
  net that should never fire): a 503 `timeout`; the thread's slot stays taken
  until it really ends, so the pool is never overcommitted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class ServiceUnavailable(Exception):
    """The service cannot take this trace now; the client may retry later (a 503)."""

    def __init__(self, type: str, message: str, limit: str, retry_after: int) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.limit = limit
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        """The `detail` object of the 503 response."""
        return {
            "type": self.type,
            "message": self.message,
            "span": None,
            "line": None,
            "column": None,
            "limit": self.limit,
        }


class TraceRunner:
    """A bounded thread pool for traces, with a bounded queue in front of it."""

    def __init__(
        self,
        *,
        max_concurrent: int,
        max_queued: int,
        max_queue_seconds: float,
        max_seconds: float,
        grace_seconds: float,
        retry_after: int,
    ) -> None:
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.max_queue_seconds = max_queue_seconds
        self.max_seconds = max_seconds
        self.grace_seconds = grace_seconds
        self.retry_after = retry_after
        self._executor: ThreadPoolExecutor | None = None
        # asyncio primitives belong to one loop; a test client may bring a new one.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0
        self._running = 0
        self._count_lock = threading.Lock()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._loop = loop
            self._slots = asyncio.Semaphore(self.max_concurrent)
            self._waiting = 0
        return self._slots

    @property
    def waiting(self) -> int:
        """How many traces wait for a thread right now."""
        return self._waiting

    @property
    def running(self) -> int:
        """How many threads are busy with a trace right now (a timed-out one included)."""
        return self._running

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` in the pool and return its result, or raise ServiceUnavailable."""
        slots = self._semaphore()
        if slots.locked() and self._waiting >= self.max_queued:
            raise ServiceUnavailable(
                "busy",
                f"{self._waiting} traces are already waiting; the limit (max_queued_traces) "
                f"is {self.max_queued}. Try again in a moment.",
                "max_queued_traces",
                self.retry_after,
            )
        self._waiting += 1
        try:
            async with asyncio.timeout(self.max_queue_seconds):
                await slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                "busy",
                f"no thread was free within {self.max_queue_seconds} s "
                "(max_queue_seconds). Try again in a moment.",
                "max_queue_seconds",
                self.retry_after,
            ) from None
        finally:
            self._waiting -= 1

        loop = asyncio.get_running_loop()
        with self._count_lock:
            self._running += 1
        try:
            future: Future[T] = self._pool().submit(work)
        except BaseException:
            with self._count_lock:
                self._running -= 1
            slots.release()
            raise

        def done(_: Future[T]) -> None:
            with self._count_lock:
                self._running -= 1
            _call_soon(loop, slots.release)

        # The slot is given back when the thread is done, not when the client stops
        # waiting: a request that timed out or went away must not free a busy thread.
        future.add_done_callback(done)
        try:
            async with asyncio.timeout(self.max_seconds + self.grace_seconds):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            raise ServiceUnavailable(
                "timeout",
                f"the trace did not finish within {self.max_seconds + self.grace_seconds} s "
                "(max_seconds plus timeout_grace_seconds).",
                "max_seconds",
                self.retry_after,
            ) from None

    def _pool(self) -> ThreadPoolExecutor:
        # Made on first use, and again after a shutdown: an app may be started twice.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.max_concurrent, thread_name_prefix="gradtrace-trace"
            )
        return self._executor

    def shutdown(self) -> None:
        """Let the threads go once their traces end (each at its own deadline)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop is closed: nobody is left to wait for the slot
        pass
