"""What the deploy tests share: Debian's nginx (required under CI), a replica, a replica that drops requests."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from bench.cluster import BUILT_PAGE, Replica
from bench.load import free_port
from bench.nginx import NGINX


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    if not os.access(NGINX, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: make test installs Debian's nginx")
        pytest.skip("nginx is not installed (make test installs it)")


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    """One real `gradtrace serve` on a loopback port, serving the built page as a deployment does."""
    env = {**os.environ, "GRADTRACE_FRONTEND_DIR": str(BUILT_PAGE)}
    started = Replica(1, free_port(), env, tmp_path_factory.mktemp("replica"))
    started.start()
    try:
        started.wait_healthy()
        yield started
    finally:
        started.stop()


class Dropper:
    """A 'replica' that reads each request whole and closes the connection without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                if data:
                    self.requests.append(data.split(b"\r\n", 1)[0])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dropper() -> Iterator[Dropper]:
    found = Dropper()
    yield found
    found.close()
