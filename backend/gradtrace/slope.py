"""The slope view's numbers: the output against one input or intermediate, near its value.

The lecture reads a gradient as a slope: for f(x) = x**3 at x = 1, f changes
about 3 times as much as x does, 1.01**3 = 1.030301 against
f(1) + 0.01 * f'(1) = 1.03. `slope()` samples the output while one number of
the program moves (an input, a named intermediate, or one element of either)
and everything that does not depend on it keeps its traced value; it returns
those samples, the tangent whose slope is the traced gradient, and that nudge.

The work is bounded: at most MAX_POINTS samples, each one forward pass from
the moved node on, priced against the same budget as the numeric check
(`max_check_evaluations`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrace.errors import InvalidValueError, limit_exceeded
from gradtrace.graph import Graph
from gradtrace.limits import Limits

if TYPE_CHECKING:
    from gradtrace.trace import Trace

MAX_POINTS = 201
DEFAULT_POINTS = 41
DEFAULT_NUDGE = 0.01


def find_node(graph: Graph, of: str) -> int:
    """The node `of` names: an input, a name the program assigns, or a node id ("n3")."""
    if of in graph.inputs:
        return graph.inputs[of]
    for i, name in enumerate(graph.name):
        if name == of:
            return i
    if of.startswith("n") and of[1:].isdigit() and int(of[1:]) < graph.size:
        return int(of[1:])
    names = sorted(set(graph.inputs) | {n for n in graph.name if n is not None})
    raise InvalidValueError(
        f"'{of}' is neither an input, a name the program assigns, nor a node id "
        f"(the names here: {', '.join(names) or 'none'})"
    )


def _element(graph: Graph, node: int, index: Iterable[int] | None, of: str) -> tuple[int, ...] | None:
    """The element of the node that moves: None for a scalar, a full index otherwise."""
    shape = graph.shape[node]
    if not shape:
        if index:
            raise InvalidValueError(f"'{of}' is a scalar: give no index")
        return None
    if index is None:
        raise InvalidValueError(
            f"'{of}' has shape [{', '.join(map(str, shape))}]: say which element moves with "
            f"index (for example [{', '.join('0' for _ in shape)}])"
        )
    element = tuple(int(k) for k in index)
    if len(element) != len(shape) or not all(0 <= k < n for k, n in zip(element, shape, strict=True)):
        raise InvalidValueError(
            f"index {list(element)} is not an element of '{of}', whose shape is "
            f"[{', '.join(map(str, shape))}]"
        )
    return element


def output_with(graph: Graph, values: list[Any], node: int, value: Any) -> float:
    """The output when `node` holds `value`: the forward pass again from that node on.

    Nodes before it in topological order cannot depend on it, so they keep
    their traced values; every op after it is evaluated again in order.
    """
    pinned = list(values)
    pinned[node] = value
    with np.errstate(all="ignore"):
        for i in range(node + 1, graph.size):
            op = graph.op[i]
            if op is not None:
                pinned[i] = op.forward(*[pinned[a] for a in graph.args[i]])
    return float(np.reshape(pinned[graph.output], -1)[0])


def _moved(values: list[Any], node: int, element: tuple[int, ...] | None, x: float) -> Any:
    if element is None:
        return x
    array = np.array(values[node], dtype=np.float64)
    array[element] = x
    return array


def sample_slope(
    result: Trace,
    of: str,
    index: Iterable[int] | None = None,
    points: int = DEFAULT_POINTS,
    radius: float | None = None,
    nudge: float = DEFAULT_NUDGE,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """The samples, tangent and nudge of one number of a traced program (floats, maybe not finite)."""
    applied = limits if limits is not None else Limits.unlimited()
    graph, values, grads, clock = result.graph, result.run.values, result.run.grads, result.deadline
    node = find_node(graph, of)
    element = _element(graph, node, index, of)
    if not 3 <= points <= MAX_POINTS:
        raise InvalidValueError(f"points is {points}: it must be between 3 and {MAX_POINTS}")
    if not (math.isfinite(nudge) and nudge > 0.0):
        raise InvalidValueError(f"nudge is {nudge}: it must be a positive number")
    at = float(values[node] if element is None else np.asarray(values[node])[element])
    gradient = float(grads[node] if element is None else np.asarray(grads[node])[element])
    if not math.isfinite(at):
        raise InvalidValueError(f"'{of}' is {at} here: a slope needs a finite value to move around")
    if radius is None:
        radius = 0.5 * max(1.0, abs(at))
    if not (math.isfinite(radius) and radius > 0.0):
        raise InvalidValueError(f"radius is {radius}: it must be a positive number")
    # Each sample is a forward pass over the nodes after the moved one, as big as its numbers.
    per_pass = max(1, sum(math.prod(graph.shape[i]) for i in range(node, graph.size)))
    cost = (points + 2) * per_pass
    budget = applied.max_check_evaluations
    if budget is not None and cost > budget:
        raise limit_exceeded(
            "max_check_evaluations",
            f"the slope's {points + 2} forward passes",
            f"{cost} evaluations (nodes or numbers)",
            budget,
        )
    # With an odd count the middle sample is the traced point itself.
    middle = (points - 1) / 2
    xs = [at + radius * (k - middle) / middle for k in range(points)]
    fs = []
    for x in xs:
        clock.check()
        fs.append(output_with(graph, values, node, _moved(values, node, element, x)))
    value = output_with(graph, values, node, _moved(values, node, element, at))
    nudged = output_with(graph, values, node, _moved(values, node, element, at + nudge))
    linear = value + nudge * gradient
    return {
        "of": of,
        "node": f"n{node}",
        "index": None if element is None else list(element),
        "at": at,
        "value": value,
        "gradient": gradient,
        "radius": radius,
        "points": points,
        "evaluations": points + 2,
        "samples": {"x": xs, "f": fs},
        "tangent": {"slope": gradient, "intercept": value - gradient * at},
        "nudge": {
            "h": nudge,
            "x": at + nudge,
            "f": nudged,
            "linear": linear,
            "difference": nudged - linear,
            "text": _nudge_text(graph, node, of, element, at, nudge, nudged, value, gradient, linear),
        },
    }


def _digits(v: float) -> str:
    """Up to 10 significant digits: the nudge's point is in the digits where f and its tangent part."""
    return format(v, ".10g")


def _nudge_text(
    graph: Graph,
    node: int,
    of: str,
    element: tuple[int, ...] | None,
    at: float,
    h: float,
    nudged: float,
    value: float,
    gradient: float,
    linear: float,
) -> str:
    """The lecture's sentence in this program's numbers: f(1.01) = 1.030301, against 1.03."""
    out = graph.name[graph.output] or "f"
    moved = of if element is None else f"{of}[{', '.join(map(str, element))}]"
    tail = f"{_digits(value)} + {_digits(h)} · {_digits(gradient)} = {_digits(linear)}"
    if list(graph.inputs) == [of] and node == graph.inputs[of] and element is None:
        # A function of one input, written as the lecture writes it.
        return (
            f"{out}({_digits(at + h)}) = {_digits(nudged)}, against "
            f"{out}({_digits(at)}) + {_digits(h)} · {out}'({_digits(at)}) = {tail}"
        )
    return (
        f"{out} with {moved} = {_digits(at + h)}: {_digits(nudged)}, against "
        f"{out} + {_digits(h)} · ∂{out}/∂{moved} = {tail}"
    )
