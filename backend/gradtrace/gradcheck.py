"""The numeric gradient check: central differences of the output for every input element.

[f(x + h) - f(x - h)] / 2h approximates each partial derivative with an
error of order h**2, which is what the lecture uses to test a backward pass.
h is 1e-6 scaled by the element's size. The tolerance allows for the
rounding of f itself (eps * |f| / h), so `ok` is false only where the analytic
gradient and the numeric one truly disagree (at a kink, for example).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradtrace.engine import output_value
from gradtrace.graph import Graph
from gradtrace.limits import Deadline
from gradtrace.values import Value

H = 1e-6
EPS = float(np.finfo(np.float64).eps)


def checked_inputs(graph: Graph) -> list[str]:
    """The inputs whose gradient is checked: all but those named as constants (data)."""
    return [name for name, node in graph.inputs.items() if node not in graph.constant_inputs]


def numeric_check(
    graph: Graph,
    inputs: Mapping[str, Value],
    gradients: Mapping[str, Value],
    value: float,
    deadline: Deadline,
) -> dict[str, dict[str, Any]]:
    """For each checked input: the numeric gradient (input's shape), the largest error and whether it is ok.

    Its cost (two forward passes per checked element) is priced and refused by the cost
    model before anything runs (gradtrace.cost, `max_check_evaluations`).
    """
    rounding = 4.0 * EPS * abs(value) if math.isfinite(value) else 0.0
    result: dict[str, dict[str, Any]] = {}
    shifted = dict(inputs)
    for name in checked_inputs(graph):
        x = inputs[name]
        analytic = np.asarray(gradients[name], dtype=np.float64)
        rows: list[dict[str, Any]] = []
        if isinstance(x, float):
            rows.append(_partial(graph, shifted, name, x, None, deadline))
            numeric: Value = rows[0]["numeric"]
            shifted[name] = x
        else:
            work = np.array(x, dtype=np.float64)
            shifted[name] = work
            out = np.empty_like(work)
            for index in np.ndindex(work.shape):
                rows.append(_partial(graph, shifted, name, work, index, deadline))
                out[index] = rows[-1]["numeric"]
            shifted[name] = x
            numeric = out
        with np.errstate(all="ignore"):
            error = np.abs(np.asarray(numeric) - analytic)
            worst = float(np.max(error))
            scale = float(np.max(np.abs(analytic)))
            h_scale = max(1.0, float(np.max(np.abs(np.asarray(x)))))
            tolerance = 1e-5 + 1e-4 * scale + rounding / (H * h_scale)
        for row, grad in zip(rows, analytic.reshape(-1).tolist(), strict=True):
            _compare(row, grad, tolerance)
        result[name] = {
            "numeric": numeric,
            "max_abs_error": worst,
            "ok": bool(math.isfinite(worst) and worst <= tolerance),
            "tolerance": tolerance,
            "evaluations": 2 * len(rows),
            "elements": rows,
        }
    return result


def _compare(row: dict[str, Any], analytic: float, tolerance: float) -> None:
    """Add the analytic gradient to a row, and how far the central difference is from it.

    The relative error is |analytic - numeric| / max(|analytic|, |numeric|) (0 when
    both are 0), the usual reading of a check; `ok` compares the absolute error
    with the tolerance, which allows for the rounding of f itself.
    """
    numeric = row["numeric"]
    with np.errstate(all="ignore"):
        absolute = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        relative = 0.0 if absolute == 0.0 else float(np.float64(absolute) / np.float64(scale))
    row["analytic"] = analytic
    row["abs_error"] = absolute
    row["relative_error"] = relative
    row["ok"] = bool(math.isfinite(absolute) and absolute <= tolerance)


def _partial(
    graph: Graph,
    shifted: dict[str, Value],
    name: str,
    x: Any,
    index: tuple[int, ...] | None,
    deadline: Deadline,
) -> dict[str, Any]:
    """One element's row of the check: h, f(x + h), f(x - h) and their central difference."""
    deadline.check()
    original = float(x if index is None else x[index])
    h = H * max(1.0, abs(original)) if math.isfinite(original) else H
    if index is None:
        shifted[name] = original + h
        plus = output_value(graph, shifted, deadline)
        shifted[name] = original - h
        minus = output_value(graph, shifted, deadline)
    else:
        x[index] = original + h
        plus = output_value(graph, shifted, deadline)
        x[index] = original - h
        minus = output_value(graph, shifted, deadline)
        x[index] = original
    with np.errstate(all="ignore"):
        numeric = float(np.float64(plus - minus) / np.float64(2.0 * h))
    return {
        "index": [] if index is None else [int(k) for k in index],
        "x": original,
        "h": h,
        "f_plus": plus,
        "f_minus": minus,
        "numeric": numeric,
    }
