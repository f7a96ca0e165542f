"""The project's frame: docker-compose.yml is valid for Debian's docker-compose (v1) and puts nginx before three replicas and PostgreSQL."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: make test installs it")
        pytest.skip("docker-compose is not installed")
    result = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_has_healthcheck_on_health_endpoint() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "/api/v1/health" in text
    assert "8000" in text


def _compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_three_replicas_and_nginx_in_front() -> None:
    services = _compose()["services"]
    replicas = sorted(name for name in services if name.startswith("gradtrace-"))
    assert replicas == ["gradtrace-1", "gradtrace-2", "gradtrace-3"]
    for name in replicas:
        service = services[name]
        assert "@postgres:5432/" in service["environment"]["GRADTRACE_DATABASE_URL"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "ports" not in service, "only nginx is published"
    assert services["nginx"]["ports"] == ["127.0.0.1:8000:80"]
    assert sorted(services["nginx"]["depends_on"]) == replicas
    assert "postgres" in services


def test_compose_nginx_balances_exactly_the_compose_replicas() -> None:
    from bench.nginx import COMPOSE_REPLICAS

    services = _compose()["services"]
    replicas = {name for name in services if name.startswith("gradtrace-")}
    assert {address.split(":")[0] for address in COMPOSE_REPLICAS} == replicas
    dockerfile = (ROOT / services["nginx"]["build"]["dockerfile"]).read_text()
    assert "COPY deploy/nginx/compose.conf /etc/nginx/gradtrace.conf" in dockerfile
