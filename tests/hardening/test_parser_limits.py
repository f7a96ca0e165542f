"""Parser limits and syntax: every malformed or oversized program gets a 422 at its place.

The nesting and length limits must be named in the error that enforces them, and no
depth of nesting, in any of its forms, may reach Python's recursion limit.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import gradtrace
from tests.fuzz import tally
from tests.fuzz.contract import check_trace, check_trace_error
from tests.hardening.support import EITHER, Case, client, ids, run_case

__all__ = ["client"]

FAMILY = "bad: parser limits and syntax"
X = {"x": 1.5}
XY = {"x": 1.5, "y": 2.0}


def nested(open_: str, close: str, depth: int, core: str = "x") -> str:
    return open_ * depth + core + close * depth


CASES = [
    # The design's rows.
    Case(nested("(", ")", 300), X, type="limit_exceeded", at=200, says=("max_depth",), note="300 parens"),
    Case("x" * 120_001, type="limit_exceeded", says=("max_expression_length",), note="120001 chars"),
    Case("", at=0),
    Case("((x + y)", XY, at=0),
    Case("x + y)", XY, at=5),
    Case("x + * y", XY, at=4),
    Case("x +", X, at=3),
    Case("x^2", X, at=1, says=("**",)),
    Case("foo(x)", X, at=0, type="unknown_function"),
    # Nesting in every form, just under, at and past the limit.
    Case(nested("(", ")", 199), X, status=200, value=1.5, note="199 parens"),
    Case(nested("(", ")", 201), X, type="limit_exceeded", note="201 parens"),
    Case(nested("(", ")", 10_000), X, type="limit_exceeded", note="10000 parens"),
    Case(nested("(", "", 5_000), X, type="limit_exceeded", note="5000 unclosed parens"),
    Case(nested("", ")", 5_000), X, at=1, note="5000 stray closing parens"),
    Case(nested("sin(", ")", 300), X, type="limit_exceeded", note="300 nested calls"),
    Case(nested("max(x, ", ")", 300), X, type="limit_exceeded", note="300 nested max"),
    Case("-" * 5_000 + "x", X, status=EITHER, note="5000 unary minus"),
    Case("+-" * 5_000 + "x", X, status=EITHER, note="10000 alternating signs"),
    Case("**".join(["x"] * 5_000), X, status=EITHER, note="5000-deep power tower"),
    Case("x" + ".T" * 5_000, X, status=EITHER, note="5000 transposes"),
    Case(nested("(", ")", 150, nested("sin(", ")", 150)), X, type="limit_exceeded", note="150 parens around 150 calls"),
    # Length: exactly at the limit is parsed; the limit error comes before tokenizing.
    Case("x" + " " * 19_997 + "*1", X, status=200, value=1.5, note="20000 chars"),
    Case("\u202e" * 120_001, type="limit_exceeded", says=("max_expression_length",), note="120001 bidi chars"),
    Case("(" * 200_000, type="limit_exceeded", says=("max_expression_length",), note="200000 parens"),
    # Syntax, widened.
    Case("   ", note="only spaces"),
    Case("\n\n", X, note="only newlines"),
    Case(";", at=0),
    Case(";;", at=0),
    Case("x;", X, status=EITHER),
    Case("x;;x", X),
    Case("a =", X, at=3),
    Case("= x", X, at=0),
    Case("a = = x", X, at=4),
    Case("a = x = x", X),
    Case("()", at=1),
    Case("(,)", at=1),
    Case("max()"),
    Case("max(x)", X, status=200, value=1.5, note="max(v) of one number"),
    Case("max(x, x, x)", X),
    Case("sum()"),
    Case("sum(x, x)", X),
    Case("exp(x,)", X),
    Case("exp x", X),
    Case("exp"),
    Case("x x", X, at=2),
    Case("2x", X, at=1),
    Case("x(2)", X),
    Case("(x)(x)", X, at=3),
    Case("x..T", X, at=1),
    Case("x.t", X, at=1),
    Case("x.", X, at=1),
    Case(".T", at=0),
    Case("x**", X, at=3),
    Case("**x", X, at=0),
    Case("x***x", X, at=3),
    Case("x // x", X, at=3),
    Case("x % x", X, at=2),
    Case("x ^ x", X, at=2, says=("**",)),
    Case("x ^^ x", X, at=2),
    Case("x @@ x", X, at=3),
    Case("@x", X, at=0),
    Case("x, x", X, at=1),
    Case("x = 2; y = x * 3", X, at=0),
    Case("((((x))))", X, status=200, value=1.5),
    Case("x + (", X),
    Case(")(", at=0),
    Case("x +\n* x", X, at=(3, 4)),
    Case("x\n+\n", X),
    Case("a = x\nb = a +\nb", X),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_parser_limits_and_syntax(client: TestClient, case: Case) -> None:
    run_case(client, FAMILY, case)


# The engine's limits, each lowered far enough to be reached by a small program,
# must each be named by the error that enforces it.
LIMIT_CASES = [
    ("max_expression_length", {"max_expression_length": 10}, "x + x + x + x", {"x": 1}),
    ("max_depth", {"max_depth": 3}, "((((x))))", {"x": 1}),
    ("max_statements", {"max_statements": 2}, "a = x; b = a; c = b", {"x": 1}),
    ("max_nodes", {"max_nodes": 10}, " + ".join(["x"] * 20), {"x": 1}),
    ("max_tensor_elements", {"max_tensor_elements": 10}, "sum(x)", {"x": list(range(11))}),
    ("max_tensor_elements", {"max_tensor_elements": 20}, "sum(c * r)", {"c": [[1.0]] * 5, "r": [1.0] * 5}),
    ("max_total_elements", {"max_total_elements": 30}, "sum(x + x + x + x)", {"x": list(range(8))}),
    ("max_input_elements", {"max_input_elements": 5}, "sum(x)", {"x": list(range(6))}),
]


@pytest.mark.parametrize(("limit", "lowered", "expression", "values"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_each_limit_is_named_by_its_error(limit: str, lowered: dict[str, int], expression: str, values: dict[str, object]) -> None:
    tally.count("bad: lowered engine limits")
    with pytest.raises(gradtrace.TraceError) as raised:
        gradtrace.trace(expression, values, limits=gradtrace.Limits(**lowered))
    check_trace_error(raised.value, expression)
    assert raised.value.type == "limit_exceeded", raised.value
    assert limit in raised.value.message, raised.value.message


@pytest.mark.parametrize("depth", [240, 250, 400, 5_000])
def test_python_api_without_limits_still_refuses_stack_deep_nesting(depth: int) -> None:
    # Without limits the depth stays bounded (the parser recurses): a TraceError, not RecursionError.
    tally.count("bad: lowered engine limits")
    text = nested("(", ")", depth)
    try:
        result = gradtrace.trace(text, {"x": 2.0})
    except gradtrace.TraceError as error:
        check_trace_error(error, text)
        assert error.type == "limit_exceeded"
    else:
        check_trace(result.to_dict(), text)
