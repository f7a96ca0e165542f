"""Every limit lives in one settings class, reaches the engine, and is listed in the README."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from gradtrace import Limits
from gradtrace.api.settings import ENGINE_LIMITS, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_engine_limit_has_a_setting() -> None:
    assert set(ENGINE_LIMITS) == {field.name for field in dataclasses.fields(Limits)}


def test_settings_build_the_engines_limits() -> None:
    limits = Settings(max_nodes=123, max_seconds=0.5).engine_limits()
    assert isinstance(limits, Limits)
    assert limits.max_nodes == 123 and limits.max_seconds == 0.5
    assert limits.max_expression_length == 120_000


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADTRACE_MAX_NODES", "77")
    monkeypatch.setenv("GRADTRACE_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.max_nodes == 77 and settings.max_body_bytes == 4096
    assert settings.engine_limits().max_nodes == 77


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(max_concurrent_traces=0)
    with pytest.raises(ValueError):
        Settings(max_depth=10_000)  # deeper than Python's stack allows


def test_every_setting_is_listed_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert listed == set(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        if isinstance(field.default, int | float) and not isinstance(field.default, bool):
            row = re.search(rf"^\| `{name}` \| ([^|]+) \|", text, re.M)
            assert row is not None and float(row.group(1)) == field.default, name


def test_a_setting_reaches_the_api() -> None:
    from fastapi.testclient import TestClient

    from gradtrace.api.app import create_app

    with TestClient(create_app(Settings(max_nodes=3))) as client:
        response = client.post(
            "/api/v1/trace", json={"expression": "x + x + x + x + x", "values": {"x": 1}}
        )
        assert response.status_code == 422
        assert response.json()["detail"]["limit"] == "max_nodes"


def test_a_worker_hands_the_interpreter_lock_on_often() -> None:
    """Trace threads share the lock with the event loop: a worker shortens Python's switch interval."""
    import sys

    from fastapi.testclient import TestClient

    from gradtrace.api.app import create_app

    before = sys.getswitchinterval()
    try:
        with TestClient(create_app(Settings(thread_switch_seconds=0.00025))):
            assert sys.getswitchinterval() == 0.00025
        assert Settings().thread_switch_seconds < 0.005  # shorter than Python's default
    finally:
        sys.setswitchinterval(before)
