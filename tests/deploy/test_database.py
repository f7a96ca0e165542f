"""Readiness follows the lessons' PostgreSQL, liveness does not, and the pool shows in the metrics."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings
from tests.postgres import PostgresServer, find_bin_dir


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, since the test stops and starts it."""
    if find_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: make test installs it")
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql)")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop(remove=True)


def _pool(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "gradtrace_db_pool_connections"
    }


def test_not_ready_while_the_database_is_down_and_ready_again_when_it_is_back(
    own_postgres: PostgresServer,
) -> None:
    url = own_postgres.create_database("readiness")
    with TestClient(create_app(Settings(database_url=url))) as client:
        ready = client.get("/api/v1/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
        pool = _pool(client)
        assert pool["size"] >= 1 and pool["idle"] >= 1 and pool["checked_out"] == 0

        own_postgres.stop(remove=False)
        down = client.get("/api/v1/ready")
        assert down.status_code == 503
        detail = down.json()["detail"]
        assert detail["type"] == "not_ready" and detail["check"] == "database"
        assert down.headers["retry-after"] == "1"
        # Liveness does not follow the database: the replica is not restarted for it.
        assert client.get("/api/v1/health").status_code == 200
        # Traces do not need the database either.
        assert client.post("/api/v1/trace", json={"expression": "x * x", "values": {"x": 3}}).status_code == 200

        own_postgres.start()
        assert client.get("/api/v1/ready").status_code == 200


def test_sqlite_has_no_pool_to_report(tmp_path: object) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:  # type: ignore[arg-type]
        assert client.get("/api/v1/ready").json()["checks"] == {"database": "ok"}
        assert _pool(client) == {}
