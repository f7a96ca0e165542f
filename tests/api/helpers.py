"""What the API tests share: posting a trace, and checking any trace they get back."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fastapi.testclient import TestClient


def post_trace(client: TestClient, expression: str, values: Any = None, **extra: Any) -> Any:
    """POST /api/v1/trace and return the response."""
    body: dict[str, Any] = {"expression": expression, **extra}
    if values is not None:
        body["values"] = values
    return client.post("/api/v1/trace", json=body)


def number(value: Any) -> float:
    """A number of the trace JSON as a float: the three strings become non-finite floats."""
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def check_trace(body: dict[str, Any]) -> None:
    """The contract's invariants, through the engine's own checker where it exists."""
    try:
        from tests.engine.invariants import assert_trace_invariants
    except ImportError:  # the engine's checker is optional here; the basics are not
        assert_trace_invariants = None
    assert body["version"] == 1
    ids = {node["id"] for node in body["nodes"]}
    assert body["output"] in ids
    for edge in body["edges"]:
        assert edge["source"] in ids and edge["target"] in ids
    output = next(node for node in body["nodes"] if node["id"] == body["output"])
    assert number(_first(output["grad"])) == 1.0
    phases = [step["phase"] for step in body["steps"]]
    assert phases == ["forward"] * len(body["nodes"]) + ["backward"] * len(body["nodes"])
    if assert_trace_invariants is not None:
        assert_trace_invariants(body)


def _first(value: Any) -> Any:
    while isinstance(value, list):
        value = value[0]
    return value


def assert_contract_error(response: Any, status: int, type_: str, start: int | None = None) -> dict[str, Any]:
    """A 4xx in the contract's form: {"detail": {type, message, span, line, column}}."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, dict), detail
    assert detail["type"] == type_, detail
    assert isinstance(detail["message"], str) and detail["message"]
    if start is not None:
        assert detail["span"] is not None and detail["span"][0] == start, detail
        assert detail["line"] >= 1 and detail["column"] >= 1
    return detail


def assert_request_error(response: Any, field: str) -> list[dict[str, Any]]:
    """A 422 in FastAPI's own form, naming `field` in the location of an issue."""
    assert response.status_code == 422, response.text
    issues = response.json()["detail"]
    assert isinstance(issues, list) and issues
    assert any(field in [str(part) for part in issue["loc"]] for issue in issues), issues
    return issues


def run_async(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own, in a thread of its own.

    asyncio.run() refuses to start in a thread whose loop is running, which is
    the case once a Playwright test has run in the same process.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
