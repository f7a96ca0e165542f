"""Fuzz POST /api/v1/trace: every body gets a 200 with a valid trace or a 4xx that says why.

The in-process client re-raises anything the server lets escape, so a 500 shows up here
as the exception that caused it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, note
from hypothesis import strategies as st

from gradtrace.api.app import create_app
from tests.fuzz import tally
from tests.fuzz.contract import check_response, decode
from tests.fuzz.known_bugs import reports_known_bugs, run_tolerating
from tests.fuzz.profiles import FUZZ, FUZZ_SLOW
from tests.fuzz.strategies import (
    Program,
    deep_programs,
    json_values,
    mutated_programs,
    programs,
    random_text,
    token_soups,
    values_for,
)

URL = "/api/v1/trace"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def post(client: TestClient, family: str, body: Any, expression: str | None) -> Any:
    return run_tolerating(lambda: _post(client, family, body, expression))


def _post(client: TestClient, family: str, body: Any, expression: str | None) -> Any:
    note(f"body={body!r}")
    with tally.timed(family):
        response = client.post(URL, content=json.dumps(body), headers={"content-type": "application/json"})
    tally.count(family, str(response.status_code))
    values = body.get("values") if isinstance(body, dict) and isinstance(body.get("values"), dict) else None
    return response, check_response(response, expression, values)


@reports_known_bugs
@FUZZ
@given(program=programs(max_depth=3), check=st.booleans())
def test_valid_programs_get_200_and_the_numpy_value(client: TestClient, program: Program, check: bool) -> None:
    def attempt(p: Program) -> None:
        text = p.text()
        response, body = _post(client, "api: grammar programs", {"expression": text, "values": p.values_json(), "check": check}, text)
        assert response.status_code == 200, (text, body)
        expected, all_finite = p.reference()
        if all_finite:
            np.testing.assert_allclose(decode(body["value"]).reshape(-1), expected.reshape(-1), rtol=1e-7, atol=1e-9)

    live = program.live()
    pruned = (lambda: attempt(live)) if len(live.statements) < len(program.statements) else None
    run_tolerating(lambda: attempt(program), pruned)


@reports_known_bugs
@FUZZ
@given(text=st.one_of(random_text, token_soups()), data=st.data())
def test_random_expressions_get_200_or_4xx(client: TestClient, text: str, data: st.DataObject) -> None:
    values = data.draw(values_for(text))
    post(client, "api: random text and soups", {"expression": text, "values": values}, text)


@reports_known_bugs
@FUZZ
@given(case=mutated_programs())
def test_programs_one_typo_away_get_200_or_4xx(client: TestClient, case: tuple[str, dict[str, Any]]) -> None:
    text, values = case
    post(client, "api: mutated programs", {"expression": text, "values": values}, text)


@reports_known_bugs
@FUZZ
@given(
    expression=st.one_of(st.just("x + y"), st.just("sum(x)"), random_text, json_values),
    values=st.one_of(json_values, st.dictionaries(st.sampled_from(["x", "y", "__proto__", "constructor"]), json_values, max_size=3)),
    check=st.one_of(st.booleans(), json_values),
    extra=st.dictionaries(st.text(max_size=6), json_values, max_size=2),
)
def test_random_bodies_get_200_or_4xx(client: TestClient, expression: Any, values: Any, check: Any, extra: dict[str, Any]) -> None:
    body = {**extra, "expression": expression, "values": values, "check": check}
    post(client, "api: random JSON bodies", body, expression if isinstance(expression, str) else None)


@reports_known_bugs
@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_raw_bytes_get_4xx(client: TestClient, raw: bytes) -> None:
    with tally.timed("api: raw bytes"):
        response = client.post(URL, content=raw, headers={"content-type": "application/json"})
    tally.count("api: raw bytes", str(response.status_code))
    assert 400 <= response.status_code < 500, (raw, response.status_code, response.text[:300])


@reports_known_bugs
@FUZZ_SLOW
@given(case=deep_programs(max_depth=400))
def test_deep_nesting_gets_200_or_a_limit_error(client: TestClient, case: tuple[str, int]) -> None:
    text, _ = case
    response, body = post(client, "api: deep nesting", {"expression": text, "values": {"x": 0.5}}, text)
    if response.status_code != 200:
        assert response.status_code == 422 and body["detail"]["type"] == "limit_exceeded", body
