"""The one JSON conversion, shared by the API and the CLI: numbers and bytes as the contract says.

Every number of a trace is a JSON number or one of the strings "NaN",
"Infinity" and "-Infinity". `json_number` and `json_value` make them so while
`Trace.to_dict()` builds the body, once. The bytes come from orjson, which is
fast but writes NaN and infinities as `null` and refuses integers beyond 64
bits: `json_safe` makes anything else (an echoed request, a future field) safe,
and `dumps_trace` guards a trace's body without walking it in Python (the walk
would cost as much as building it): it is encoded first, and walked and
encoded again only if the bytes hold a `null` where a number could be.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from gradtrace.limits import paused_gc


def json_number(v: float) -> float | str:
    """A float as JSON wants it: itself if finite, else "NaN", "Infinity" or "-Infinity"."""
    if v - v == 0.0:
        return v
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def json_value(v: Any) -> Any:
    """A float or a float64 array as plain JSON: a number or nested lists of numbers."""
    if type(v) is float:
        return json_number(v)
    array = np.asarray(v, dtype=np.float64)
    if array.ndim == 0:
        return json_number(float(array))
    if bool(np.isfinite(array).all()):
        return array.tolist()
    return _replace_non_finite(array.tolist())


def json_numbers(numbers: list[float]) -> list[float | str]:
    """Floats as JSON wants them; the list itself when all are finite (only read, never changed)."""
    # A sum is finite only if every term is (an overflow to infinity just takes the
    # long way); v - v is 0.0 exactly for finite floats.
    total = sum(numbers)
    if total - total == 0.0:
        return numbers  # type: ignore[return-value]
    return [v if v - v == 0.0 else json_number(v) for v in numbers]


def _replace_non_finite(items: Any) -> Any:
    """Nested lists of any depth (Jacobians have up to 4 axes), non-finite floats as strings."""
    if isinstance(items, list):
        return [_replace_non_finite(item) for item in items]
    return json_number(items)


_INT64_MAX = 2**63 - 1


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by its contract string; shares what it can.

    Containers are rebuilt only where something inside them changed, so the
    common case (an already safe value) costs one walk and no copies.
    """
    kind = type(value)
    if kind is dict:
        return _dict(value)
    if kind is list:
        return _list(value)
    if kind is float:
        return value if value - value == 0.0 else json_number(value)
    if kind is str or value is None or kind is bool:
        return value
    return _other(value)


def _other(value: Any) -> Any:
    """Leaves and containers that are rare in a trace: big ints, tuples, numpy values."""
    kind = type(value)
    if kind is int:
        if -_INT64_MAX <= value <= _INT64_MAX:
            return value
        try:  # orjson refuses integers beyond 64 bits
            return float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if kind is tuple:
        return _list(list(value))
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return json_safe(value.tolist())
    if isinstance(value, float):
        return json_safe(float(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return _other(int(value))
    return value


def _list(items: list[Any]) -> list[Any]:
    out: list[Any] | None = None
    for i, item in enumerate(items):
        safe = json_safe(item)
        if safe is not item:
            if out is None:
                out = list(items)
            out[i] = safe
    return items if out is None else out


def _dict(mapping: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] | None = None
    for key, item in mapping.items():
        safe = json_safe(item)
        if safe is not item:
            if out is None:
                out = dict(mapping)
            out[key] = safe
    return mapping if out is None else out


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of `value`, non-finite numbers as strings."""
    return orjson.dumps(json_safe(value))


def script_json(value: Any) -> str:
    """`value` as JSON text to embed in a <script type="application/json"> element.

    `<`, `>` and `&` are written as JSON escapes, so no text inside (a label,
    an expression) can close the element or open a comment.
    """
    text = dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: Keys of a trace whose value may be a genuine null (never a number): `local` is
#: null where a Jacobian is too large to send.
_TRACE_NULLABLE = frozenset({b"op", b"name", b"span", b"check", b"node", b"local"})


def dumps_trace(trace: dict[str, Any]) -> bytes:
    """The JSON bytes of a trace dict (`Trace.to_dict()`), non-finite numbers already strings."""
    with paused_gc():
        return _dumps_trace(trace)


def _dumps_trace(trace: dict[str, Any]) -> bytes:
    # Gradients are keyed by input names, which may equal a nullable key: walk them
    # (they are as small as the inputs).
    guarded = {**trace, "gradients": json_safe(trace.get("gradients"))}
    try:
        body = orjson.dumps(guarded)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, or a numpy value
        return dumps(trace)
    if _may_hide_a_number(body):
        return dumps(trace)
    return body


def _may_hide_a_number(body: bytes) -> bool:
    """Whether a `null` in `body` stands where orjson may have written a NaN or infinity.

    In JSON a value follows `[`, `,` or `:`; a null in a list, or after a key that
    is not known to be nullable, may be a non-finite float. (A null inside a
    string only costs a needless second pass.)
    """
    find = body.find
    position = find(b"null")
    while position != -1:
        before = body[position - 1]
        if before == 0x5B or before == 0x2C:  # "[" or ","
            return True
        if before == 0x3A:  # ":"
            start = body.rfind(b'"', 0, position - 2)
            if body[start + 1 : position - 2] not in _TRACE_NULLABLE:
                return True
        position = find(b"null", position + 4)
    return False
