"""Names and statements: control, bidirectional and look-alike characters are refused where
they stand, and names that are dangerous as JavaScript object keys round-trip intact.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.hardening.support import EITHER, Case, client, ids, run_case, send

__all__ = ["client"]

FAMILY = "bad: names and statements"

LAYER = {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 0, -1], "b": [0.5, -0.5], "u": [1, 2]}

STATEMENTS = [
    # The design's rows.
    Case("z = W @ x + b; h = sigmoid(z); s = u @ h", LAYER, status=200),
    Case("x = 2; y = x * 3", {"x": 1}, at=0),
    Case("a = b + 1; b = x", {"x": 1}, at=4),
    Case("x + y", {"x": 1}, at=4, type="undefined_name"),
    # Widened.
    Case("a = x; a = x", {"x": 1}, at=7),
    Case("a = a + x", {"x": 1}, at=4),
    Case("sin = x; sin", {"x": 1}, at=0),
    Case("exp = x", {"x": 1}, at=0),
    Case("sum + 1", {"sum": 1}),
    Case("1 = x", {"x": 1}),
    Case("T = x; T", {"x": 1}, status=EITHER),
    Case("y = x * 2", {"x": 3}, status=200, value=6.0),
    Case("X * x", {"X": 2, "x": 3}, status=200, value=6.0, note="names are case-sensitive"),
    Case("x_ + x_1_", {"x_": 1, "x_1_": 2}, status=200, value=3.0),
    Case("v" * 5_000 + " * 2", {"v" * 5_000: 2}, status=EITHER, value=4.0, request_form_ok=True, note="a 5000-char name"),
]

# Characters that look like nothing, reorder text, or look like ASCII letters: each must
# be refused at its own offset, so the caret lands on it.
INVISIBLE = [
    "\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\xa0", "\xad", "\u034f",
    "\u061c", "\u115f", "\u180e", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
    "\u2028", "\u2029", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u3000", "\ufeff", "\ufff9", "\U000e0001",
]
LOOKALIKES = ["\u0445", "\u0455", "\u03bf", "\uff58", "\U0001d465", "\u24e7", "\u00e9", "\u03b1", "\U0001d431"]

CHARACTER_CASES = (
    [Case(f"x{c} + y", {"x": 1, "y": 2}, at=1, note=f"after a name U+{ord(c):04X}") for c in INVISIBLE]
    + [Case(f"ab{c}cd + 1", {"ab": 1, "cd": 1, "abcd": 1}, at=2, note=f"inside a name U+{ord(c):04X}") for c in INVISIBLE]
    + [Case(f"{c} + y", {"y": 2}, at=0, note=f"look-alike U+{ord(c):04X}") for c in LOOKALIKES]
    + [Case("x\u0301 + y", {"x": 1, "y": 2}, at=1, note="combining accent")]
    + [Case("y + x\U0001f600", {"x": 1, "y": 2}, at=5, note="emoji")]
)

# Whitespace that ASCII knows: accepted as space, or refused at its place; never a 500.
ASCII_SPACE = [Case(f"x{c}+{c}y", {"x": 1, "y": 2}, status=EITHER, note=f"ASCII space U+{ord(c):04X}") for c in "\t\r\x0b\x0c\x1c"]

JS_KEYS = [
    "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf",
    "propertyIsEnumerable", "toLocaleString", "then", "length", "name", "caller", "arguments",
    "window", "document", "alert", "self", "top", "location", "eval", "Object", "NaN", "Infinity",
    "undefined", "null", "true", "false", "this", "new", "delete", "proto__",
]
UNDERSCORED = ["__proto__", "__defineGetter__", "__lookupSetter__", "_", "__class__"]


@pytest.mark.parametrize("case", STATEMENTS + CHARACTER_CASES + ASCII_SPACE, ids=ids(STATEMENTS + CHARACTER_CASES + ASCII_SPACE))
def test_names_and_statements(client: TestClient, case: Case) -> None:
    run_case(client, FAMILY, case)


@pytest.mark.parametrize("name", JS_KEYS)
def test_javascript_object_keys_are_ordinary_names(client: TestClient, name: str) -> None:
    # `eval` is refused only when called; as an input name it is a plain name.
    expression = f"{name} * 3 + {name}"
    status, body = send(client, FAMILY, {"expression": expression, "values": {name: 2}}, expression)
    assert status == 200, body
    assert list(body["gradients"]) == [name]
    assert body["gradients"][name] == 4.0
    assert body["value"] == 8.0


def test_all_javascript_keys_at_once(client: TestClient) -> None:
    expression = " + ".join(JS_KEYS)
    values = {name: i for i, name in enumerate(JS_KEYS)}
    status, body = send(client, FAMILY, {"expression": expression, "values": values}, expression)
    assert status == 200, body
    assert sorted(body["gradients"]) == sorted(JS_KEYS)
    assert all(g == 1.0 for g in body["gradients"].values())


@pytest.mark.parametrize("name", UNDERSCORED)
def test_underscored_names_are_refused_at_their_place(client: TestClient, name: str) -> None:
    run_case(client, FAMILY, Case(f"x + {name}", {"x": 1}, at=4))


@pytest.mark.parametrize(
    "values",
    [
        {"x": 1, "__proto__": 2},
        {"x": 1, "__proto__": {"x": 5}},
        {"x": 1, "constructor": {"prototype": 1}},
        {"x": 1, "x\u202e": 2},
        {"x": 1, "": 2},
        {"x": 1, "1x": 2},
        {"x": 1, "x" * 100_000: 2},
    ],
    ids=["proto", "proto-object", "constructor-prototype", "bidi-key", "empty-key", "digit-key", "huge-key"],
)
def test_strange_value_keys_never_reach_the_trace(client: TestClient, values: dict[str, object]) -> None:
    status, body = send(client, FAMILY, {"expression": "x * 2", "values": values}, "x * 2")
    assert status in (200, 413, 422), body
    if status == 200:
        assert list(body["gradients"]) == ["x"] and body["value"] == 2.0
