"""Fixtures shared by every test: a live server on 127.0.0.1, the browser's launch options,
and the lessons' databases (SQLite in a temporary directory, a PostgreSQL server of the tests' own).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from bench.browser import CHROMIUM, CHROMIUM_ARGS

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings
from gradtrace.api.transport import server_options
from tests.postgres import PostgresServer, find_bin_dir

# Every app the tests make stores its lessons in a directory of the test run's
# own, never in the user's data directory.
_TEST_DATA_DIR = tempfile.mkdtemp(prefix="gradtrace-test-data-")
atexit.register(shutil.rmtree, _TEST_DATA_DIR, True)
os.environ["GRADTRACE_DATA_DIR"] = _TEST_DATA_DIR
os.environ.pop("GRADTRACE_DATABASE_URL", None)


class LiveServer:
    """A uvicorn server in a thread, on a loopback socket of its own."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        settings = settings or Settings()
        config = uvicorn.Config(
            create_app(settings), log_level="warning", lifespan="on", **server_options(settings)
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})
        self.thread.daemon = True

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright's base URL: the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium; under CI a missing browser fails, elsewhere it skips."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: CI must run the browser tests")
        pytest.skip("Chromium is not installed (make test installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole run, on a socket in a temporary directory.

    Under CI a missing PostgreSQL fails the tests that need it; elsewhere they skip.
    """
    if find_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: CI must test the lessons against it (make test installs it)")
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def lesson_database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    """Settings for a fresh, empty lessons' database: SQLite in a new directory, or PostgreSQL."""
    if request.param == "sqlite":
        return {"data_dir": tmp_path / "data" / "not-made-yet"}
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"lessons_{os.getpid()}_{next(_database_numbers)}"
    return {"database_url": server.create_database(name)}
