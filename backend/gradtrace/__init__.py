"""gradtrace: trace an expression's forward and backward pass, edge by edge.

    import gradtrace
    t = gradtrace.trace("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0})
    t.value, t.gradients["y"]        # 6.0, 5.0
    t.to_dict()                      # the JSON body of POST /api/v1/trace
    t                                # in a notebook: the interactive player
    gradtrace.show(t)                # the player, from anywhere in a cell
    gradtrace.lesson("week3.lesson.json")   # in a notebook: the lesson's player
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gradtrace.cost import Cost, enforce, estimate
from gradtrace.engine import run
from gradtrace.errors import (
    AssignmentError,
    InvalidValueError,
    LimitExceededError,
    OutputNotScalarError,
    ShapeError,
    SyntaxTraceError,
    TraceError,
    UndefinedNameError,
    UnknownFunctionError,
)
from gradtrace.gradcheck import numeric_check
from gradtrace.graph import Graph, build_graph, mark_constants
from gradtrace.limits import Deadline, Limits, without_gc
from gradtrace.ops import describe_ops
from gradtrace.parser import parse
from gradtrace.slope import DEFAULT_NUDGE, DEFAULT_POINTS, sample_slope
from gradtrace.trace import Trace
from gradtrace.values import Value, coerce_values

__version__ = "0.1.0"

__all__ = [
    "AssignmentError",
    "InvalidValueError",
    "LimitExceededError",
    "Limits",
    "OutputNotScalarError",
    "Plan",
    "ShapeError",
    "SyntaxTraceError",
    "Trace",
    "TraceError",
    "UndefinedNameError",
    "UnknownFunctionError",
    "__version__",
    "by_hand",
    "describe_ops",
    "jacobian",
    "lesson",
    "plan",
    "show",
    "slope",
    "trace",
]


class Plan:
    """A trace parsed, lowered and priced by the cost model, not computed yet (see `plan`)."""

    def __init__(
        self,
        graph: Graph,
        inputs: dict[str, Value],
        check: bool,
        limits: Limits,
        cost: Cost,
        deadline: Deadline,
    ) -> None:
        self.graph = graph
        self.inputs = inputs
        self.check = check
        self.limits = limits
        self.cost = cost
        self.deadline = deadline

    @without_gc
    def run(self) -> Trace:
        """Forward, backward, the Trace record and, if asked, the numeric check."""
        graph, inputs, applied, deadline = self.graph, self.inputs, self.limits, self.deadline
        numbers = run(graph, inputs, deadline)
        result = Trace(graph, numbers, None, None, applied.max_local_elements, deadline)
        if self.check:
            gradients = {name: result.gradients[name] for name in graph.inputs}
            result.check = numeric_check(graph, inputs, gradients, result.value, deadline)
        return result


@without_gc
def plan(
    expression: str,
    values: Mapping[str, Any],
    check: bool = False,
    limits: Limits | None = None,
    constants: Iterable[str] = (),
) -> Plan:
    """Parse, lower and price a trace without computing anything; `.run()` computes it.

    Raises a TraceError for anything that cannot be traced, and a limit_exceeded
    for a trace over one of the cost model's budgets (see gradtrace.cost), before
    any op runs. The deadline (`max_seconds`) starts here.
    """
    if not isinstance(expression, str):
        raise SyntaxTraceError("the expression must be a string")
    applied = limits if limits is not None else Limits.unlimited()
    deadline = applied.deadline()
    program = parse(
        expression, applied.max_depth, applied.max_statements, applied.max_expression_length
    )
    inputs = coerce_values(program, values, applied)
    graph = build_graph(expression, program, inputs, applied)
    if isinstance(constants, str):
        raise InvalidValueError("constants must be a list of input names, not one string")
    mark_constants(graph, constants, inputs)
    cost = estimate(graph, inputs, check, applied.max_local_elements)
    enforce(cost, applied)
    return Plan(graph, inputs, check, applied, cost, deadline)


def trace(
    expression: str,
    values: Mapping[str, Any],
    check: bool = False,
    limits: Limits | None = None,
    constants: Iterable[str] = (),
) -> Trace:
    """Trace `expression` at `values`: forward, backward, every edge's numbers, and warnings.

    `constants` names inputs that are data (a loss's target): like number
    literals they need no gradient, so their nodes are marked `constant`, no
    warning is raised for their gradients and the check skips them.

    `limits=None` applies no limit but the nesting depth (Python's stack);
    the server passes `Limits()` or its own. Its `max_seconds` is a cooperative
    deadline that starts here and also covers the returned Trace's `to_dict()`. Raises a TraceError subclass for
    anything that cannot be traced; non-finite results are reported, not raised.
    """
    return plan(expression, values, check, limits, constants).run()



def slope(
    expression: str,
    values: Mapping[str, Any],
    of: str,
    index: list[int] | tuple[int, ...] | None = None,
    *,
    points: int = DEFAULT_POINTS,
    radius: float | None = None,
    nudge: float = DEFAULT_NUDGE,
    limits: Limits | None = None,
    constants: Iterable[str] = (),
) -> dict[str, Any]:
    """The output against `of` (an input, an assigned name or a node id) near its traced value.

    For a vector or matrix, `index` picks the element that moves. Returns the
    samples, the tangent whose slope is the traced gradient, and the nudge
    (f(1.01) against f(1) + 0.01 f'(1)), as the body of POST /api/v1/slope.
    """
    result = trace(expression, values, limits=limits, constants=constants)
    return sample_slope(result, of, index, points=points, radius=radius, nudge=nudge, limits=limits)


def jacobian(
    expression: str,
    values: Mapping[str, Any],
    constants: Iterable[str] = (),
    modes: Iterable[str] | None = None,
    limits: Limits | None = None,
) -> Any:
    """The full Jacobian of the output (which may hold many numbers) by reverse and forward mode.

    Reverse mode makes one backward pass per output element (row i seeded with
    e_i), forward mode one tangent pass per input element (column j seeded with
    e_j); `modes` picks ["reverse"], ["forward"] or both (None). Returns a
    gradtrace.jacobians.Jacobian: `.matrix` (m x n), `.blocks` per input (output
    shape + input shape), the passes, the counted costs of each mode, and
    `.to_dict()`, the body of POST /api/v1/jacobian.
    """
    from gradtrace.jacobians import jacobian as compute

    return compute(expression, values, constants, modes, limits)


def by_hand(
    expression: str,
    values: Mapping[str, Any],
    of: str | list[str] | None = None,
    max_paths: int = 16,
    limits: Limits | None = None,
    constants: Iterable[str] = (),
) -> dict[str, Any]:
    """The lecture's derivation "by hand" of the output's gradient, path by path.

    `of` names an input or a named intermediate (or a list of them; None: all).
    Returns the JSON body of POST /api/v1/by-hand: per variable, every path from
    the output down to it as a product of local Jacobians (names, closed forms,
    numbers), their sum, the shared δ nodes, and both shapes of the answer.
    `constants` names inputs that are data, as for `trace`: they are not derived.
    """
    from gradtrace.derivation import derive

    names = [of] if isinstance(of, str) else of
    record = trace(expression, values, limits=limits, constants=constants).to_dict()
    try:
        return derive(record, names, max_paths)
    except TraceError as error:
        raise error.locate(expression) from None


def lesson(source: Mapping[str, Any] | str | Path) -> Any:
    """A lesson (docs/lessons.md) from its JSON form or its file, every slide traced.

    As a notebook cell's last value (or through `show`) it is the lesson's
    player. Raises ValueError for what is not a lesson, and the TraceError of
    the first slide that cannot be traced (its `slide` attribute says which).
    """
    from gradtrace import notebook

    return notebook.load_lesson(source)


def show(
    trace: Any,
    values: Mapping[str, Any] | None = None,
    check: bool = False,
    height: int = 640,
) -> None:
    """Show the interactive player for a Trace, a lesson (or an expression and its values) in a notebook.

    See gradtrace.notebook, which is imported only here: the engine needs none of it.
    """
    from gradtrace import notebook

    notebook.show(trace, values, check=check, height=height)
