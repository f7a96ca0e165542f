"""A new op is one registry entry: registered here at test time, traced through the API.

No other file knows the op: the parser, the engine, the warnings, the step
texts, GET /api/v1/ops and the page's embedded data all read the registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.settings import Settings
from gradtrace.ops import Op, elementwise_jacobian, register, same_shape, unregister
from tests.api.helpers import check_trace, post_trace


def _local(out: Any, a: Any) -> Any:
    # hinge(x) = max(1 - x, 0): slope -1 below 1, and 0 from 1 on (the kink's side taken).
    return np.where(np.less(a, 1.0), -1.0, 0.0)


def _kink(a: Any) -> tuple[str, str] | None:
    at_one = a == 1.0 if type(a) is float else bool(np.any(np.equal(a, 1.0)))
    return ("kink", "hinge at 1: its local gradient is taken as 0") if at_one else None


HINGE = Op(
    name="hinge", label="hinge", syntax="hinge(x)", template="hinge({0})", arity=1,
    forward=lambda a: np.maximum(1.0 - np.asarray(a), 0.0)[()],
    vjp=lambda g, out, a: (g * _local(out, a),),
    jacobian=lambda out, a: (elementwise_jacobian(_local(out, a), np.shape(a), np.shape(out)),),
    shape=same_shape,
    forward_latex=r"\max(1 - x, 0)", local_latex=(r"-\mathbf{1}(x < 1)",),
    intuition="hinge gates: below 1 the gradient passes with its sign flipped, from 1 on none",
    short_intuition="hinge gates",
    elementwise=True,
    scalar=lambda a: (max(1.0 - a, 0.0), -1.0 if a < 1.0 else 0.0),
    domain=("real",), kink=_kink, convention="hinge'(1) = 0", is_function=True,
    latex=r"\operatorname{hinge}(#1)",
)


@pytest.fixture
def client() -> Iterator[TestClient]:
    register(HINGE)
    try:
        with TestClient(create_app(Settings())) as test_client:
            yield test_client
    finally:
        unregister("hinge")


def test_the_new_op_is_listed(client: TestClient) -> None:
    listed = {op["name"]: op for op in client.get("/api/v1/ops").json()}
    assert listed["hinge"]["latex"] == r"\operatorname{hinge}(#1)"
    assert listed["hinge"]["has_kink"] is True
    assert listed["hinge"]["convention"] == "hinge'(1) = 0"
    page = client.get("/").text
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert "hinge" in {op["name"] for op in data["ops"]}


def test_the_new_op_traces_with_its_kink_on_scalars(client: TestClient) -> None:
    response = post_trace(client, "a = hinge(x)\na * 3", {"x": 1})
    assert response.status_code == 200
    body = response.json()
    check_trace(body)
    assert body["gradients"]["x"] == 0.0
    hinge_node = next(n for n in body["nodes"] if n["op"] == "hinge")
    assert [w["kind"] for w in body["warnings"] if w["node"] == hinge_node["id"]] == ["kink"]
    texts = [step["text"] for step in body["steps"]]
    assert "a = hinge(x) = hinge(1) = 0" in texts
    assert any(text.endswith("(hinge gates)") for text in texts)


def test_the_new_op_traces_on_tensors_with_the_numeric_check(client: TestClient) -> None:
    response = post_trace(client, "sum(hinge(v) * v)", {"v": [0.5, 2.0, -1.0]}, check=True)
    assert response.status_code == 200
    body = response.json()
    check_trace(body)
    # d/dv sum((1 - v) v) below 1 is 1 - 2v; above 1 it is 0.
    assert body["gradients"]["v"] == [0.0, 0.0, 3.0]
    assert all(entry["ok"] for entry in body["check"].values())
    assert not [w for w in body["warnings"] if w["kind"] == "kink"]


def test_without_the_entry_the_name_is_unknown() -> None:
    with TestClient(create_app(Settings())) as plain:
        response = post_trace(plain, "hinge(x)", {"x": 1})
    assert response.status_code == 422
    assert response.json()["detail"]["type"] == "unknown_function"
