"""Failing examples the fuzzers and the bad-input tables found once, kept for good.

Each case runs through the Python API and through POST /api/v1/trace, and must give a
valid trace (or, where noted, a TraceError / 4xx). A case whose fix has not landed yet
is marked xfail(strict=True), so it turns red the moment it is fixed and the mark can go.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import gradtrace
from gradtrace.api.app import create_app
from tests.fuzz.contract import check_response, check_trace, check_trace_error, decode


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def both_ways(client: TestClient, expression: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """The trace dict from the engine, after checking the API agrees; None for a refusal."""
    try:
        trace = gradtrace.trace(expression, values, limits=gradtrace.Limits())
    except gradtrace.TraceError as error:
        check_trace_error(error, expression)
        body = None
    else:
        body = trace.to_dict()
        check_trace(body, expression, values)
    response = client.post("/api/v1/trace", json={"expression": expression, "values": values})
    check_response(response, expression, values)
    assert response.status_code == (422 if body is None else 200), response.text[:300]
    return body


def bug(reason: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=reason)




REGRESSIONS = [
    # BUG-1 (fixed in dec8b2c): a non-finite number in a rank-3/4 local Jacobian crashed serialization.
    pytest.param("sum(log(x))", {"x": [[0.0]]}, id="non-finite-in-4d-jacobian"),
    pytest.param("exp(dot(A, (log(x)) @ (A)))", {"A": [0.0], "x": [[0.0]]}, id="fuzz-matmul-log-zero"),
    # BUG-8 (fixed in 20f8360): a NaN gradient on a constant came without a warning. Since
    # constants are data (their nodes say "constant": true) none is owed: the trace must hold.
    pytest.param("exp(exp((A) ** (1)))", {"A": -1.0}, id="fuzz-nan-grad-of-a-constant"),
]

# (expression, values, the gradients the contract wants)
# BUG-3 (fixed in dec8b2c): statements the output never uses sent 0 * inf = NaN into their inputs.
GRADIENT_REGRESSIONS = [
    pytest.param("t = log(z); 2*z", {"z": 0.0}, {"z": 2.0}, id="dead-log-of-zero"),
    pytest.param("t = sqrt(z); N = relu(h); A = z", {"z": -4.0, "h": [[1e-127], [-5.0], [-700.0]]}, {"z": 1.0, "h": [[0.0], [0.0], [0.0]]}, id="fuzz-dead-sqrt-of-negative"),
    pytest.param("t = z/y; y", {"z": 1.0, "y": 0.0}, {"z": 0.0, "y": 1.0}, id="dead-division-by-zero"),
]


@pytest.mark.parametrize(("expression", "values"), REGRESSIONS)
def test_regression(client: TestClient, expression: str, values: dict[str, Any]) -> None:
    body = both_ways(client, expression, values)
    assert body is not None
    assert decode(body["value"]).size == 1


@pytest.mark.parametrize(("expression", "values", "gradients"), GRADIENT_REGRESSIONS)
def test_gradient_regression(client: TestClient, expression: str, values: dict[str, Any], gradients: dict[str, Any]) -> None:
    body = both_ways(client, expression, values)
    assert body is not None
    assert {k: decode(v).tolist() for k, v in body["gradients"].items()} == gradients


# BUG-4 (fixed in dec8b2c): trailing blanks made the tokenizer's regex quadratic, holding the
# GIL for ~45 s on 20,000 characters.


@pytest.mark.timeout(60)  # a hang guard, not a speed assertion: the fixed tokenizer takes milliseconds
@pytest.mark.parametrize("blank", [" ", "\t", "\r"])
def test_trailing_blanks_up_to_the_length_limit(client: TestClient, blank: str) -> None:
    text = "x" + blank * 119_999
    body = both_ways(client, text, {"x": 1.5})
    assert body is not None and body["value"] == 1.5


# BUG-2 (fixed in 20f8360): the engine's invariants allowed no rounding in outward-branch sums.


def test_cancelling_branches_pass_the_invariants(client: TestClient) -> None:
    # 1/x and -x/x**2 cancel exactly in truth; in floats the order of the sum decides 0 or 1.
    both_ways(client, "x / x + x", {"x": 1.3612304922349008e-134})
