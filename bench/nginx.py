"""nginx in front of gradtrace replicas: render deploy/nginx/nginx.conf.in, and run it on loopback.

    python -m bench.nginx            # rewrite deploy/nginx/compose.conf (the compose file's nginx)
    python -m bench.nginx --check    # exit 1 when compose.conf is not what the template gives

`Nginx` runs Debian's nginx in a prefix of its own (a temporary directory with
the config, logs, temp files and a link to frontend/), in the foreground, as a
child process that is stopped when the `with` block ends.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.machine import REPO

TEMPLATE = REPO / "deploy" / "nginx" / "nginx.conf.in"
COMPOSE_CONF = REPO / "deploy" / "nginx" / "compose.conf"
COMPOSE_REPLICAS = ["gradtrace-1:8000", "gradtrace-2:8000", "gradtrace-3:8000"]
NGINX = "/usr/sbin/nginx"


def render(replicas: list[str], listen: str, *, user: str = "www-data", workers: str = "auto") -> str:
    """The nginx config for these replicas (host:port each), listening on `listen`."""
    from gradtrace.api.middleware import SECURITY_HEADERS

    headers = "\n".join(
        f'            add_header {name.decode().title()} "{value.decode()}" always;'
        for name, value in SECURITY_HEADERS
    )
    lines = []
    for line in TEMPLATE.read_text().splitlines():
        if "@REPLICA@" in line:
            lines.extend(line.replace("@REPLICA@", replica) for replica in replicas)
        else:
            lines.append(line)
    text = "\n".join(lines) + "\n"
    for field, value in {
        "@SECURITY_HEADERS@": headers,
        "@LISTEN@": listen,
        "@USER@": user,
        "@WORKERS@": workers,
    }.items():
        text = text.replace(field, value)
    return text


def compose_config() -> str:
    """What deploy/nginx/compose.conf must hold: three replicas by their compose names, port 80."""
    return render(COMPOSE_REPLICAS, "80")


class Nginx:
    """Debian's nginx on 127.0.0.1:`port` in front of `replicas`, in a prefix of its own."""

    def __init__(self, replicas: list[str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="gradtrace-nginx-"))
        for sub in ("run", "logs", "tmp"):
            (self.prefix / sub).mkdir()
        (self.prefix / "frontend").symlink_to(REPO / "frontend")
        # One worker: this machine's two cores are the replicas' too.
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(render(replicas, f"127.0.0.1:{port}", user=getpass.getuser(), workers="1"))
        self.proc: subprocess.Popen[bytes] | None = None

    def test_config(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the rendered config."""
        return subprocess.run(
            [NGINX, "-t", "-p", f"{self.prefix}/", "-c", str(self.conf)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [NGINX, "-p", f"{self.prefix}/", "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.prefix / "logs" / "stderr.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )

    def wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/static/css/app.css", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError("nginx did not start listening in time")

    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def cleanup(self) -> None:
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say whether compose.conf is up to date")
    args = parser.parse_args(argv)
    wanted = compose_config()
    if args.check:
        same = COMPOSE_CONF.exists() and COMPOSE_CONF.read_text() == wanted
        print("deploy/nginx/compose.conf is " + ("up to date" if same else "out of date: python -m bench.nginx"))
        return 0 if same else 1
    COMPOSE_CONF.write_text(wanted)
    print(f"wrote {COMPOSE_CONF.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
