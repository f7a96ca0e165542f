"""Input values: checked and converted to float64 once, before the graph is built.

A scalar becomes a Python float, a vector or matrix a float64 array; anything
else is an invalid_value error pointed at the input's first use, found in the
spans the parser kept. Every value is read, so all the bad ones are reported
at once (the error's `problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradtrace.errors import InvalidValueError, TraceError, limit_exceeded, together
from gradtrace.limits import Limits
from gradtrace.syntax import Program, first_use

Value = float | np.ndarray[Any, np.dtype[np.float64]]


def coerce_values(program: Program, values: Mapping[str, Any], limits: Limits) -> dict[str, Value]:
    """Every input's value as float64, within max_input_elements; errors located in the program."""
    expression = program.expression
    if not isinstance(values, Mapping):
        raise InvalidValueError("values must be a mapping from input names to numbers or lists")
    inputs: dict[str, Value] = {}
    problems: list[TraceError] = []
    total = 0
    for name, value in values.items():
        if not isinstance(name, str):
            raise InvalidValueError(f"the input name {name!r} is not a string")
        try:
            inputs[name] = coerce_value(name, value)
        except TraceError as error:
            error.span = first_use(program, name)
            problems.append(error)
            continue
        total += int(np.size(inputs[name]))
        if limits.max_input_elements is not None and total > limits.max_input_elements:
            raise limit_exceeded(
                "max_input_elements",
                "the number of input numbers",
                f"over {limits.max_input_elements}",
                limits.max_input_elements,
                first_use(program, name),
            ).locate(expression)
    if problems:
        raise together(problems).locate(expression) from None
    return inputs



_NUMBER_TYPES = (int, float, np.integer, np.floating)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool | np.bool_)


def coerce_value(name: str, value: Any) -> Value:
    """A float for a scalar, a float64 array of rank 1 or 2 otherwise; invalid_value if neither."""

    def invalid(why: str) -> InvalidValueError:
        return InvalidValueError(f"the value of '{name}' {why}")

    if isinstance(value, bool | np.bool_):
        raise invalid("is a boolean, not a number")
    if value is None:
        raise invalid("is missing (null): give a number or a list of numbers")
    if isinstance(value, str | bytes):
        raise invalid("is a string: give a number or a list of numbers")
    if _is_number(value):
        try:
            return float(value)
        except OverflowError:
            raise invalid("is too large for a float64") from None
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise invalid(f"is an array of {value.dtype}, not of numbers")
        array = np.asarray(value, dtype=np.float64)
    elif isinstance(value, list | tuple):
        array = _list_to_array(value, invalid)
    else:
        raise invalid(f"is a {type(value).__name__}: give a number or a list of numbers")
    if array.ndim > 2:
        raise invalid(f"has rank {array.ndim}: at most 2 (a matrix) is supported")
    if array.size == 0:
        raise invalid("is empty: give at least one number")
    if array.ndim == 0:
        return float(array)
    return array


def _list_to_array(value: list[Any] | tuple[Any, ...], invalid: Any) -> np.ndarray[Any, Any]:
    if len(value) == 0:
        raise invalid("is an empty list: give at least one number")
    first = value[0]
    if isinstance(first, list | tuple):
        width = len(first)
        for row in value:
            if not isinstance(row, list | tuple):
                raise invalid("mixes numbers and lists: a matrix is a list of rows of equal length")
            if len(row) != width:
                raise invalid(
                    f"is ragged: its rows have {width} and {len(row)} numbers; "
                    "every row of a matrix must have the same length"
                )
            for item in row:
                if isinstance(item, list | tuple):
                    raise invalid("has rank above 2: at most 2 (a matrix) is supported")
            _check_numbers(row, invalid)
        if width == 0:
            raise invalid("has empty rows: give at least one number")
    else:
        _check_numbers(value, invalid)
    try:
        return np.array(value, dtype=np.float64)
    except (OverflowError, ValueError):
        raise invalid("holds a number too large for a float64") from None


def _check_numbers(row: list[Any] | tuple[Any, ...], invalid: Any) -> None:
    types = set(map(type, row))
    if types <= {float, int}:
        return
    for item in row:
        if isinstance(item, list | tuple):
            raise invalid("mixes numbers and lists: a matrix is a list of rows of equal length")
        if not _is_number(item):
            what = "a boolean" if isinstance(item, bool | np.bool_) else repr(item)[:20]
            raise invalid(f"holds {what}, which is not a number")
