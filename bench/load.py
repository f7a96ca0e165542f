"""Benchmark 3: the service under load, POST /api/v1/trace beside GET /api/v1/health.

Starts its own server (`gradtrace serve --workers 2` on a free port of 127.0.0.1), waits
for health, then drives 64 connections with wrk in alternating rounds, trace then health
then health then trace (so drift in the machine's load hits both alike), and stops the
server. Targets: trace throughput at least 0.3x health's, trace p99 at most 3x health's.

    python -m bench.load [--seconds 8] [--connections 64] [--workers 2] [--client auto]

wrk comes from Debian (`make bench` installs it when missing); without it the same rounds
run with locust headless (bench/locustfile.py), which is slower and shares the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.machine import REPO
from bench.timing import command_line, target, write_result

HOST = "127.0.0.1"
# The lecture's example: f(x, y, z) = (x + y) max(y, z) at x = 1, y = 2, z = 0.
LECTURE = {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}}

# wrk calls done() once at the end; it prints one JSON line this module reads back.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"mean_us": %f, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wrk_script(method: str, body: str | None) -> str:
    lines = [f"wrk.method = {_lua_string(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    return "\n".join(lines) + "\n" + _DONE


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def gradtrace_command() -> list[str]:
    exe = Path(sys.executable).with_name("gradtrace")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "gradtrace.cli"]


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class Server:
    """`gradtrace serve` as a child process in its own session, stopped by its own group id."""

    def __init__(self, workers: int) -> None:
        # A SIGTERM (a timeout, a Ctrl-C from make) must still stop the server: make it an
        # exception, so the `with` block's exit runs.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="gradtrace-bench-", suffix=".log", delete=False)
        cmd = [*gradtrace_command(), "serve", "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become healthy in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_trace(url: str) -> dict[str, Any]:
    """One POST before the load: the endpoint must answer 200 with the lecture's value."""
    req = urllib.request.Request(
        url + "/api/v1/trace",
        data=json.dumps(LECTURE).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        body: dict[str, Any] = json.loads(r.read())
    if body.get("value") != 6.0:
        raise AssertionError(f"unexpected trace of the lecture's example: {body.get('value')}")
    return body


def run_wrk(url: str, script: Path, seconds: float, connections: int, threads: int) -> dict[str, Any]:
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(script), url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{"))
    stats: dict[str, Any] = json.loads(line)
    seconds_run = stats["duration_us"] / 1e6
    # Throughput counts answered requests only: a 503 (busy) is load shed, not served.
    stats["failed"] = sum(stats["errors"].values())
    stats["rps"] = (stats["requests"] - stats["errors"]["status"]) / seconds_run
    stats["rps_all"] = stats["requests"] / seconds_run
    return stats


LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _percentile(histogram: dict[str, int], q: float) -> float:
    """The q-th percentile (0-100), in ms, of locust's histogram of rounded response times."""
    items = sorted((float(ms), n) for ms, n in histogram.items())
    total = sum(n for _, n in items)
    rank = q / 100 * total
    seen = 0
    for ms, n in items:
        seen += n
        if seen >= rank:
            return ms
    return items[-1][0] if items else 0.0


def run_locust(
    base: str, method: str, path: str, body: str | None, seconds: float, connections: int
) -> dict[str, Any]:
    """The same figures as run_wrk, from locust run headless in a process of its own.

    At least 3 s: locust takes a moment to start its users, more on a loaded machine.
    """
    env = dict(os.environ, BENCH_METHOD=method, BENCH_PATH=path)
    if body is not None:
        env["BENCH_BODY"] = body
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(connections), "-r", str(connections), "-t", f"{max(3, round(seconds))}s",
        "--host", base, "--only-summary", "--skip-log", "--json",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, env=env, cwd=tempfile.gettempdir())
    if "[" not in out.stdout:
        raise RuntimeError(f"locust printed no statistics: {out.stderr[-2000:]}")
    entries = json.loads(out.stdout[out.stdout.index("[") :])
    entry = next((e for e in entries if e["name"] == path), None)
    if entry is None:
        raise RuntimeError(f"locust completed no request to {path} in {seconds:g} s")
    duration = max(1e-9, entry["last_request_timestamp"] - entry["start_time"])
    hist = entry["response_times"]
    failed = int(entry["num_failures"])
    requests = int(entry["num_requests"])
    return {
        "requests": requests,
        "duration_us": int(duration * 1e6),
        "p50_us": _percentile(hist, 50) * 1e3,
        "p90_us": _percentile(hist, 90) * 1e3,
        "p99_us": _percentile(hist, 99) * 1e3,
        "mean_us": entry["total_response_time"] / max(1, requests) * 1e3,
        "max_us": entry["max_response_time"] * 1e3,
        "errors": {"status": failed},
        "failed": failed,
        "rps": (requests - failed) / duration,
        "rps_all": requests / duration,
    }


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """An endpoint's figures over its rounds: mean throughput, median of the percentiles."""
    return {
        "rps": statistics.fmean(r["rps"] for r in rounds),
        "rps_including_errors": statistics.fmean(r["rps_all"] for r in rounds),
        "p50_ms": statistics.median(r["p50_us"] for r in rounds) / 1e3,
        "p90_ms": statistics.median(r["p90_us"] for r in rounds) / 1e3,
        "p99_ms": statistics.median(r["p99_us"] for r in rounds) / 1e3,
        "requests": sum(r["requests"] for r in rounds),
        "errors": sum(r["failed"] for r in rounds),
        "status_errors": sum(r["errors"]["status"] for r in rounds),
        "rounds": rounds,
    }


def run(
    seconds: float,
    connections: int,
    workers: int,
    threads: int,
    warmup: float = 2.0,
    client: str = "auto",
) -> dict[str, Any]:
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "locust"
    if client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    bodies = {"trace": json.dumps(LECTURE), "health": None}
    methods = {"trace": "POST", "health": "GET"}
    with tempfile.TemporaryDirectory(prefix="gradtrace-bench-") as tmp:
        scripts = {
            "trace": Path(tmp) / "trace.lua",
            "health": Path(tmp) / "health.lua",
        }
        scripts["trace"].write_text(wrk_script("POST", json.dumps(LECTURE)))
        scripts["health"].write_text(wrk_script("GET", None))
        paths = {"trace": "/api/v1/trace", "health": "/api/v1/health"}
        with Server(workers) as server:
            server.wait_healthy()
            check_trace(server.url)

            def one_round(name: str, duration: float) -> dict[str, Any]:
                if client == "wrk":
                    return run_wrk(server.url + paths[name], scripts[name], duration, connections, threads)
                return run_locust(
                    server.url, methods[name], paths[name], bodies[name], duration, connections
                )

            # Warm both endpoints (imports, caches) before anything is recorded.
            if warmup > 0:
                for name in ("trace", "health"):
                    one_round(name, warmup)
            rounds: dict[str, list[dict[str, Any]]] = {"trace": [], "health": []}
            for name in ("trace", "health", "health", "trace"):
                r = one_round(name, seconds)
                print(
                    f"  load {name:6s} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1e3:7.2f} ms"
                    f"  p99 {r['p99_us'] / 1e3:7.2f} ms  errors {r['failed']} of {r['requests']}",
                    flush=True,
                )
                rounds[name].append(r)
    endpoints = {name: combine(rs) for name, rs in rounds.items()}
    trace, health = endpoints["trace"], endpoints["health"]
    throughput = trace["rps"] / health["rps"]
    p99 = trace["p99_ms"] / health["p99_ms"]
    # Throughput and latency mean little if the service answered most traces with a 503:
    # the share of refused or failed requests is a target of its own.
    failed = {name: e["errors"] / max(1, e["requests"]) for name, e in endpoints.items()}
    return {
        "setup": {
            "server": f"gradtrace serve --host {HOST} --workers {workers}",
            "client": (
                f"wrk -t{threads} -c{connections}" if client == "wrk"
                else f"locust headless, {connections} users (FastHttpUser, no wait)"
            )
            + f", {seconds:g} s per round, rounds trace/health/health/trace",
            "driver": client,
            "trace_body": LECTURE,
        },
        "endpoints": endpoints,
        "ratios": {
            "trace_vs_health_throughput": throughput,
            "trace_vs_health_p99": p99,
            "trace_failed_share": failed["trace"],
            "health_failed_share": failed["health"],
        },
        "targets": [
            target("trace throughput / health throughput (answered requests)", throughput, 0.3, at_most=False),
            target("trace p99 / health p99", p99, 3.0),
            target("share of trace requests refused (503) or failed", failed["trace"], 0.01),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="per round; 4 rounds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the cores)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per endpoint, unrecorded")
    parser.add_argument(
        "--client", choices=("auto", "wrk", "locust"), default="auto",
        help="auto: wrk when it is installed, else locust (slower: it shares the cores in Python)",
    )
    args = parser.parse_args(argv)
    body = run(args.seconds, args.connections, args.workers, args.threads, args.warmup, args.client)
    path = write_result("load", command_line("bench.load", argv), body)
    print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
