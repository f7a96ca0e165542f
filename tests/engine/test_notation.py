"""What a student fresh from the lecture types: its notation redirected, every problem at once.

Each error is checked at its exact span: the page underlines it there.
"""

from __future__ import annotations

import pytest

import gradtrace
from gradtrace.errors import MAX_PROBLEMS, TraceError


def error_of(expression: str, values: dict[str, object] | None = None) -> TraceError:
    with pytest.raises(TraceError) as caught:
        gradtrace.trace(expression, values or {})
    return caught.value


@pytest.mark.parametrize(
    ("expression", "span"),
    [("u^T h", (1, 3)), ("u^T @ h", (1, 3)), ("s = u^T h", (5, 7)), ("s = u^T@h", (5, 7))],
)
def test_the_lectures_transpose_is_redirected_to_dot_t(expression: str, span: tuple[int, int]) -> None:
    error = error_of(expression, {"u": [1.0, 2.0], "h": [3.0, 4.0]})
    assert error.type == "syntax_error"
    assert error.span == span
    assert "u.T @ h" in error.message
    assert "**" not in error.message  # not the hint for powers


def test_a_transposed_group_is_named_as_a_group() -> None:
    error = error_of("(W @ x)^T h", {"W": [[1.0]], "x": [1.0], "h": [1.0]})
    assert error.span == (7, 9)
    assert "(...).T @ h" in error.message


def test_a_power_keeps_its_own_hint() -> None:
    error = error_of("x^2", {"x": 1.0})
    assert error.span == (1, 2)
    assert "**" in error.message


@pytest.mark.parametrize(
    ("expression", "span", "hint"),
    [
        ("W x", (2, 3), "W @ x"),
        ("z = W x + b", (6, 7), "W @ x"),
        ("(W x)", (3, 4), "W @ x"),
        ("sigmoid(W x)", (10, 11), "W @ x"),
        ("2 x", (2, 3), "2 * x"),
    ],
)
def test_operands_side_by_side_name_the_operator(expression: str, span: tuple[int, int], hint: str) -> None:
    error = error_of(expression, {"W": [[1.0, 2.0]], "x": [1.0, 2.0], "b": [0.0]})
    assert error.span == span
    assert hint in error.message


@pytest.mark.parametrize(
    ("expression", "span", "word"),
    [("import os", (0, 6), "import"), ("from os import path", (0, 4), "from"), ("x and y", (2, 5), "and")],
)
def test_python_is_named_as_python(expression: str, span: tuple[int, int], word: str) -> None:
    error = error_of(expression, {"x": 1.0, "y": 2.0})
    assert error.span == span
    assert f"'{word}' is Python" in error.message
    assert "'*'" not in error.message


def test_every_missing_input_is_listed_at_once() -> None:
    error = error_of("a = x + y\nb = a * z + w\nb + y", {"x": 1.0})
    detail = error.to_dict()
    assert (detail["type"], detail["span"], detail["line"], detail["column"]) == (
        "undefined_name", [8, 9], 1, 9,
    )
    spans = [(p["message"].split("'")[1], p["span"], p["line"], p["column"]) for p in detail["problems"]]
    assert spans == [("y", [8, 9], 1, 9), ("z", [18, 19], 2, 9), ("w", [22, 23], 2, 13)]
    assert all(p["type"] == "undefined_name" for p in detail["problems"])


def test_an_earlier_problem_comes_first_and_the_missing_inputs_follow() -> None:
    detail = error_of("a = b + 1\nb = x\nc = y", {}).to_dict()
    assert detail["span"] == [4, 5] and "before it is assigned" in detail["message"]
    assert [p["span"] for p in detail["problems"]] == [[4, 5], [14, 15], [20, 21]]


def test_every_bad_value_is_listed_at_once() -> None:
    detail = error_of("W @ x + sum(b)", {"W": [[1, 2], [3]], "x": True, "b": [1.0, "a"]}).to_dict()
    assert detail["type"] == "invalid_value" and detail["span"] == [0, 1]
    assert [(p["span"], p["type"]) for p in detail["problems"]] == [
        ([0, 1], "invalid_value"),
        ([4, 5], "invalid_value"),
        ([12, 13], "invalid_value"),
    ]
    assert "ragged" in detail["problems"][0]["message"]


def test_the_list_of_problems_is_bounded() -> None:
    names = [f"x{i}" for i in range(MAX_PROBLEMS + 5)]
    detail = error_of(" + ".join(names)).to_dict()
    assert len(detail["problems"]) == MAX_PROBLEMS
    assert detail["problems_omitted"] == 5
    assert detail["problems"][0]["span"] == detail["span"] == [0, 2]
