"""Shared pieces of the bad-input tables: a case, how to send it, and what an answer must be.

Each table row says what the answer must be: a status (or EITHER, when both a right
trace and a clear refusal are acceptable), and for a 422 optionally the error type,
where it points (span start) and words its message must contain. Every answer also
goes through the contract checks, and its time is tallied for the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fuzz import tally
from tests.fuzz.contract import check_response

URL = "/api/v1/trace"
EITHER = "200 or 422"


@dataclass(frozen=True)
class Case:
    expression: str
    values: dict[str, Any] = field(default_factory=dict)
    status: int | str = 422
    at: int | tuple[int, ...] | None = None
    type: str | None = None
    says: tuple[str, ...] = ()
    value: float | None = None
    note: str = ""
    # Bad values may be refused by request validation, in FastAPI's own 422 form.
    request_form_ok: bool = False

    def id(self) -> str:
        text = self.note or self.expression
        text = text if len(text) <= 40 else text[:37] + "..."
        return text.encode("unicode_escape").decode("ascii")


def ids(cases: list[Case]) -> list[str]:
    return [c.id() for c in cases]


@pytest.fixture(scope="module")
def client() -> TestClient:
    from gradtrace.api.app import create_app

    return TestClient(create_app())


def send(client: TestClient, family: str, body: Any, expression: str | None) -> tuple[int, Any]:
    """POST a body (a dict, or raw bytes as is); check the answer's form; tally it."""
    content = body if isinstance(body, bytes) else json.dumps(body)
    with tally.timed(family):
        response = client.post(URL, content=content, headers={"content-type": "application/json"})
    tally.count(family, str(response.status_code))
    values = body.get("values") if isinstance(body, dict) and isinstance(body.get("values"), dict) else None
    return response.status_code, check_response(response, expression, values)


def run_case(client: TestClient, family: str, case: Case) -> Any:
    """Send one table row and hold its answer to the row."""
    status, body = send(client, family, {"expression": case.expression, "values": case.values}, case.expression)
    if case.status == EITHER:
        assert status in (200, 422), (status, body)
    else:
        assert status == case.status, (status, body)
    if status == 422 and isinstance(body["detail"], list) and (case.request_form_ok or case.type == "invalid_value"):
        return body
    if status == 422:
        detail = body["detail"]
        assert isinstance(detail, dict), f"expected the trace error form, got FastAPI's: {detail}"
        if case.type is not None:
            assert detail["type"] == case.type, detail
        if case.at is not None:
            allowed = case.at if isinstance(case.at, tuple) else (case.at,)
            assert detail["span"] is not None and detail["span"][0] in allowed, detail
        for word in case.says:
            assert word.lower() in detail["message"].lower(), (word, detail["message"])
    if status == 200 and case.value is not None:
        from tests.fuzz.contract import decode

        got = float(decode(body["value"]).reshape(-1)[0])
        assert got == pytest.approx(case.value, rel=1e-12, nan_ok=True) or got == case.value, (got, case.value)
    return body
