"""JSON bytes for the API and the CLI: orjson, with non-finite numbers written as the contract says.

orjson is fast enough that a 10,000-node trace spends little of its time here,
but it writes NaN and infinities as `null` and refuses integers beyond 64
bits. The engine already sends non-finite numbers as the strings "NaN",
"Infinity" and "-Infinity"; `json_safe` makes sure of it for anything else
(an echoed request, a future field), so no float can become a wrong `null`
or a 500.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

_INT64_MAX = 2**63 - 1


def _number(value: float) -> float | str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by its contract string; shares what it can.

    Containers are rebuilt only where something inside them changed, so the
    common case (an already safe trace) costs one walk and no copies.
    """
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else _number(value)
    if kind is int:
        if -_INT64_MAX <= value <= _INT64_MAX:
            return value
        try:
            return float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            safe = json_safe(item)
            if safe is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = safe
        return value if changed is None else changed
    if kind is list or kind is tuple:
        out: list[Any] | None = None
        for i, item in enumerate(value):
            safe = json_safe(item)
            if safe is not item:
                if out is None:
                    out = list(value)
                out[i] = safe
        if out is not None:
            return out
        return value if kind is list else list(value)
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return json_safe(value.tolist())
    if isinstance(value, float):  # float subclasses, such as numpy.float64
        return json_safe(float(value))
    if isinstance(value, int):
        return json_safe(int(value))
    return value


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of `value`, non-finite numbers as strings."""
    return orjson.dumps(json_safe(value))
