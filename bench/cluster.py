"""The cluster on one machine: replicas behind nginx, a classroom through it, one replica killed.

Starts PostgreSQL (the lessons' database, when the service has lessons),
three `gradtrace serve` replicas on loopback ports and Debian's nginx in front
of them (deploy/nginx/nginx.conf.in), then drives the classroom mix through
nginx: traces light and heavy, bad requests, page loads, lesson stores and
reads, and a health watcher in a process of its own every 0.25 s. Halfway
through it kills one replica (SIGKILL, so the requests it holds die with it)
and starts it again on the same port.

Afterwards every lesson stored during the run is read back from every
replica directly, and each failed request is looked up in nginx's log by its
X-Request-ID: a failure is "in flight on the killed replica" when nginx sent
it there and the replica died under it. Targets: no other failure, every
lesson read back everywhere, health p99 through nginx under 250 ms.

    python -m bench.cluster [--seconds 60] [--users 40] [--replicas 3] [--docs]

Prints the figures, writes bench/results/cluster.json and, with --docs, the
figures section of docs/deploy.md. Only 127.0.0.1 receives traffic; every
process started here is stopped at the end. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.classroom import BAD, PROBE, _layer, _lecture, _quantile, probe_summary
from bench.load import free_port, gradtrace_command
from bench.machine import REPO
from bench.nginx import Nginx
from bench.timing import command_line, write_result

HOST = "127.0.0.1"
HEALTH_P99_TARGET_MS = 250.0
DOCS = REPO / "docs" / "deploy.md"
DOCS_START = "<!-- cluster figures: written by python -m bench.cluster --docs -->"
DOCS_END = "<!-- end of cluster figures -->"

#: The page as the package and the image serve it: bundles and fonts named by their content's hash.
BUILT_PAGE = REPO / "frontend" / "dist"


def built_page_files() -> list[str]:
    """The URLs of the built page's bundles (its scripts, style sheets and worker), from the build's manifest."""
    manifest = json.loads((BUILT_PAGE / "manifest.json").read_text())
    return sorted("/static/" + built for built in manifest["files"].values())


class Replica:
    """One `gradtrace serve` on a fixed loopback port, which can be killed and started again."""

    def __init__(self, index: int, port: int, env: dict[str, str], logs: Path) -> None:
        self.index = index
        self.port = port
        self.address = f"{HOST}:{port}"
        self.url = f"http://{self.address}"
        self.env = env
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.logs / f"replica-{self.index}.{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*gradtrace_command(), "serve", "--host", HOST, "--port", str(self.port), "--workers", "1"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 180.0) -> float:
        """Seconds until /api/v1/ready answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.index} exited; see {self.logs}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica {self.index} did not become ready in time")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _lesson() -> dict[str, Any]:
    """A lesson a lecturer might store: a new one most of the time, so each is a new row."""
    x = random.randint(-9, 9)
    return {
        "version": 1,
        "title": f"Lecture {uuid.uuid4().hex[:8]}",
        "slides": [
            {"title": "The slope of x**3", "expression": "x**3", "values": {"x": x}},
            {"title": "Gradients sum at a branch", "expression": "(x + y) * max(y, z)",
             "values": {"x": 1, "y": 2, "z": 0}, "step": 3},
        ],
    }


def build_users(wait: tuple[float, float], lessons: bool, stored: dict[str, dict[str, Any]],
                page_files: list[str]) -> list[type]:
    """The locust user class (built here so that importing this module patches nothing)."""
    from locust import FastHttpUser, between, task

    class Student(FastHttpUser):
        """Loads the page, traces, sends something broken now and then, stores and reads lessons."""

        wait_time = between(*wait)

        def _call(self, method: str, path: str, name: str, want: tuple[int, ...], body: Any = None,
                  check: Any = None) -> Any:
            data = None
            headers = {"X-Request-ID": f"cl-{uuid.uuid4().hex}"}
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                headers["content-type"] = "application/json"
            with self.client.request(method, path, data=data, headers=headers, name=name,
                                     catch_response=True) as response:
                response.request_meta["context"] = {"request_id": headers["X-Request-ID"]}
                if response.status_code not in want:
                    response.failure(f"{headers['X-Request-ID']}: status {response.status_code}, want {want}")
                    return None
                if check is not None:
                    problem = check(response)
                    if problem:
                        response.failure(f"{headers['X-Request-ID']}: {problem}")
                        return None
                response.success()
                return response

        @task(8)
        def light(self) -> None:
            body, value = _lecture()
            self._call("POST", "/api/v1/trace", "trace: lecture", (200,), body,
                       lambda r: None if json.loads(r.content)["value"] == value else "wrong value")

        @task(3)
        def layer(self) -> None:
            body, _ = _layer()
            self._call("POST", "/api/v1/trace", "trace: neural layer", (200,), body)

        @task(2)
        def broken(self) -> None:
            name, body, status = random.choice(BAD)
            want = status if isinstance(status, tuple) else (status,)
            self._call("POST", "/api/v1/trace", name, want, body)

        @task(2)
        def page(self) -> None:
            self._call("GET", "/", "page: /", (200,))
            for path in page_files:
                self._call("GET", path, "page: files", (200,))
            self._call("GET", "/api/v1/examples", "page: examples", (200,))

        @task(2 if lessons else 0)
        def store_lesson(self) -> None:
            lesson = _lesson()
            answer = self._call("POST", "/api/v1/lessons", "lesson: store", (201,), lesson)
            if answer is not None:
                stored[json.loads(answer.content)["id"]] = lesson

        @task(3 if lessons else 0)
        def read_lesson(self) -> None:
            if not stored:
                return
            lesson_id = random.choice(list(stored))
            self._call("GET", f"/api/v1/lessons/{lesson_id}", "lesson: read", (200,))

    return [Student]


def _access_log(path: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return entries
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        entries[entry.get("request_id", "")] = entry
    return entries


def _read_back(replicas: list[Replica], stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every stored lesson from every replica directly: each must answer 200 with its title."""
    missing: list[str] = []
    for lesson_id, lesson in stored.items():
        for replica in replicas:
            try:
                with urllib.request.urlopen(f"{replica.url}/api/v1/lessons/{lesson_id}", timeout=10) as r:
                    got = json.loads(r.read())
                ok = got.get("title") == lesson["title"]
            except (urllib.error.URLError, OSError, ValueError, AttributeError):
                ok = False
            if not ok:
                missing.append(f"{lesson_id} from replica {replica.index}")
    return {"lessons": len(stored), "reads": len(stored) * len(replicas), "missing": missing[:20],
            "missing_count": len(missing)}


def run(seconds: float, users: int, n_replicas: int, wait: tuple[float, float]) -> dict[str, Any]:
    import gevent
    from locust.env import Environment

    work = Path(tempfile.mkdtemp(prefix="gradtrace-cluster-"))
    database = _start_database(work)
    # The replicas serve the built page, as an installed package or the image does, so
    # the page's files have hashed names and nginx serves them itself.
    env = {**os.environ, "GRADTRACE_FRONTEND_DIR": str(BUILT_PAGE)}
    if database is not None:
        env["GRADTRACE_DATABASE_URL"] = database["url"]
        # The whole class comes from 127.0.0.1 here, so one address stands for every student.
        env["GRADTRACE_LESSONS_PER_MINUTE"] = "1000000"
    replicas = [Replica(i + 1, free_port(), env, work) for i in range(n_replicas)]
    nginx = Nginx([r.address for r in replicas], free_port())
    stored: dict[str, dict[str, Any]] = {}
    lessons = database is not None
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: list[dict[str, Any]] = []
    victim = replicas[len(replicas) // 2]
    events: dict[str, float] = {}
    try:
        for replica in replicas:
            replica.start()
        boot = [round(r.wait_healthy(), 2) for r in replicas]
        check = nginx.test_config()
        if check.returncode != 0:
            raise RuntimeError(check.stderr)
        nginx.start()
        nginx.wait_listening()

        environment = Environment(user_classes=build_users(wait, lessons, stored, built_page_files()), host=nginx.url)

        def on_request(request_type: str, name: str, response_time: float, response_length: int,
                       response: Any = None, context: Any = None, exception: Any = None, **kw: Any) -> None:
            latencies[name].append(response_time)
            code = getattr(response, "status_code", 0) if response is not None else 0
            statuses[name][str(code or "dropped")] += 1
            if exception is not None:
                text = str(exception)
                found = re.search(r"cl-[0-9a-f]{32}", text)
                failures.append({"name": name, "request_id": found.group(0) if found else None,
                                 "error": text[:200], "at": time.monotonic()})

        environment.events.request.add_listener(on_request)
        probe = subprocess.Popen(
            [sys.executable, "-c", PROBE, nginx.url + "/api/v1/health", str(seconds)],
            stdout=subprocess.PIPE, text=True,
        )
        runner = environment.create_local_runner()
        started = time.monotonic()
        runner.start(users, spawn_rate=min(users, 50))
        print(f"  {users} students through nginx {nginx.url} to {n_replicas} replicas for {seconds:g} s ...",
              flush=True)
        gevent.sleep(seconds / 2)
        events["killed"] = time.monotonic() - started
        victim.kill()
        print(f"  killed replica {victim.index} ({victim.address}) at {events['killed']:.1f} s", flush=True)
        gevent.sleep(min(2.0, seconds / 8))
        victim.start()
        events["restarted"] = time.monotonic() - started
        events["ready_after_restart_s"] = victim.wait_healthy()
        events["ready"] = time.monotonic() - started
        print(f"  started it again at {events['restarted']:.1f} s, ready {events['ready_after_restart_s']:.1f} s later",
              flush=True)
        gevent.sleep(max(0.0, seconds - (time.monotonic() - started)))
        runner.quit()
        elapsed = time.monotonic() - started
        probed = json.loads(probe.communicate(timeout=120)[0])
        read_back = _read_back(replicas, stored) if lessons else None
        alive = all(r.proc is not None and r.proc.poll() is None for r in replicas)
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()
        if database is not None:
            database["server"].stop()

    log = _access_log(nginx.access_log())
    nginx.cleanup()
    return _summarize(
        seconds=elapsed, users=users, n_replicas=n_replicas, wait=wait, boot=boot, events=events,
        victim=victim, latencies=latencies, statuses=statuses, failures=failures, log=log,
        probed=probed, read_back=read_back, alive=alive,
    )


def _start_database(work: Path) -> dict[str, Any] | None:
    """PostgreSQL for the lessons, when this version of the service stores lessons."""
    try:
        import gradtrace.store  # noqa: F401  (the lessons store)
    except ImportError:
        return None
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    return {"server": server, "url": server.create_database("gradtrace_cluster")}


def _summarize(**run: Any) -> dict[str, Any]:
    latencies, statuses, log, victim = run["latencies"], run["statuses"], run["log"], run["victim"]
    kinds: dict[str, Any] = {}
    for name, times in sorted(latencies.items()):
        kinds[name] = {
            "requests": len(times),
            "p50_ms": round(_quantile(times, 0.5), 1),
            "p99_ms": round(_quantile(times, 0.99), 1),
            "statuses": dict(statuses[name]),
        }
    # A failure is explained when nginx sent the request to the killed replica.
    explained, unexplained = [], []
    for failure in run["failures"]:
        entry = log.get(failure["request_id"] or "", {})
        failure["upstream"] = entry.get("upstream")
        failure["nginx_status"] = entry.get("status")
        failure.pop("at", None)
        on_victim = victim.address in (entry.get("upstream") or "")
        (explained if on_victim else unexplained).append(failure)
    retried = [e for e in log.values() if e.get("request_id", "").startswith("cl-") and "," in e.get("upstream", "")]
    retried_ok = [e for e in retried if e.get("status", 0) < 500]
    all_times = [t for ts in latencies.values() for t in ts]
    total = len(all_times)
    probed = run["probed"]
    health = probe_summary(probed)
    health_p99 = health["p99_ms"]
    read_back = run["read_back"]
    targets = {
        "no failure but in flight on the killed replica": not unexplained,
        f"health p99 through nginx under {HEALTH_P99_TARGET_MS:g} ms": (
            health_p99 is not None and health_p99 < HEALTH_P99_TARGET_MS and probed["errors"] == 0
        ),
        "every replica alive at the end": run["alive"],
    }
    if read_back is not None:
        targets["every lesson read back through every replica"] = read_back["missing_count"] == 0
    return {
        "setup": {
            "replicas": f"{run['n_replicas']} x gradtrace serve --workers 1 on 127.0.0.1",
            "balancer": "Debian's nginx, 1 worker (deploy/nginx/nginx.conf.in)",
            "database": "PostgreSQL (Debian)" if read_back is not None else "none (no lessons in this version)",
            "client": f"locust, {run['users']} users waiting {run['wait'][0]}-{run['wait'][1]} s, "
            "a health probe every 0.25 s in a process of its own",
            "seconds": round(run["seconds"], 1),
            "replica_boot_s": run["boot"],
        },
        "kill": {
            "replica": victim.index,
            "killed_at_s": round(run["events"]["killed"], 1),
            "restarted_at_s": round(run["events"]["restarted"], 1),
            "ready_after_restart_s": round(run["events"]["ready_after_restart_s"], 1),
        },
        "total": {
            "requests": total,
            "per_second": round(total / run["seconds"], 1) if run["seconds"] else None,
            "failed": len(run["failures"]),
            "failed_in_flight_on_killed_replica": len(explained),
            "failed_otherwise": len(unexplained),
            "retried_by_nginx": len(retried),
            "retried_and_answered": len(retried_ok),
            "p50_ms": round(_quantile(all_times, 0.5), 1) if all_times else None,
            "p99_ms": round(_quantile(all_times, 0.99), 1) if all_times else None,
        },
        "failures": (explained + unexplained)[:30],
        "health_probe": health,
        "lessons_read_back": read_back,
        "targets": targets,
        "kinds": kinds,
    }


def report_lines(result: dict[str, Any]) -> list[str]:
    """The figures as plain lines (printed, and put in docs/deploy.md)."""
    lines = [f"{'request':<28} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses"]
    for name, k in result["kinds"].items():
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(k["statuses"].items()))
        lines.append(f"{name:<28} {k['requests']:>7} {k['p50_ms']:>8} {k['p99_ms']:>8}  {codes}")
    t, h, kill = result["total"], result["health_probe"], result["kill"]
    lines.append(
        f"total {t['requests']} requests ({t['per_second']}/s), p50 {t['p50_ms']} ms, p99 {t['p99_ms']} ms; "
        f"failed {t['failed']} ({t['failed_in_flight_on_killed_replica']} in flight on the killed replica, "
        f"{t['failed_otherwise']} otherwise)"
    )
    lines.append(
        f"replica {kill['replica']} killed at {kill['killed_at_s']} s, started again at {kill['restarted_at_s']} s, "
        f"ready {kill['ready_after_restart_s']} s later; nginx retried {t['retried_by_nginx']} requests on "
        f"another replica, {t['retried_and_answered']} of them answered"
    )
    lines.append(f"health through nginx (every 0.25 s): {h['answers']} answers, {h['errors']} errors, "
                 f"p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, max {h['max_ms']} ms")
    back = result["lessons_read_back"]
    if back is not None:
        lines.append(f"lessons stored: {back['lessons']}; read back from every replica: "
                     f"{back['reads'] - back['missing_count']} of {back['reads']}")
    for failure in result["failures"]:
        lines.append(f"failed: {failure['name']} {failure['request_id']} upstream {failure['upstream']} "
                     f"nginx status {failure['nginx_status']}: {failure['error'][:100]}")
    for name, ok in result["targets"].items():
        lines.append(f"target {'met' if ok else 'MISSED'}: {name}")
    return lines


def write_docs(result: dict[str, Any], command: str) -> None:
    """Replace the figures section of docs/deploy.md with this run's."""
    text = DOCS.read_text()
    if DOCS_START not in text or DOCS_END not in text:
        raise RuntimeError(f"{DOCS} has no figures section to replace")
    from bench.machine import describe

    machine = describe()
    body = "\n".join([
        DOCS_START,
        "",
        f"`{command}` at {machine['commit']} ({machine['date']}, {machine['nproc']} cores, "
        f"load average {machine['load_average'][0]} before the run):",
        "",
        *("    " + line for line in report_lines(result)),
        "",
        DOCS_END,
    ])
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END)
    DOCS.write_text(text[:start] + body + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--wait", type=float, nargs=2, default=(0.2, 1.0), metavar=("MIN", "MAX"))
    parser.add_argument("--name", default="cluster", help="results file name under bench/results/")
    parser.add_argument("--docs", action="store_true", help="write the figures into docs/deploy.md")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.users, args.replicas, tuple(args.wait))
    for line in report_lines(result):
        print("  " + line)
    command = command_line("bench.cluster", argv)
    path = write_result(args.name, command, result)
    print(f"  wrote {path}")
    if args.docs:
        write_docs(result, "make cluster")
        print(f"  wrote {DOCS.relative_to(REPO)}")
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
