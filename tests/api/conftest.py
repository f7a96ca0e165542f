"""Fixtures of the API tests: an in-process client of the default app, and app factories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """A client of an app with the default settings (lifespan run, so shut down cleanly)."""
    with TestClient(create_app(Settings())) as test_client:
        yield test_client
