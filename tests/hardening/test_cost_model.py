"""The cost model: every trace is priced from its shapes before any op runs, and refused by name
when it is over a budget (elements, FLOPs, gradient-check work, response bytes).

Each family of the hostile requests that starved the service is sent around its limit: just
under it is answered in full, just over it is a 422 that names the limit. The bound on bytes
is checked against the real encoded responses, for the examples, for adversarial names and
shapes, and for generated programs.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given

import gradtrace
from gradtrace import cost
from gradtrace.api.app import create_app
from gradtrace.api.encoding import dumps_trace
from gradtrace.api.settings import Settings
from gradtrace.display import as_operand, format_value
from gradtrace.examples import examples
from gradtrace.ops import product
from tests.fuzz.profiles import FUZZ
from tests.fuzz.strategies import Program, programs
from tests.hardening.support import URL

SERVER = Settings().engine_limits()
# The same limits without the budget on bytes, to measure what a trace really sends.
UNBOUNDED_BYTES = gradtrace.Limits(max_response_bytes=None, max_total_elements=None)


def encoded_size(expression: str, values: dict[str, Any], check: bool = False) -> tuple[int, int]:
    """(real bytes of the response, the cost model's bound on them)."""
    plan = gradtrace.plan(expression, values, check, UNBOUNDED_BYTES)
    return len(dumps_trace(plan.run().to_dict())), plan.cost.response_bytes


LONG = "a" * 200
ADVERSARIAL = [
    pytest.param(f"{'o' * 5000} = " + " + ".join([LONG] * 60), {LONG: 1.0}, id="long-names"),
    pytest.param(" + ".join(["max(x, y)"] * 600), {"x": 1.0, "y": 1.0}, id="600-ties"),
    pytest.param(" + ".join(["log(x - x)"] * 300), {"x": 1.0}, id="non-finite"),
    pytest.param(
        "b = " + " * ".join(["x"] * 10) + "; sum(b)",
        {"x": [[1e-300, -1.5e-310], [3.3e300, -7.1234567891234e-200]]},
        id="2x2-longest-numbers",
    ),
    pytest.param(
        "a = x * y; " + "; ".join(f"b{i} = a * a" for i in range(6)) + "; sum(b5)",
        {"x": [[-1.2345678901234567e-300]] * 8, "y": [[-2.2250738585072014e-308] * 8]},
        id="sent-jacobians",
    ),
    pytest.param("q = x; sum(x * y)", {"x": [-1e-100] * 4, "y": [-3e-308] * 4, "zz": [1, 2, 3]}, id="unused"),
]


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["id"])
def test_the_bound_on_bytes_holds_for_every_example(example: dict[str, Any]) -> None:
    for check in (False, True):
        real, bound = encoded_size(example["expression"], example["values"], check)
        assert real <= bound


@pytest.mark.parametrize(("expression", "values"), ADVERSARIAL)
def test_the_bound_on_bytes_holds_for_long_names_and_numbers(expression: str, values: dict[str, Any]) -> None:
    for check in (False, True):
        real, bound = encoded_size(expression, values, check)
        assert real <= bound


@FUZZ
@given(program=programs())
def test_the_bound_on_bytes_holds_for_generated_programs(program: Program) -> None:
    try:
        real, bound = encoded_size(program.text(), program.values_json(), check=True)
    except gradtrace.TraceError:
        return  # refused by another limit: nothing is sent
    assert real <= bound


@pytest.mark.parametrize("shape", [(), (1,), (4,), (3, 3), (4, 4), (16,), (2, 8), (17,), (5, 4), (64, 64), (7, 7, 7), (2, 3, 2, 3), (9, 9, 9, 9)])
def test_the_text_of_a_value_is_within_its_bound(shape: tuple[int, ...]) -> None:
    # The longest number text, in every element; larger tensors are cut around "…".
    worst = np.full(shape, -2.2250738585072014e-308)[()]
    assert len(format_value(worst)) <= cost._value_text(shape)
    assert len(as_operand(format_value(worst))) <= cost._value_text(shape)


def test_a_refused_trace_runs_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any) -> Any:
        raise AssertionError("an op ran for a trace the cost model refuses")

    monkeypatch.setattr(gradtrace, "run", never)
    with pytest.raises(gradtrace.LimitExceededError) as caught:
        gradtrace.trace("sum(c * r)", {"c": [[1.0]] * 1000, "r": [1.0] * 1000}, limits=SERVER)
    assert caught.value.limit == "max_response_bytes"


# -- each family around its limit, through the API -------------------------------------------


def post(client: TestClient, body: dict[str, Any]) -> tuple[int, Any, int]:
    response = client.post(URL, content=json.dumps(body), headers={"content-type": "application/json"})
    return response.status_code, response.json(), len(response.content)


def refused_by(body: Any, limit: str) -> None:
    detail = body["detail"]
    assert detail["type"] == "limit_exceeded" and detail["limit"] == limit, detail
    assert limit in detail["message"]


def jacobian_family(statements: int) -> dict[str, Any]:
    """Two 8-element inputs whose outer product a (8 x 8) makes every a * a send two local
    Jacobians of 64 x 64 = 4096 numbers (the largest sent, max_local_elements)."""
    lines = ["a = x * y"] + [f"b{i} = a * a" for i in range(statements)] + [f"sum(b{statements - 1})"]
    return {"expression": "; ".join(lines), "values": {"x": [[0.1 * i] for i in range(8)], "y": [[0.3] * 8]}}


def first_refused(make: Any, limits: gradtrace.Limits, start: int = 1) -> int:
    """The smallest size the cost model refuses (the plan alone: nothing is computed)."""
    n = start
    while True:
        body = make(n)
        try:
            gradtrace.plan(body["expression"], body["values"], body.get("check", False), limits)
        except gradtrace.LimitExceededError:
            return n
        n += 1


def test_local_jacobians_count_in_the_response_bytes() -> None:
    budget = 2 * 1024 * 1024
    client = TestClient(create_app(Settings(max_response_bytes=budget)))
    over = first_refused(jacobian_family, Settings(max_response_bytes=budget).engine_limits())
    assert over > 1
    status, body, size = post(client, jacobian_family(over - 1))
    assert status == 200, body
    assert size <= budget
    assert body["edges"][2]["local"] is not None and len(body["edges"][2]["local_shape"]) == 4
    status, body, _ = post(client, jacobian_family(over))
    assert status == 422
    refused_by(body, "max_response_bytes")


def test_local_jacobians_count_in_the_total_elements() -> None:
    plan = gradtrace.plan(**_plan_args(jacobian_family(3)), limits=UNBOUNDED_BYTES)
    # Each b = a * a sends two Jacobians of 4096 numbers.
    assert plan.cost.local_elements >= 3 * 2 * 4096
    limits = gradtrace.Limits(max_total_elements=plan.cost.elements - 1)
    with pytest.raises(gradtrace.LimitExceededError) as caught:
        gradtrace.plan(**_plan_args(jacobian_family(3)), limits=limits)
    assert caught.value.limit == "max_total_elements"


def _plan_args(body: dict[str, Any]) -> dict[str, Any]:
    return {"expression": body["expression"], "values": body["values"]}


def matmul_family(n: int, k: int, m: int, check: bool = False) -> dict[str, Any]:
    return {
        "expression": "sum(A @ B)",
        "values": {"A": [[1.0 + (i + j) % 3 for j in range(k)] for i in range(n)], "B": [[0.5] * m for _ in range(k)]},
        "check": check,
    }


def test_a_matmul_counts_2nkm_flops_forward_and_twice_that_backward() -> None:
    n, k, m = 20, 30, 10
    # A @ B: 2nkm forward, twice that backward; its Jacobians (200 x 600, 200 x 300) are not
    # sent. sum: one per element of its argument, three times; its Jacobian (200) is sent,
    # and building it writes 200 numbers.
    expected = 3 * 2 * n * k * m + 3 * n * m + n * m
    body = matmul_family(n, k, m)
    assert gradtrace.plan(**_plan_args(body), limits=SERVER).cost.flops == expected
    status, answer, _ = post(TestClient(create_app(Settings(max_flops=expected))), body)
    assert status == 200, answer
    assert answer["value"] == pytest.approx(float(np.sum(np.asarray(body["values"]["A"]) @ np.asarray(body["values"]["B"]))))
    status, answer, _ = post(TestClient(create_app(Settings(max_flops=expected - 1))), body)
    assert status == 422
    refused_by(answer, "max_flops")


def test_the_gradient_check_counts_the_flops_of_each_pass() -> None:
    # 800 inputs, and each pass is 16,400 FLOPs but only 1,201 numbers: counted by numbers,
    # the check would fit the default budget of 2,000,000; counted by FLOPs it does not.
    body = matmul_family(20, 20, 20, check=True)
    plan = gradtrace.plan(**_plan_args(body), check=False, limits=SERVER)
    numbers = sum(math.prod(s) for s in plan.graph.shape)
    assert 2 * 800 * numbers <= SERVER.max_check_evaluations  # type: ignore[operator]
    status, answer, _ = post(TestClient(create_app()), body)
    assert status == 422
    refused_by(answer, "max_check_evaluations")
    status, answer, _ = post(TestClient(create_app()), matmul_family(4, 4, 4, check=True))
    assert status == 200 and all(entry["ok"] for entry in answer["check"].values()), answer["check"]


def test_the_check_is_priced_for_the_inputs_it_checks() -> None:
    # A target of 10,000 numbers given as data (a constant) is not checked: pricing its
    # elements as checked ones would refuse a check of one number.
    values = {"t": [0.5] * 10_000, "w": 2.0}
    result = gradtrace.trace("sum(t * w)", values, check=True, limits=SERVER, constants=["t"])
    assert list(result.check or {}) == ["w"]
    with pytest.raises(gradtrace.LimitExceededError) as caught:
        gradtrace.trace("sum(t * w)", values, check=True, limits=SERVER)
    assert caught.value.limit == "max_check_evaluations"


def test_the_refusal_comes_before_the_clock() -> None:
    # The 107 MB family of the report, at its size (5 KB over two 8-element inputs): refused
    # up front, never cut off by max_seconds.
    body = jacobian_family(1)
    body["expression"] = "a = x * y; sum(" + " + ".join(["a * a"] * 600) + ")"
    status, body, _ = post(TestClient(create_app()), body)
    assert status == 422
    assert body["detail"]["limit"] in ("max_response_bytes", "max_total_elements")


# -- subnormal numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a_shape", "b_shape"), [((7, 5), (5, 3)), ((7, 5), (5,)), ((5,), (5, 3)), ((5,), (5,))]
)
@pytest.mark.parametrize("scale", [1.0, 1e-155, 1e-310])
def test_products_are_matmul_whatever_the_scale(a_shape: tuple[int, ...], b_shape: tuple[int, ...], scale: float) -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal(a_shape) * scale
    # 1e-155 on both sides: every product is subnormal; 1e-310 on one: the operand is.
    b = rng.standard_normal(b_shape) * (scale if scale == 1e-155 else 1.0)
    np.testing.assert_allclose(product(a, b), np.matmul(a, b), rtol=1e-12, atol=1e-320)
