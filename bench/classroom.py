"""The classroom load test: 100 students hit one server at once, some of them trying to break it.

Starts its own server (`gradtrace serve` on a free port of 127.0.0.1, stopped at the end),
then runs locust in this process for a bounded time: 100 simulated students who load the
page, trace light and heavy programs and send bad requests (syntax errors, code
execution attempts, shape bombs, deep nesting, malformed JSON, oversized bodies), plus one
watcher that asks /api/v1/health every half second (and a second one, in a process of
its own, every quarter second). Every answer must be the expected one
(a 200 with the right value, or the expected 4xx); a 5xx or a dropped connection counts
as a failure. Prints p50/p99 per kind of request and the health watcher's figures, and
writes bench/results/classroom.json.

    python -m bench.classroom [--users 100] [--seconds 60] [--workers 2] [--wait 0.2 1.0]

Only 127.0.0.1 receives traffic. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench.load import Server
from bench.machine import REPO
from bench.timing import command_line, write_result

HOST = "127.0.0.1"


def _col(n: int) -> list[list[float]]:
    return [[1.0]] * n


# Bad requests a mischievous student sends, each with the status it must get.
BAD: list[tuple[str, dict[str, Any] | bytes, int | tuple[int, ...]]] = [
    ("bad: syntax", {"expression": "x + * y", "values": {"x": 1, "y": 2}}, 422),
    ("bad: code execution", {"expression": "__import__('os').system('id')", "values": {}}, 422),
    ("bad: unknown function", {"expression": "eval('1+1')", "values": {}}, 422),
    ("bad: deep nesting", {"expression": "(" * 300 + "x" + ")" * 300, "values": {"x": 1}}, 422),
    ("bad: shape bomb", {"expression": "sum(c * r)", "values": {"c": _col(2000), "r": [1.0] * 2000}}, 422),
    ("bad: undefined name", {"expression": "x + y", "values": {"x": 1}}, 422),
    ("bad: ragged values", {"expression": "sum(x)", "values": {"x": [[1, 2], [3]]}}, 422),
    ("bad: malformed JSON", b'{"expression": "x", ', 422),
    ("bad: unknown field", {"expression": "x", "values": {"x": 1}, "debug": True}, 422),
    ("bad: 1 MB body", json.dumps({"expression": "x", "values": {"x": [1.0] * 260_000}}).encode(), 413),
    ("bad: bidi name", {"expression": "x\u202e + y", "values": {"x": 1, "y": 2}}, 422),
    ("bad: 120000 chars", {"expression": "x" * 120_001, "values": {}}, 422),
]

# Inputs that cost the server seconds of CPU each at the time of writing (see docs/load.md);
# off by default so the figures describe the service, on with --hostile to show their effect.
HOSTILE: list[tuple[str, dict[str, Any] | bytes, int | tuple[int, ...]]] = [
    ("hostile: trailing blanks", {"expression": "x" + " " * 19_999, "values": {"x": 1}}, 200),
    (
        "hostile: 7e6-number trace",
        {
            "expression": "a = c * r; " + "; ".join(f"a{i} = a * {i}" for i in range(6)) + "; sum(a5)",
            "values": {"c": _col(1000), "r": [1.0] * 1000},
        },
        (200, 422),
    ),
    ("hostile: check of 1e5 inputs", {"expression": "sum(exp(x))", "values": {"x": [0.5] * 100_000}, "check": True}, 422),
    # The families of the report that was fixed by the cost model and the transport (docs/load.md).
    (
        "hostile: 107 MB of Jacobians",
        {"expression": "a = x * y; sum(" + " + ".join(["a * a"] * 600) + ")", "values": {"x": _col(8), "y": [[1.0] * 8]}},
        422,
    ),
    (
        "hostile: subnormal products",
        {
            "expression": "h = W @ x; g = W @ x; sum(h) + sum(g)",
            "values": {"W": [[float(f"{1 + (i + j) % 7}e-155") for j in range(100)] for i in range(900)], "x": [1e-155] * 100},
        },
        (200, 503),
    ),
    (
        "hostile: 240000 bad entries",
        b'{"expression": "sum(x)", "values": {"x": [' + b",".join([b"[]"] * 240_000) + b"]}}",
        422,
    ),
    (
        "hostile: short, large worst case",
        {"expression": "a = x * y; b = a * a; c = b * a; sum(c * a)", "values": {"x": _col(8), "y": [[1.0] * 8]}},
        200,
    ),
]

DOCUMENTED = "503 (documented)"

# Hostile connections in a process of their own (see slow_clients), for the run's duration.
SLOW = """
import json, sys, threading
from bench.classroom import slow_clients
stop = threading.Event()
threading.Timer(float(sys.argv[2]), stop.set).start()
print(json.dumps(slow_clients(sys.argv[1], stop)))
"""

# A 503 is documented when it names its limit (busy: a full queue, a full budget of pending
# response bytes, the connection cap) and says when to come back: it is load shed, not a failure.
DOCUMENTED_503 = ("busy",)


def _documented_503(response: Any) -> bool:
    try:
        detail = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return False
    return detail.get("type") in DOCUMENTED_503 and bool(detail.get("limit")) and "retry-after" in {
        name.lower() for name in response.headers
    }


def _lecture() -> tuple[dict[str, Any], float]:
    x, y, z = (random.randint(-5, 5) for _ in range(3))
    return {"expression": "(x + y) * max(y, z)", "values": {"x": x, "y": y, "z": z}}, float((x + y) * max(y, z))


def _layer() -> tuple[dict[str, Any], None]:
    w = [[random.uniform(-1, 1) for _ in range(3)] for _ in range(2)]
    body = {
        "expression": "z = W @ x + b; h = sigmoid(z); s = u @ h",
        "values": {"W": w, "x": [1, 0, -1], "b": [0.5, -0.5], "u": [1, 2]},
        "check": random.random() < 0.3,
    }
    return body, None


def _heavy() -> tuple[dict[str, Any], float | None]:
    kind = random.choice(["softmax", "chain", "outer"])
    if kind == "softmax":
        n = 64
        w = [[random.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
        return {"expression": "sum(softmax(W @ x))", "values": {"W": w, "x": [1.0] * n}}, 1.0
    if kind == "chain":
        terms = 800
        return {"expression": " + ".join(["x * y"] * terms), "values": {"x": 2, "y": 3}}, 6.0 * terms
    return {"expression": "sum(c * r)", "values": {"c": _col(300), "r": [2.0] * 300}}, 180_000.0


# A second health watcher in a process of its own, with a plain blocking client: its
# figures do not include the time locust's own greenlets wait for the CPU.
PROBE = """
import json, sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
times, errors, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            ok = r.status == 200
    except Exception:
        ok = False
    if ok:
        times.append((time.perf_counter() - start) * 1000)
    else:
        errors += 1
    time.sleep(0.25)
print(json.dumps({"times_ms": times, "errors": errors}))
"""


def slow_clients(url: str, stop: Any, idle: int = 300, partial: int = 20) -> dict[str, int]:
    """Hostile connections beside the students, while `stop` is not set: `idle` connections that
    send nothing, and `partial` that send half a body; each is opened again once the server
    closes it. Bounded: at most idle + partial sockets at a time, on 127.0.0.1 only."""
    import select
    import socket

    host, port = url.removeprefix("http://").split(":")
    head = (
        b"POST /api/v1/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"expression": "x", '
    )
    counts = {"opened": 0, "closed_by_server": 0, "answered_408": 0}
    socks: dict[socket.socket, bool] = {}

    def open_one(partial_body: bool) -> None:
        try:
            sock = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            return
        if partial_body:
            sock.sendall(head)
        sock.setblocking(False)
        socks[sock] = partial_body
        counts["opened"] += 1

    for i in range(idle + partial):
        open_one(i >= idle)
    while not stop.is_set():
        readable, _, _ = select.select(list(socks), [], [], 0.2)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 408"):
                counts["answered_408"] += 1
            if not data or data.startswith(b"HTTP/1.1"):
                kind = socks.pop(sock)
                sock.close()
                counts["closed_by_server"] += 1
                open_one(kind)
    for sock in socks:
        sock.close()
    return counts


def worker_memory(server_pid: int) -> dict[int, int]:
    """Resident memory (kB) of the server's worker processes (its children), from /proc."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            if parent != server_pid:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        found[int(entry)] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return found


def build_users(wait: tuple[float, float], hostile: bool) -> tuple[type, type]:
    """The locust user classes (built here so that importing this module patches nothing)."""
    from locust import FastHttpUser, between, constant, task

    bad = BAD + (HOSTILE if hostile else [])

    class Student(FastHttpUser):
        """Loads the page, traces, steps, and now and then sends something broken."""

        wait_time = between(*wait)
        weight = 1

        def _trace(
            self, name: str, body: dict[str, Any] | bytes, status: int | tuple[int, ...], value: float | None = None
        ) -> None:
            wanted = status if isinstance(status, tuple) else (status,)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            with self.client.post(
                "/api/v1/trace",
                data=data,
                headers={"content-type": "application/json"},
                name=name,
                catch_response=True,
            ) as response:
                if response.status_code == 503 and _documented_503(response):
                    response.success()
                    return
                if response.status_code not in wanted:
                    text = (response.text or "")[:160] if response.status_code else ""
                    response.failure(f"status {response.status_code}, want {status}: {text}")
                    return
                if response.status_code == 200 and value is not None:
                    got = json.loads(response.content)["value"]
                    if not isinstance(got, float | int) or abs(got - value) > 1e-9 * max(1.0, abs(value)):
                        response.failure(f"value {got}, want {value}")
                        return
                response.success()

        @task(8)
        def light(self) -> None:
            body, value = _lecture()
            self._trace("trace: lecture (light)", body, 200, value)

        @task(4)
        def layer(self) -> None:
            body, value = _layer()
            self._trace("trace: neural layer", body, 200, value)

        @task(2)
        def heavy(self) -> None:
            body, value = _heavy()
            self._trace("trace: heavy", body, 200, value)

        @task(4)
        def broken(self) -> None:
            name, body, status = random.choice(bad)
            self._trace(name, body, status)

        @task(1)
        def page(self) -> None:
            for path in ("/", "/api/v1/examples", "/api/v1/ops"):
                with self.client.get(path, name=f"GET {path}", catch_response=True) as response:
                    if response.status_code != 200:
                        response.failure(f"status {response.status_code}")

    class Watcher(FastHttpUser):
        """Asks for health twice a second, all the time the students are at it."""

        wait_time = constant(0.5)
        fixed_count = 1

        @task
        def health(self) -> None:
            with self.client.get("/api/v1/health", name="health (watcher)", catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}")

    return Student, Watcher


def _quantile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def probe_summary(probed: dict[str, Any]) -> dict[str, Any]:
    """The health probe's answers, errors and latency quantiles (PROBE's output)."""
    times = probed["times_ms"]
    return {
        "answers": len(times),
        "errors": probed["errors"],
        "p50_ms": round(_quantile(times, 0.5), 1) if times else None,
        "p99_ms": round(_quantile(times, 0.99), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
    }


def run(users: int, seconds: float, workers: int, wait: tuple[float, float], hostile: bool) -> dict[str, Any]:
    import gevent
    from locust.env import Environment

    student, watcher = build_users(wait, hostile)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: dict[str, list[str]] = defaultdict(list)
    health_times: list[float] = []

    with Server(workers) as server:
        server.wait_healthy()
        env = Environment(user_classes=[student, watcher], host=server.url)

        def on_request(request_type: str, name: str, response_time: float, response_length: int,
                       response: Any = None, context: Any = None, exception: Any = None, **kw: Any) -> None:
            latencies[name].append(response_time)
            code = getattr(response, "status_code", 0) if response is not None else 0
            documented = code == 503 and _documented_503(response)
            statuses[name][DOCUMENTED if documented else str(code or "dropped")] += 1
            if exception is not None:
                failures[name].append(str(exception)[:200])
            if name == "health (watcher)" and exception is None:
                health_times.append(time.monotonic())

        env.events.request.add_listener(on_request)
        probe = subprocess.Popen(
            [sys.executable, "-c", PROBE, server.url + "/api/v1/health", str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        slow = (
            subprocess.Popen([sys.executable, "-c", SLOW, server.url, str(seconds)], stdout=subprocess.PIPE, text=True, cwd=REPO)
            if hostile
            else None
        )
        memory: dict[int, int] = {}

        def sample_memory() -> None:
            while True:
                for pid, kb in worker_memory(server.proc.pid).items():
                    memory[pid] = max(memory.get(pid, 0), kb)
                gevent.sleep(0.5)

        sampler = gevent.spawn(sample_memory)
        runner = env.create_local_runner()
        started = time.monotonic()
        runner.start(users + 1, spawn_rate=min(users + 1, 100))
        print(f"  {users} students and 1 health watcher on {server.url} for {seconds:g} s ...", flush=True)
        gevent.sleep(seconds)
        runner.quit()
        elapsed = time.monotonic() - started
        probed = json.loads(probe.communicate(timeout=120)[0])
        slowed = json.loads(slow.communicate(timeout=120)[0]) if slow is not None else None
        sampler.kill()
        alive = server.proc.poll() is None

    gaps = [b - a for a, b in zip(health_times, health_times[1:], strict=False)]
    kinds: dict[str, Any] = {}
    for name, times in sorted(latencies.items()):
        kinds[name] = {
            "requests": len(times),
            "p50_ms": round(_quantile(times, 0.5), 1),
            "p99_ms": round(_quantile(times, 0.99), 1),
            "max_ms": round(max(times), 1),
            "statuses": dict(statuses[name]),
            "failures": len(failures[name]),
            "first_failures": failures[name][:3],
        }
    total = sum(k["requests"] for k in kinds.values())
    failed = sum(k["failures"] for k in kinds.values())
    server_errors = sum(
        n for k in kinds.values() for s, n in k["statuses"].items() if s.startswith("5") and s != DOCUMENTED
    )
    documented = sum(k["statuses"].get(DOCUMENTED, 0) for k in kinds.values())
    dropped = sum(k["statuses"].get("dropped", 0) for k in kinds.values())
    all_times = [t for ts in latencies.values() for t in ts]
    return {
        "setup": {
            "server": f"gradtrace serve --host {HOST} --workers {workers}",
            "client": f"locust, {users} users waiting {wait[0]}-{wait[1]} s between requests, one health watcher every 0.5 s",
            "seconds": round(elapsed, 1),
            "hostile": hostile,
        },
        "total": {
            "requests": total,
            "per_second": round(total / elapsed, 1),
            "failed": failed,
            "server_errors": server_errors,
            "documented_503": documented,
            "dropped": dropped,
            "p50_ms": round(_quantile(all_times, 0.5), 1) if all_times else None,
            "p99_ms": round(_quantile(all_times, 0.99), 1) if all_times else None,
        },
        "health": {
            "answers": len(health_times),
            "longest_gap_s": round(max(gaps), 2) if gaps else None,
            "median_gap_s": round(statistics.median(gaps), 2) if gaps else None,
        },
        "health_probe": probe_summary(probed),
        "server_alive_at_end": alive,
        "worker_peak_rss_mb": sorted(round(kb / 1024, 1) for kb in memory.values()),
        "slow_clients": slowed,
        "kinds": kinds,
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"  {'request':<30} {'n':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    for name, k in result["kinds"].items():
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(k["statuses"].items()))
        print(f"  {name:<30} {k['requests']:>7} {k['p50_ms']:>8} {k['p99_ms']:>8} {k['max_ms']:>8}  {codes}")
        for failure in k["first_failures"]:
            print(f"      failure: {failure}")
    t, h = result["total"], result["health"]
    print(
        f"  total {t['requests']} requests ({t['per_second']}/s), p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms; "
        f"failed {t['failed']}, 5xx {t['server_errors']} (and {t['documented_503']} documented 503s), "
        f"dropped {t['dropped']}"
    )
    print(f"  health: {h['answers']} answers, longest gap between answers {h['longest_gap_s']} s; "
          f"server alive at the end: {result['server_alive_at_end']}")
    print(f"  worker peak memory (MB): {result['worker_peak_rss_mb']}; slow clients: {result['slow_clients']}")
    p = result["health_probe"]
    print(f"  health probe (own process, every 0.25 s): {p['answers']} answers, {p['errors']} errors, "
          f"p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, max {p['max_ms']} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wait", type=float, nargs=2, default=(0.2, 1.0), metavar=("MIN", "MAX"))
    parser.add_argument("--hostile", action="store_true", help="add inputs known to cost seconds each")
    parser.add_argument("--name", default="classroom", help="results file name under bench/results/")
    args = parser.parse_args(argv)
    result = run(args.users, args.seconds, args.workers, tuple(args.wait), args.hostile)
    print_table(result)
    path = write_result(args.name, command_line("bench.classroom", argv), result)
    print(f"  wrote {path}")
    ok = result["total"]["failed"] == 0 and result["server_alive_at_end"] and result["health_probe"]["errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
