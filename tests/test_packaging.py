"""The project's frame: docker-compose.yml is valid for Debian's docker-compose (v1)."""

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
