"""Every numeric edge case of every op: a 200 with the truth in it, non-finite included.

Values and gradients are compared with references that share no code with the engine:
exact rational arithmetic for + - * / (so a gradient that is finite in truth must not
come back infinite from an overflowing intermediate), and numpy formulas with the
contract's conventions at kinks and ties for the rest. Where the reference itself is
NaN the contract leaves the gradient open, and only the trace's form is checked.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import gradtrace
from tests.fuzz import tally
from tests.fuzz.contract import check_trace, decode
from tests.hardening.support import client, send

__all__ = ["client"]

FAMILY = "bad: numerics of every op"

UNARY_INPUTS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 5e-324, 1e-300, -1e-300, 1e300, -1e300, 30.0, -30.0, 710.0, -710.0, 1e308, -1e308]
BINARY_INPUTS = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 1e-300, 1e300, 1e308]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _safe(f: Any, *args: float) -> float:
    with np.errstate(all="ignore"):
        try:
            return float(f(*args))
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.nan


# (value, local derivative) of each elementwise op, with the contract's conventions:
# relu'(0) = 0, abs'(0) = 0, sqrt'(0) = +inf.
UNARY_REFERENCE: dict[str, tuple[Any, Any]] = {
    "exp": (np.exp, np.exp),
    "log": (np.log, lambda x: np.float64(1.0) / x),
    "sqrt": (np.sqrt, lambda x: math.inf if x == 0 else 0.5 / np.sqrt(np.float64(x))),
    "abs": (np.abs, np.sign),
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda x: -np.sin(x)),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x)),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
}


def _engine(expression: str, values: dict[str, Any]) -> dict[str, Any]:
    tally.count(FAMILY)
    with tally.timed(FAMILY):
        result = gradtrace.trace(expression, values)
    body = result.to_dict()
    check_trace(body, expression, values)
    return body


def _same(got: float, want: float, where: str) -> None:
    if math.isnan(want):
        return  # the contract leaves it open
    if math.isinf(want):
        assert got == want, f"{where}: got {got}, want {want}"
        return
    assert math.isfinite(got), f"{where}: got {got}, want the finite {want}"
    assert got == pytest.approx(want, rel=1e-9, abs=1e-290), f"{where}: got {got}, want {want}"


@pytest.mark.parametrize("op", sorted(UNARY_REFERENCE))
def test_elementwise_ops_at_their_edges(op: str) -> None:
    forward, derivative = UNARY_REFERENCE[op]
    failures = []
    for x in UNARY_INPUTS:
        expression = f"{op}(x)"
        body = _engine(expression, {"x": x})
        value = float(decode(body["value"]))
        grad = float(decode(body["gradients"]["x"]))
        want_value, want_grad = _safe(forward, x), _safe(derivative, x)
        try:
            if math.isnan(want_value):
                assert math.isnan(value), f"{op}({x!r}) = {value}, want NaN"
            else:
                _same(value, want_value, f"{op}({x!r})")
                _same(grad, want_grad, f"d {op}(x)/dx at {x!r}")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("op", sorted(UNARY_REFERENCE))
@pytest.mark.parametrize(
    ("expression", "x"),
    [("{op}(exp(x))", 1000.0), ("{op}(-exp(x))", 1000.0), ("{op}(exp(x) - exp(x))", 1000.0), ("{op}(x) * 0", 1e308)],
    ids=["of-inf", "of-minus-inf", "of-nan", "times-zero"],
)
def test_elementwise_ops_of_non_finite_values_are_reported_not_raised(op: str, expression: str, x: float) -> None:
    body = _engine(expression.format(op=op), {"x": x})
    assert body["warnings"] or all(
        np.all(np.isfinite(decode(n["value"]))) and np.all(np.isfinite(decode(n["grad"]))) for n in body["nodes"]
    )


def _exact(x: float, y: float, op: str) -> tuple[float, float, float]:
    """Value and both gradients of x op y, computed exactly and rounded once."""

    def rnd(q: Fraction) -> float:
        try:
            return float(q)
        except OverflowError:
            return math.inf if q > 0 else -math.inf

    a, b = Fraction(x), Fraction(y)
    if op == "+":
        return rnd(a + b), 1.0, 1.0
    if op == "-":
        return rnd(a - b), 1.0, -1.0
    if op == "*":
        return rnd(a * b), y, x
    if b == 0:  # x / 0: IEEE's answer, and the contract's row (x 1, y 0: +inf, +inf, -inf)
        with np.errstate(all="ignore"):
            fx, fy = np.float64(x), np.float64(y)
            return float(fx / fy), float(1 / fy), float(-fx / (fy * fy))
    return rnd(a / b), rnd(1 / b), rnd(-a / (b * b))


def _power(x: float, y: float) -> tuple[float, float, float]:
    with np.errstate(all="ignore"):
        fx, fy = np.float64(x), np.float64(y)
        value = float(fx**fy)
        dx = 0.0 if y == 0 else float(fy * fx ** (fy - 1))
        dy = 0.0 if x == 0 and y >= 0 else float(fx**fy * np.log(fx))
    return value, dx, dy


def _extremum(x: float, y: float, op: str) -> tuple[float, float, float]:
    if x == y:
        return x, 0.5, 0.5  # ties split evenly
    first = x > y if op == "max" else x < y
    return (x, 1.0, 0.0) if first else (y, 0.0, 1.0)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "max", "min"])
def test_binary_ops_at_their_edges(op: str) -> None:
    failures = []
    for x, y in itertools.product(BINARY_INPUTS, repeat=2):
        expression = f"{op}(x, y)" if op in ("max", "min") else f"x {op} y"
        body = _engine(expression, {"x": x, "y": y})
        got = (float(decode(body["value"])), float(decode(body["gradients"]["x"])), float(decode(body["gradients"]["y"])))
        if op == "**":
            want = _power(x, y)
        elif op in ("max", "min"):
            want = _extremum(x, y, op)
        else:
            want = _exact(x, y, op)
        try:
            if math.isnan(want[0]):
                assert math.isnan(got[0]), f"{x!r} {op} {y!r} = {got[0]}, want NaN"
                continue
            _same(got[0], want[0], f"{x!r} {op} {y!r}")
            if op == "**" and not math.isfinite(want[0]):
                continue  # the gradients of an overflowed power are open
            _same(got[1], want[1], f"d({x!r} {op} {y!r})/dx")
            _same(got[2], want[2], f"d({x!r} {op} {y!r})/dy")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, f"{len(failures)} of {len(BINARY_INPUTS) ** 2}:\n" + "\n".join(failures)


DESIGN_ROWS = [
    ("x / y", {"x": 1, "y": 0}, "Infinity", {"x": "Infinity", "y": "-Infinity"}),
    ("log(x)", {"x": 0}, "-Infinity", {"x": "Infinity"}),
    ("sqrt(x)", {"x": 0}, 0.0, {"x": "Infinity"}),
    ("exp(x)", {"x": 1000}, "Infinity", {"x": "Infinity"}),
    ("max(y, z)", {"y": 2, "z": 2}, 2.0, {"y": 0.5, "z": 0.5}),
    ("relu(x)", {"x": 0}, 0.0, {"x": 0.0}),
    ("abs(x)", {"x": 0}, 0.0, {"x": 0.0}),
    ("x ** 0", {"x": 0}, 1.0, {"x": 0.0}),
    ("max(y, y)", {"y": 3}, 3.0, {"y": 1.0}),
    ("log(x) - log(x)", {"x": 0}, "NaN", None),
    ("sum(softmax(x))", {"x": [1000, 0, -1000]}, 1.0, None),
    ("sum(log(softmax(x)))", {"x": [1000, 0]}, None, None),
    ("sigmoid(x)", {"x": -1000}, 0.0, {"x": 0.0}),
    ("tanh(x)", {"x": 1000}, 1.0, {"x": 0.0}),
]


@pytest.mark.parametrize(("expression", "values", "value", "gradients"), DESIGN_ROWS, ids=[r[0] for r in DESIGN_ROWS])
def test_non_finite_numbers_travel_as_strings_over_http(
    client: TestClient, expression: str, values: dict[str, Any], value: Any, gradients: dict[str, Any] | None
) -> None:
    status, body = send(client, FAMILY, {"expression": expression, "values": values}, expression)
    assert status == 200, body
    if value is not None:
        assert body["value"] == value
    if gradients is not None:
        assert body["gradients"] == gradients
    if value in ("NaN", "Infinity", "-Infinity"):
        assert body["warnings"], "a non-finite value needs a warning that names its node"
        assert any(w["node"] is not None for w in body["warnings"])


# Reductions, products and softmax at the edges: (expression, values, acceptable values, gradients).
# The gradients are what calculus says whatever the value overflowed to: sum's is ones,
# mean's 1/n, dot's the other vector, and softmax's s * (w - s . w) for sum(softmax(x) * w).
TENSOR_EDGES = [
    ("sum(x)", {"x": [1e308, 1e308]}, [math.inf], {"x": [1.0, 1.0]}),
    ("mean(x)", {"x": [1e308, 1e308]}, [1e308, math.inf], {"x": [0.5, 0.5]}),
    ("mean(x)", {"x": [5e-324, 5e-324, 5e-324]}, [5e-324, 0.0], {"x": [1 / 3, 1 / 3, 1 / 3]}),
    ("dot(x, y)", {"x": [1e200], "y": [1e200]}, [math.inf], {"x": [1e200], "y": [1e200]}),
    # inf - inf: NaN summed naively, +inf where BLAS fuses the multiply-add, 0 in exact arithmetic.
    ("x @ y", {"x": [1e200, -1e200], "y": [1e200, 1e200]}, [math.nan, math.inf, 0.0], {"x": [1e200, 1e200], "y": [1e200, -1e200]}),
    ("sum(W @ x)", {"W": [[1e300, 1e300], [1e300, 1e300]], "x": [1e10, 1.0]}, [math.inf], {"W": [[1e10, 1.0], [1e10, 1.0]], "x": [2e300, 2e300]}),
    ("sum(softmax(x) * w)", {"x": [1000, -1000, 0], "w": [1, 2, 3]}, [1.0], {"x": [0.0, 0.0, 0.0], "w": [1.0, 0.0, 0.0]}),
    ("sum(softmax(x) * w)", {"x": [1e308, -1e308], "w": [1, 2]}, [1.0], {"x": [0.0, 0.0], "w": [1.0, 0.0]}),
    ("sum(softmax(x) * w)", {"x": [[0, 0], [1e300, 1e300]], "w": [1, 3]}, [4.0], {"x": [[-0.5, 0.5], [-0.5, 0.5]], "w": [1.0, 1.0]}),
    ("sum(max(x, y))", {"x": [1, 2, 3], "y": [3, 2, 1]}, [8.0], {"x": [0.0, 0.5, 1.0], "y": [1.0, 0.5, 0.0]}),
    ("sum(min(x, y) * 0)", {"x": [1e308], "y": [-1e308]}, [-0.0, 0.0], {"x": [0.0], "y": [0.0]}),
    ("sum(x.T @ x)", {"x": [[1e154], [1e154]]}, [2e308, math.inf], {"x": [[2e154], [2e154]]}),
]


@pytest.mark.parametrize(("expression", "values", "accept", "gradients"), TENSOR_EDGES, ids=[f"{r[0]} {i}" for i, r in enumerate(TENSOR_EDGES)])
def test_reductions_products_and_softmax_at_their_edges(
    expression: str, values: dict[str, Any], accept: list[float], gradients: dict[str, Any]
) -> None:
    body = _engine(expression, values)
    value = float(decode(body["value"]).reshape(-1)[0])
    assert any(value == a or (math.isnan(a) and math.isnan(value)) for a in accept), (value, accept)
    for name, want in gradients.items():
        got = decode(body["gradients"][name])
        np.testing.assert_allclose(got, np.asarray(want, dtype=np.float64), rtol=1e-12, atol=1e-300, err_msg=name)
