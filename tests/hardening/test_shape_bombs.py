"""Shape and size bombs: tiny inputs whose intermediates would be huge are refused, by name
and at their place, before the memory is spent; big but allowed work is answered.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.hardening.support import EITHER, Case, client, ids, run_case

__all__ = ["client"]

FAMILY = "bad: shape and size bombs"


def col(n: int) -> list[list[float]]:
    return [[1.0]] * n


def row(n: int) -> list[float]:
    return [1.0] * n


BOMBS = [
    # Broadcasts and outer products: 2,000 + 2,000 inputs, 4,000,000 elements.
    Case("sum(c * r)", {"c": col(2_000), "r": row(2_000)}, at=(4, 6), type="limit_exceeded", says=("max_tensor_elements",), note="outer product by *"),
    Case("sum(c + r)", {"c": col(2_000), "r": row(2_000)}, at=(4, 6), type="limit_exceeded", note="outer sum by +"),
    Case("sum(max(c, r))", {"c": col(2_000), "r": row(2_000)}, type="limit_exceeded", note="outer max"),
    Case("sum(c ** r)", {"c": col(2_000), "r": row(2_000)}, type="limit_exceeded", note="outer power"),
    Case("sum(c @ c.T)", {"c": col(1_500)}, at=(4, 6), type="limit_exceeded", note="outer product by @"),
    Case("sum(exp(c * r))", {"c": col(2_000), "r": row(2_000)}, type="limit_exceeded", note="bomb inside a call"),
    Case("a = c * r; 1", {"c": col(2_000), "r": row(2_000)}, type="limit_exceeded", note="unused bomb"),
    Case("sum(softmax(c * r))", {"c": col(1_001), "r": row(1_000)}, type="limit_exceeded", note="just past 1e6"),
    # Many allowed intermediates whose total passes max_total_elements.
    Case(
        "a = c * r; " + "; ".join(f"a{i} = a + {i}" for i in range(12)) + "; sum(a11)",
        {"c": col(1_000), "r": row(900)},
        type="limit_exceeded",
        says=("max_total_elements",),
        note="total elements",
    ),
    # Big inputs: over max_input_elements, or over the body limit.
    Case("sum(x)", {"x": row(100_001)}, status=EITHER, note="100001 inputs"),
    # Allowed, and heavy: the trace must come back with its large Jacobians left out.
    Case("sum(exp(x))", {"x": [0.001 * i for i in range(50_000)]}, status=200, note="Jacobian 50000^2 left out"),
    Case("sum(softmax(x))", {"x": [0.01 * i for i in range(5_000)]}, status=200, value=1.0, note="softmax Jacobian 5000^2"),
    Case("sum(W @ x)", {"W": [[0.5] * 300] * 300, "x": row(300)}, status=200, value=45_000.0, note="matmul Jacobian 300^4"),
    Case("sum(c * r)", {"c": col(300), "r": row(300)}, status=200, value=90_000.0, note="outer product 300x300"),
    # Its response would be 6 MB of "1.0"s, but up to 31 MB of 25-byte numbers: the cost model may refuse it.
    Case("sum(c @ c.T)", {"c": col(500)}, status=EITHER, value=250_000.0, type="limit_exceeded", note="500x500 outer product by @"),
    Case(" + ".join(["x"] * 2_000), {"x": 1.0}, status=EITHER, value=2_000.0, note="2000-term chain"),
    Case("+".join(["1"] * 3_000), status=EITHER, value=3_000.0, note="3000 constants"),
    Case("; ".join(f"a{i} = x" for i in range(5_100)) + "; x", {"x": 1.0}, type="limit_exceeded", says=("max_statements",), note="5100 statements"),
    # Power towers and repeated squaring: huge numbers from small text, not huge work.
    Case("x" + " ** 2" * 60, {"x": 1.0001}, status=200, note="2^60-th power"),
    Case("2 ** 2 ** 2 ** 2 ** 2 ** 2", status=200, note="tower of twos"),
]


@pytest.mark.parametrize("case", BOMBS, ids=ids(BOMBS))
def test_shape_and_size_bombs(client: TestClient, case: Case) -> None:
    body = run_case(client, FAMILY, case)
    if "edges" in body:
        for edge in body["edges"]:
            size = 1
            for d in edge["local_shape"]:
                size *= d
            # A Jacobian too large to send is null; one that is sent is of a sendable size.
            if size > 1_000_000:
                assert edge["local"] is None, edge["id"]
