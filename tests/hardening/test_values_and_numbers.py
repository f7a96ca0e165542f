"""Values and number literals: ragged, boolean, null, huge, tiny and foreign numbers.

Number literals are ASCII decimal only; anything else is refused at its place. A literal
that overflows float64 may be refused or become infinity, but never a 500 (Python's
int() refuses more than 4300 digits, float() does not).
"""

from __future__ import annotations

import math
import re

import pytest
from fastapi.testclient import TestClient

from tests.hardening.support import EITHER, Case, client, ids, run_case, send

__all__ = ["client"]

VALUES_FAMILY = "bad: values"
NUMBERS_FAMILY = "bad: number literals"

VALUE_CASES = [
    # The design's rows.
    Case("sum(x)", {"x": [[1, 2], [3]]}, type="invalid_value"),
    Case("x", {"x": True}, type="invalid_value"),
    Case("x", {"x": None}, type="invalid_value"),
    Case("W @ x", {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 2]}, at=2, type="shape_error", says=("[2, 3]", "[2]")),
    Case("x + y", {"x": [1, 2, 3], "y": [1, 2, 3, 4]}, at=2, type="shape_error"),
    # Widened: ragged, mixed, deep, foreign.
    Case("sum(x)", {"x": [[1], [2, 3]]}, type="invalid_value"),
    Case("sum(x)", {"x": [1, [2]]}, type="invalid_value"),
    Case("sum(x)", {"x": [[1, 2], 3]}, type="invalid_value"),
    Case("sum(x)", {"x": [[[1]]]}, type="invalid_value", note="rank 3"),
    Case("sum(x)", {"x": [[[[[[[[1]]]]]]]]}, type="invalid_value", note="rank 8"),
    Case("sum(x)", {"x": [True, 1]}, type="invalid_value"),
    Case("sum(x)", {"x": [1, None]}, type="invalid_value"),
    Case("sum(x)", {"x": [False]}, type="invalid_value"),
    Case("x", {"x": False}, type="invalid_value"),
    Case("x", {"x": "1"}, type="invalid_value"),
    Case("x", {"x": ""}, type="invalid_value"),
    Case("x", {"x": {}}, type="invalid_value"),
    Case("x", {"x": {"0": 1}}, type="invalid_value"),
    Case("sum(x)", {"x": ["1", 2]}, type="invalid_value"),
    Case("x", {"x": "NaN"}, status=EITHER, note="NaN string as input", request_form_ok=True),
    Case("x", {"x": "Infinity"}, status=EITHER, note="Infinity string as input", request_form_ok=True),
    Case("x", {"x": "-Infinity"}, status=EITHER, request_form_ok=True),
    Case("x", {"x": "nan"}, type="invalid_value"),
    Case("x", {"x": "1e400"}, type="invalid_value"),
    Case("x * 1", {"x": 1e308}, status=200, value=1e308),
    Case("x * 1", {"x": 5e-324}, status=200, value=5e-324),
    Case("x * 1", {"x": -0.0}, status=200, value=0.0),
    Case("x * 1", {"x": 2**53 + 1}, status=200, value=float(2**53)),
    Case("x * 1", {"x": 10**300}, status=200, value=1e300),
    Case("sum(x)", {"x": []}, status=EITHER, value=0.0, note="empty vector", request_form_ok=True),
    Case("mean(x)", {"x": []}, status=EITHER, note="mean of nothing", request_form_ok=True),
    Case("sum(x)", {"x": [[]]}, status=EITHER, value=0.0, note="1x0 matrix", request_form_ok=True),
    Case("sum(x)", {"x": [[], []]}, status=EITHER, value=0.0, note="2x0 matrix", request_form_ok=True),
    Case("x @ y", {"x": [], "y": []}, status=EITHER, value=0.0, note="empty dot", request_form_ok=True),
    Case("sum(softmax(x))", {"x": []}, status=EITHER, note="empty softmax", request_form_ok=True),
    Case("max(x, 1)", {"x": []}, note="empty output", request_form_ok=True),
    Case("x", {"x": [1, 2]}, type="output_not_scalar", says=("sum",)),
    Case("x", {"x": [[5]]}, status=200, value=5.0, note="1x1 output"),
    Case("x + y", {"x": 1, "y": [2]}, status=200, value=3.0, note="size-1 broadcast"),
    Case("sum(x @ y)", {"x": [[1, 2]], "y": [[1], [2], [3]]}, type="shape_error", at=6),
    Case("dot(x, y)", {"x": [[1, 2]], "y": [1, 2]}, status=EITHER, note="dot of a matrix"),
    Case("dot(x, y)", {"x": [1, 2, 3], "y": [1, 2]}, type="shape_error"),
    Case("sum(x.T @ x)", {"x": [1, 2, 3]}, status=200, value=14.0, note="transpose of a vector"),
    Case("x.T", {"x": 3}, status=EITHER, value=3.0, note="transpose of a scalar"),
]

BIG = "9" * 5_000
NUMBER_CASES = [
    Case("1e309", type=None, status=EITHER, value=math.inf, note="overflowing literal"),
    Case("-1e309 * 0", status=EITHER, note="inf times zero"),
    Case("1e99999999999999999999", status=EITHER, value=math.inf, note="giant exponent"),
    Case(BIG, status=EITHER, value=math.inf, note="5000-digit literal"),
    Case(BIG + "." + BIG, status=EITHER, value=math.inf, note="5000.5000-digit literal"),
    Case("0." + "0" * 5_000 + "1", status=EITHER, value=0.0, note="underflowing literal"),
    Case("1e-99999999999999999999", status=EITHER, value=0.0, note="giant negative exponent"),
    Case("4.9e-324", status=200, value=5e-324),
    Case("2.4703282292062328e-324", status=200, value=5e-324),
    Case("1.7976931348623157e308", status=200, value=1.7976931348623157e308),
    Case("1.7976931348623159e308", status=EITHER, value=math.inf, note="just past the largest double"),
    Case("0.1 + 0.2", status=200, value=0.30000000000000004),
    Case("1e308 * 10", status=200, value=math.inf),
    Case("2 ** 1024", status=200, value=math.inf),
    Case("(-8) ** (1 / 3)", status=200, value=math.nan),
    Case("-2 ** 2", status=200, value=-4.0),
    Case("2 ** 3 ** 2", status=200, value=512.0),
    Case("2 ** -1", status=200, value=0.5),
    Case("007", status=EITHER, value=7.0),
    Case("1E3", status=200, value=1000.0),
    Case(".5", status=200, value=0.5),
    Case("5.", status=EITHER, value=5.0),
    Case("1_000", at=1),
    Case("1__0", at=1),
    Case("0x10", at=1),
    Case("0b1", at=1),
    Case("0o7", at=1),
    Case("1j", at=1),
    Case("1e"),
    Case("1e+"),
    Case("1.2.3", at=3),
    Case("..5", at=0),
    Case("1e3.5", at=3),
    Case("1 000", at=2),
    Case("1,5", at=1),
    Case("\u0661 + 1", at=0, note="Arabic-Indic one"),
    Case("1 + \u096a", at=4, note="Devanagari four"),
    Case("\uff12 * 2", at=0, note="fullwidth two"),
    Case("x\u00b2", {"x": 2}, at=1, note="superscript two"),
    Case("\u00bd", at=0, note="vulgar half"),
    Case("\u216b", at=0, note="roman twelve"),
    Case("\U0001d7cf", at=0, note="mathematical bold one"),
    Case("1\u066b5", at=1, note="Arabic decimal separator"),
    Case("1\u22125", at=1, note="unicode minus"),
    Case("inf", type="undefined_name", at=0),
    Case("nan * 0", type="undefined_name", at=0),
    Case("Infinity + 1", {"Infinity": 1}, status=200, value=2.0, note="Infinity is only a name"),
]


@pytest.mark.parametrize("case", VALUE_CASES, ids=ids(VALUE_CASES))
def test_values(client: TestClient, case: Case) -> None:
    run_case(client, VALUES_FAMILY, case)


@pytest.mark.parametrize("case", NUMBER_CASES, ids=ids(NUMBER_CASES))
def test_number_literals(client: TestClient, case: Case) -> None:
    run_case(client, NUMBERS_FAMILY, case)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"expression": "x * 2", "values": {"x": 1' + b"0" * 400 + b"}}",
        b'{"expression": "x * 2", "values": {"x": -1' + b"0" * 400 + b"}}",
        b'{"expression": "x * 2", "values": {"x": 1' + b"0" * 5_000 + b"}}",
        b'{"expression": "sum(x)", "values": {"x": [1, 1' + b"0" * 400 + b"]}}",
        b'{"expression": "x * 2", "values": {"x": 1e400}}',
        b'{"expression": "x * 2", "values": {"x": -1e400}}',
        b'{"expression": "x * 2", "values": {"x": NaN}}',
        b'{"expression": "x * 2", "values": {"x": Infinity}}',
        b'{"expression": "x * 2", "values": {"x": -Infinity}}',
        b'{"expression": "sum(x)", "values": {"x": [1, NaN, Infinity]}}',
    ],
    ids=["int-401-digits", "neg-int-401-digits", "int-5001-digits", "int-in-list", "float-1e400",
         "float-neg-1e400", "bare-NaN", "bare-Infinity", "bare-neg-Infinity", "bare-in-list"],
)
def test_numbers_json_cannot_hold(client: TestClient, raw: bytes) -> None:
    # Giant integers overflow float(); bare NaN/Infinity are not JSON but Python's parser
    # takes them. A right trace (of inf or NaN) or a refusal, never a 500.
    found = re.search(rb'"expression": "([^"]*)"', raw)
    assert found is not None
    status, body = send(client, VALUES_FAMILY, raw, found.group(1).decode())
    assert status in (200, 400, 422), body
