"""The fast paths give what the general ones give: tokens, trees, graphs and errors.

Long programs are read by shortcuts: the tokenizer builds its lists in C when no
comment or line break inside parentheses needs dropping, and a simple statement
(`name = a op b`, `name = f(a)`, `name = f(a, b)`) is kept as token positions and
lowered straight from them. Each shortcut is compared here with the path it stands
in for, on the cases where they could part: constants, first uses, tensors, errors,
size limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradtrace import _coerce_values
from gradtrace.errors import TraceError
from gradtrace.graph import Graph, build_graph
from gradtrace.limits import Limits
from gradtrace.parser import parse
from gradtrace.syntax import Program, sexpr
from gradtrace.tokens import _SCAN, _scan_slowly, scan


def _slow_scan(text: str) -> tuple[list[str], list[str], list[int]]:
    return _scan_slowly(_SCAN.findall(text.rstrip(" \t\r")), len(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1.eE+-*/()#\n ;,T_\t\r=\u00e9", max_size=16))
def test_scan_builds_the_tokens_one_at_a_time_would(text: str) -> None:
    assert scan(text) == _slow_scan(text)


def test_scan_of_a_long_program_matches_token_by_token() -> None:
    text = "\n".join(f"v{i} = max(v{i - 1}, x) * 0.5e1 + tanh(y).T" for i in range(1, 200))
    assert scan(text) == _slow_scan(text)


PROGRAMS: list[tuple[str, dict[str, Any]]] = [
    ("a = x * y\nb = max(a, y)\nc = tanh(b)\nd = c - a", {"x": 1.5, "y": -2.0}),
    ("a = 2 * x\nb = a + 3\nc = max(b, 1)", {"x": 0.5}),  # constants, and x first used
    ("a = x + y\nb = relu(a); c = a / b", {"x": 1.0, "y": 2.0}),
    ("a = x + y\nb = sum(a)", {"x": [1.0, 2.0], "y": 3.0}),  # a tensor takes the long way
    ("a = x @ y\nb = a * 2", {"x": [1.0, 2.0], "y": [3.0, 4.0]}),
    ("a = x * 2\nb = y + 1\na", {"x": 1.0, "y": 2.0}),  # the output is an earlier value
    ("a = x ** y\nb = exp(a)\nc = min(b, a)", {"x": 2.0, "y": 3.0}),
    ("a = x + q", {"x": 1.0}),  # an undefined name
    ("a = x + b\nb = x", {"x": 1.0}),  # used before it is assigned
    ("a = x + a", {"x": 1.0}),  # used in its own statement
    ("x = y + 1", {"x": 1.0, "y": 2.0}),  # an input assigned
    ("a = x + 1\na = x + 2", {"x": 1.0}),  # assigned twice
    ("a = x + y", {"x": [[1.0, 2.0]], "y": [1.0, 2.0, 3.0]}),  # shapes that do not fit
]


def _graph(text: str, program: Program, values: dict[str, Any], limits: Limits) -> Graph | str:
    try:
        inputs = _coerce_values(text, values, limits)
        return build_graph(text, program, inputs, limits)
    except TraceError as error:
        return f"{type(error).__name__}: {error} {error.span}"


@pytest.mark.parametrize("limits", [Limits.unlimited(), Limits()], ids=["unlimited", "limits"])
@pytest.mark.parametrize(("text", "values"), PROGRAMS)
def test_simple_statements_lower_as_their_trees_do(
    text: str, values: dict[str, Any], limits: Limits
) -> None:
    program = parse(text)
    assert any(type(item) is tuple for item in program.items), "no statement took the shortcut"
    trees_only = Program(program.statements)
    assert all(type(item) is not tuple for item in trees_only.items)
    assert _graph(text, program, values, limits) == _graph(text, trees_only, values, limits)


def test_a_simple_statement_has_the_tree_the_descent_builds() -> None:
    program = parse("a = x * 2\nb = max(a, y)\nc = tanh(b)\nd = -c\ne = (a + b)")
    assert [type(item) is tuple for item in program.items] == [True, True, True, False, False]
    assert [sexpr(s) for s in program.statements] == [
        "(= a (* x 2))",
        "(= b (max a y))",
        "(= c (tanh b))",
        "(= d (neg c))",
        "(= e (+ a b))",
    ]
    spans = [(s.span, s.name_span, s.value.span) for s in program.statements[:3]]  # type: ignore[union-attr]
    assert spans == [((0, 9), (0, 1), (4, 9)), ((10, 23), (10, 11), (14, 23)), ((24, 35), (24, 25), (28, 35))]
