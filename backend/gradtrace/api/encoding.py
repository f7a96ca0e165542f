"""JSON bytes for the API and the CLI: orjson, with non-finite numbers written as the contract says.

orjson is fast, but it writes NaN and infinities as `null` and refuses
integers beyond 64 bits. The engine already sends non-finite numbers as the
strings "NaN", "Infinity" and "-Infinity"; `json_safe` makes sure of it for
anything else (an echoed request, a future field), so no float can become a
wrong `null` or a 500.

A large trace is guarded without walking it in Python (the walk would cost
as much as building the trace): it is encoded first, and only if the bytes
hold a `null` where a number could be is it walked and encoded again.
"""

from __future__ import annotations

from typing import Any

import orjson

from gradtrace.limits import paused_gc

_INT64_MAX = 2**63 - 1


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by its contract string; shares what it can.

    Containers are rebuilt only where something inside them changed, so the
    common case (an already safe trace) costs one walk and no copies. The
    walk tests the common leaves (str, float, None) inline, because a large
    trace holds hundreds of thousands of them.
    """
    kind = type(value)
    if kind is dict:
        return _dict(value)
    if kind is list:
        return _list(value)
    if kind is float:
        return value if value - value == 0.0 else _non_finite(value)
    if kind is str or value is None or kind is bool:
        return value
    return _other(value)


def _non_finite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


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


# `x - x == 0.0` is false exactly for NaN and the infinities, and is the cheapest test.
def _list(items: list[Any]) -> list[Any]:
    out: list[Any] | None = None
    for i, item in enumerate(items):
        kind = type(item)
        if kind is float:
            if item - item == 0.0:
                continue
            safe: Any = _non_finite(item)
        elif kind is str or item is None or kind is bool:
            continue
        elif kind is list:
            safe = _list(item)
        elif kind is dict:
            safe = _dict(item)
        else:
            safe = _other(item)
        if safe is not item:
            if out is None:
                out = list(items)
            out[i] = safe
    return items if out is None else out


def _dict(mapping: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] | None = None
    for key, item in mapping.items():
        kind = type(item)
        if kind is float:
            if item - item == 0.0:
                continue
            safe: Any = _non_finite(item)
        elif kind is str or item is None or kind is bool:
            continue
        elif kind is list:
            safe = _list(item)
        elif kind is dict:
            safe = _dict(item)
        else:
            safe = _other(item)
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


#: Keys of a trace whose value may be a genuine null (never a number).
_TRACE_NULLABLE = frozenset({b"op", b"name", b"span", b"check", b"node"})


def dumps_trace(trace: dict[str, Any]) -> bytes:
    """The JSON bytes of a trace dict: as `dumps`, but fast when the trace is already safe."""
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
