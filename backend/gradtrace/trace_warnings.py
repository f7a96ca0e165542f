"""The trace's warnings: non-finite numbers where they first appear, ties and kinks, unused names.

Each is {"node": id or None, "kind": ..., "message": ...}; a tie or a kink is
found by its op's own `kink` rule, so a new op with a kink is warned about with
no change here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradtrace.display import format_value
from gradtrace.engine import Run
from gradtrace.graph import Graph


def _first_non_finite(values: list[Any], order: range) -> tuple[int, int]:
    """(first node with a non-finite number, first node with a NaN), -1 when there is none."""
    first = first_nan = -1
    for i in order:
        v = values[i]
        if type(v) is float:
            if v - v == 0.0:
                continue
            bad, nan = True, v != v
        else:
            with np.errstate(all="ignore"):
                finite = np.isfinite(v)
                if bool(np.all(finite)):
                    continue
                bad, nan = True, bool(np.any(np.isnan(v)))
        if bad and first < 0:
            first = i
        if nan:
            first_nan = i
            break
    return first, first_nan


def _sum_is_finite(numbers: list[float]) -> bool:
    """One C-level pass that clears the common case: a finite sum has no NaN or infinity in it."""
    total = sum(numbers)
    return total - total == 0.0


def collect_warnings(graph: Graph, run: Run, reaches: list[bool]) -> list[dict[str, Any]]:
    """Non-finite numbers (where they first appear), ties and kinks, unused inputs and names."""
    warnings: list[dict[str, Any]] = []
    values = run.values
    scalar = graph.scalar
    if not (scalar and _sum_is_finite(values)):
        first, first_nan = _first_non_finite(values, range(graph.size))
        if first >= 0:
            warnings.append(_non_finite(graph, first, "value", values[first]))
            if first_nan >= 0 and first_nan != first:
                warnings.append(_non_finite(graph, first_nan, "value", values[first_nan], first))
    grads = run.grads
    if not (scalar and _sum_is_finite(grads)):
        # Backward runs in reverse order: the first non-finite gradient it computed.
        first = -1
        for i in range(graph.size - 1, -1, -1):
            g = grads[i]
            if graph.kind[i] == "constant" or i in graph.constant_inputs:
                continue  # data needs no gradient: whatever the engine found there is unused
            if type(g) is float:
                if g - g != 0.0:
                    first = i
                    break
            elif not bool(np.all(np.isfinite(g))):
                first = i
                break
        if first >= 0:
            warnings.append(_non_finite(graph, first, "gradient", grads[first]))
    with np.errstate(all="ignore"):
        kinks = [
            (i, op.kink(*[values[a] for a in args])) for i, op, args, _ in graph.ops if op.kink is not None
        ]
    for i, found in kinks:
        if found is not None:
            warnings.append({"node": f"n{i}", "kind": found[0], "message": found[1]})
    shapes = graph.shape
    for i, op, args, _ in graph.ops:
        note = op.note(*[shapes[a] for a in args]) if op.note is not None else None
        if note is not None:
            warnings.append({"node": f"n{i}", "kind": "no_effect", "message": note})
    for name in graph.unused_values:
        if name in graph.index_inputs:
            continue  # read as an index (p[y]): used, as data
        warnings.append(
            {
                "node": None,
                "kind": "unused_input",
                "message": f"'{name}' is given in values but the expression does not use it",
            }
        )
    unreached = [] if all(reaches) else [i for i, reached in enumerate(reaches) if not reached]
    for name, node in graph.inputs.items() if unreached else ():
        if not reaches[node]:
            warnings.append(
                {
                    "node": f"n{node}",
                    "kind": "unused_input",
                    "message": f"'{name}' does not affect the output, so its gradient is 0",
                }
            )
    names = graph.name
    for i in unreached:
        assigned = names[i]
        if assigned is not None and graph.kind[i] != "input":
            warnings.append(
                {
                    "node": f"n{i}",
                    "kind": "unused_value",
                    "message": f"'{assigned}' is computed but does not reach the output, so its gradient is 0",
                }
            )
    return warnings


def _non_finite(graph: Graph, i: int, what: str, v: Any, after: int = -1) -> dict[str, Any]:
    """A warning for the first non-finite value or gradient, or (after >= 0) for the
    first NaN of the forward pass that follows an infinity at node `after`."""
    shown = format_value(v) if isinstance(v, float) or np.size(v) <= 4 else "a non-finite number"
    start, end = graph.span[i]
    where: str = graph.name[i] or graph.expression[start : min(end, start + 30)]
    if after >= 0:
        # inf - inf or 0 * inf: the infinity was the first non-finite value, this is the first NaN.
        first = f"the first NaN (not a number) in the forward pass (its first non-finite value is n{after}'s, above)"
    else:
        first = f"the first non-finite {what} in the {'forward' if what == 'value' else 'backward'} pass"
        if isinstance(v, float) and v != v:
            first += " (NaN: not a number)"
    return {"node": f"n{i}", "kind": "non_finite", "message": f"the {what} of {where} (n{i}) is {shown}: {first}"}
