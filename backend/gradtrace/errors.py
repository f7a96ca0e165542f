"""TraceError and its subclasses: what went wrong, where, in a form the API sends as is.

Every problem the engine can find in an expression or its values is one of
these. `type` is a stable machine name; `span` points into the expression
(0-based [start, end) character offsets) and `line`/`column` (1-based) are
derived from it, so a caret can be drawn under the place.

One error may stand for several problems found in one pass (every input
without a value, every value that is not a number): the first is the error
itself, as version 1 sends it, and `problems` lists them all, each with its
own span, at most MAX_PROBLEMS of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The most problems one 422 lists in `detail.problems` (the rest are counted in
#: `detail.problems_omitted`): a page underlines each, and a screen holds about this many.
MAX_PROBLEMS = 20


def line_column(expression: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset in the expression."""
    offset = max(0, min(offset, len(expression)))
    line = expression.count("\n", 0, offset) + 1
    column = offset - (expression.rfind("\n", 0, offset) + 1) + 1
    return line, column


class TraceError(Exception):
    """An expression or its values cannot be traced; says why and where."""

    type: str = "trace_error"

    def __init__(
        self,
        message: str,
        span: tuple[int, int] | None = None,
        expression: str | None = None,
        *,
        type: str | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(message)
        if type is not None:
            self.type = type
        self.message = message
        self.span = (int(span[0]), int(span[1])) if span is not None else None
        self.limit = limit
        self.line: int | None = None
        self.column: int | None = None
        # Every problem found with this one, this one first (see `together`).
        self.problems: list[TraceError] = [self]
        if expression is not None:
            self.locate(expression)

    def locate(self, expression: str) -> TraceError:
        """Fill in line and column from the span (the parser knows the text, raisers may not)."""
        for problem in self.problems:
            if problem.span is not None:
                problem.line, problem.column = line_column(expression, problem.span[0])
        return self

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "type": self.type,
            "message": self.message,
            "span": list(self.span) if self.span is not None else None,
            "line": self.line,
            "column": self.column,
        }
        if self.limit is not None:
            fields["limit"] = self.limit
        return fields

    def to_dict(self) -> dict[str, Any]:
        """The `detail` object of the 422 response: the first problem, then the list of all."""
        detail = self._fields()
        detail["problems"] = [problem._fields() for problem in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            detail["problems_omitted"] = len(self.problems) - MAX_PROBLEMS
        return detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.type!r}, {self.message!r}, span={self.span})"


def together(problems: Sequence[TraceError]) -> TraceError:
    """One error for several problems found in one pass: the first in reading order,
    carrying them all (problems without a place come after those with one)."""
    ordered = sorted(problems, key=lambda p: (p.span is None, p.span or (0, 0)))
    first = ordered[0]
    first.problems = list(ordered)
    return first


class SyntaxTraceError(TraceError):
    """The text is not a program of the language."""

    type = "syntax_error"


class UndefinedNameError(TraceError):
    """A name has no value: not given in values, or used before it is assigned."""

    type = "undefined_name"


class UnknownFunctionError(TraceError):
    """A call of a function that is not in the registry."""

    type = "unknown_function"


class ShapeError(TraceError):
    """Shapes that an operation cannot combine."""

    type = "shape_error"


class InvalidValueError(TraceError):
    """An input's value is not a number or a rectangular list of numbers of rank at most 2."""

    type = "invalid_value"


class LimitExceededError(TraceError):
    """A limit of the service (length, depth, size, time...) was reached; `limit` names it."""

    type = "limit_exceeded"


class OutputNotScalarError(TraceError):
    """The output holds more than one number, so backpropagation has nowhere to start."""

    type = "output_not_scalar"


class AssignmentError(TraceError):
    """An assignment that the language forbids (to an input, a function, or twice)."""

    type = "assignment_error"


def limit_exceeded(
    limit: str,
    what: str,
    actual: float | str,
    allowed: float | str,
    span: tuple[int, int] | None = None,
) -> LimitExceededError:
    """A LimitExceededError whose message names the limit and both numbers."""
    return LimitExceededError(
        f"{what} is {actual}; the limit ({limit}) is {allowed}", span, limit=limit
    )
