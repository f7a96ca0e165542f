"""Work bombs: small requests within every limit whose answer would cost seconds or megabytes.

The server's time limit is lowered to half a second here, so that what would otherwise take
the default five seconds is seen quickly: every such request must be refused up front by a
named limit (or answered within the limit), never cut off by the safety-net 503.
(BUG-9 and BUG-10, fixed in 5b9ae57: both were cut off by the clock after seconds of CPU.)
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings
from tests.hardening.support import send

FAMILY = "bad: work bombs"


@pytest.fixture(scope="module")
def quick_client() -> TestClient:
    return TestClient(create_app(Settings(max_seconds=0.5, timeout_grace_seconds=0.5)))


def col(n: int) -> list[list[float]]:
    return [[1.0]] * n


WORK_BOMBS = [
    pytest.param(
        "a = c * r; " + "; ".join(f"a{i} = a * {i}" for i in range(6)) + "; sum(a5)",
        {"c": col(1_000), "r": [1.0] * 1_000},
        False,
        id="seven-million-element-trace",
    ),
    pytest.param(
        "sum(exp(x))",
        {"x": [0.5] * 100_000},
        True,
        id="gradient-check-of-100000-inputs",
    ),
]


@pytest.mark.parametrize(("expression", "values", "check"), WORK_BOMBS)
def test_work_bombs_are_refused_by_a_named_limit(quick_client: TestClient, expression: str, values: dict[str, Any], check: bool) -> None:
    status, body = send(quick_client, FAMILY, {"expression": expression, "values": values, "check": check}, expression)
    assert status in (200, 422), body
    if status == 422:
        assert body["detail"]["type"] == "limit_exceeded"
        assert body["detail"]["limit"] != "max_seconds", "cut off by the clock, not refused by its cost"
