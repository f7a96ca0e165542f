"""The nginx in front of the replicas (deploy/nginx/), run for real on loopback ports.

Each test starts Debian's nginx with the project's template rendered for the
replicas it needs: a real one, one that is down (a port nothing listens on) and
one that reads a request and drops the connection without answering.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from bench.cluster import Replica, built_page_files
from bench.load import free_port
from bench.nginx import COMPOSE_CONF, Nginx, compose_config

from gradtrace.api.middleware import CONTENT_SECURITY_POLICY
from tests.deploy.conftest import Dropper

pytestmark = pytest.mark.usefixtures("nginx_installed")

LECTURE = {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}}


@contextmanager
def balancer(*replicas: str) -> Iterator[Nginx]:
    nginx = Nginx(list(replicas), free_port())
    checked = nginx.test_config()
    assert checked.returncode == 0, checked.stderr
    try:
        with nginx:
            nginx.wait_listening()
            yield nginx
    finally:
        nginx.cleanup()


def fetch(url: str, *, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def dead_address() -> str:
    """A loopback port nothing listens on: a replica that is down."""
    return f"127.0.0.1:{free_port()}"


def test_the_compose_config_is_the_template_rendered() -> None:
    assert COMPOSE_CONF.read_text() == compose_config(), "run: python -m bench.nginx"
    text = compose_config()
    for replica in ("gradtrace-1:8000", "gradtrace-2:8000", "gradtrace-3:8000"):
        assert f"server {replica} max_fails=1 fail_timeout=5s;" in text


def test_a_request_that_never_reached_a_replica_is_retried_whatever_its_method(replica: Replica) -> None:
    dead = dead_address()
    with balancer(dead, replica.address) as nginx:
        answers = [fetch(nginx.url + "/api/v1/examples", body={}) for _ in range(3)]
        traces = [fetch(nginx.url + "/api/v1/trace", body=LECTURE) for _ in range(3)]
        log = [json.loads(line) for line in nginx.access_log().read_text().splitlines()]
    # nginx tried the dead replica first, then the live one, for one of the requests.
    assert any(entry["upstream"] == f"{dead}, {replica.address}" for entry in log), log
    # The POST to /api/v1/examples is not safe to repeat, yet it was never sent: the
    # replica behind the dead one answers it (405, a real answer), never nginx's 502.
    assert [status for status, _, _ in answers] == [405] * 3
    assert [status for status, _, _ in traces] == [200] * 3


def test_a_trace_that_reached_a_dropping_replica_is_retried(replica: Replica, dropper: Dropper) -> None:
    with balancer(dropper.address, replica.address) as nginx:
        traces = [fetch(nginx.url + "/api/v1/trace", body=LECTURE) for _ in range(2)]
        health = [fetch(nginx.url + "/api/v1/health") for _ in range(2)]
    assert [status for status, _, _ in traces + health] == [200] * 4
    assert all(json.loads(body)["value"] == 6.0 for _, _, body in traces)
    assert dropper.requests, "nginx never sent the dropping replica a request"


def test_a_request_not_safe_to_repeat_is_not_retried_once_a_replica_had_it(
    replica: Replica, dropper: Dropper
) -> None:
    with balancer(dropper.address, replica.address) as nginx:
        answers = [fetch(nginx.url + "/api/v1/examples", body={}, headers={"X-Request-ID": f"nr-{i}"}) for i in range(2)]
    statuses = sorted(status for status, _, _ in answers)
    # Round robin sends one of the two to the dropper, which had it: a 502 in the
    # contract's form with the request's id; the other reaches the real replica.
    assert statuses == [405, 502]
    assert [r for r in dropper.requests if r.startswith(b"POST /api/v1/examples")]
    status, headers, body = next(a for a in answers if a[0] == 502)
    error = json.loads(body)
    assert error["detail"]["type"] == "unavailable" and error["request_id"].startswith("nr-")
    assert headers["content-type"].startswith("application/json")


def test_the_page_and_its_libraries_come_from_nginx_itself_with_their_caching() -> None:
    with balancer(dead_address()) as nginx:
        status, headers, body = fetch(nginx.url + "/static/js/main.js")
        assert status == 200 and body
        assert headers["cache-control"] == "no-cache"
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert "etag" in headers
        status, headers, _ = fetch(nginx.url + "/vendor/katex/katex.min.js")
        assert status == 200 and headers["cache-control"] == "max-age=86400"
        status, headers, body = fetch(nginx.url + "/api/v1/health", headers={"X-Request-ID": "down-1"})
    # No replica is up: the API gets nginx's own 502 in the contract's form.
    assert status == 502
    assert json.loads(body)["request_id"] == "down-1"


def test_the_built_pages_hashed_files_come_from_nginx_kept_for_a_year(replica: Replica) -> None:
    files = built_page_files()
    with balancer(replica.address) as nginx:
        status, _, page = fetch(nginx.url + "/")
    assert status == 200
    linked = re.findall(r'(?:href|src)="(/static/assets/[^"]+)"', page.decode())
    assert linked and set(linked) <= set(files), (linked, files)
    # With no replica up, nginx still serves each of them from disk, with a name
    # that changes whenever the content does: cached for a year, never revalidated.
    with balancer(dead_address()) as nginx:
        for path in files:
            status, headers, body = fetch(nginx.url + path)
            assert status == 200 and body, path
            assert headers["cache-control"] == "public, max-age=31536000, immutable", path
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_json_is_gzipped_and_the_request_id_reaches_the_replica(replica: Replica) -> None:
    with balancer(replica.address) as nginx:
        status, headers, body = fetch(
            nginx.url + "/api/v1/ops", headers={"Accept-Encoding": "gzip", "X-Request-ID": "gz-1"}
        )
        assert status == 200 and headers.get("content-encoding") == "gzip"
        assert isinstance(json.loads(gzip.decompress(body)), list)
        status, headers, body = fetch(nginx.url + "/api/v1/trace", body={"expression": "x +", "values": {}},
                                      headers={"X-Request-ID": "gz-2"})
    assert status == 422
    assert headers["x-request-id"] == "gz-2" and json.loads(body)["request_id"] == "gz-2"


def test_the_page_stays_up_from_the_cache_while_no_replica_answers(tmp_path: Any) -> None:
    lone = Replica(9, free_port(), dict(os.environ), tmp_path)
    lone.start()
    try:
        lone.wait_healthy()
        with balancer(lone.address) as nginx:
            status, _, page = fetch(nginx.url + "/")
            assert status == 200
            lone.kill()
            assert fetch(nginx.url + "/api/v1/health")[0] == 502
            status, _, again = fetch(nginx.url + "/")
    finally:
        lone.stop()
    assert status == 200 and again == page
