"""Read a request's body: JSON, then the request model, with a bounded list of what is wrong.

FastAPI would validate the body on the event loop and list every problem, each echoing
its input: a 720 KB body of 240,000 bad list entries was answered with a 59 MB list,
built in seconds while every other request waited. Here the body is read by the route
(in a trace thread when it is over `inline_max_body_bytes`), lists and dicts stop at their
first bad element, and the 422 keeps FastAPI's form ({"detail": [{"type", "loc", "msg", ...}]}) with at
most `max_request_errors` issues, then one that counts the rest. An issue carries its
`input` only when that is a short scalar or string, never a large value.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gradtrace.api.schemas import TraceRequest

#: An input longer than this (as text) is not echoed back.
MAX_ECHO_CHARS = 64

M = TypeVar("M", bound=BaseModel)


class RequestInvalid(Exception):
    """A body that is not a valid trace request: `issues` in FastAPI's 422 form."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(issues)} issues")
        self.issues = issues


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _short(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= MAX_ECHO_CHARS


def issue(error: Any, prefix: tuple[str | int, ...] = ("body",)) -> dict[str, Any]:
    """One pydantic error as a FastAPI issue, its input and context kept only when short."""
    issue: dict[str, Any] = {
        "type": error["type"],
        "loc": [*prefix, *error["loc"]],
        "msg": error["msg"],
    }
    if "input" in error and _short(error["input"]):
        issue["input"] = error["input"]
    context = error.get("ctx")
    if context and all(_short(v) for v in context.values()):
        issue["ctx"] = dict(context)
    return issue


def bounded_issues(issues: list[dict[str, Any]], total: int, max_errors: int) -> list[dict[str, Any]]:
    """The first max_errors issues, then one that counts the others."""
    kept = issues[:max_errors]
    if total > len(kept):
        kept.append(
            {
                "type": "too_many_errors",
                "loc": ["body"],
                "msg": f"{total - len(kept)} more issues are not listed (at most {max_errors} are)",
            }
        )
    return kept


def read_trace_request(raw: bytes, content_type: str | None, max_errors: int) -> TraceRequest:
    """The trace request in `raw`, or RequestInvalid with at most max_errors + 1 issues."""
    return read_request(TraceRequest, raw, content_type, max_errors)


def read_request(model: type[M], raw: bytes, content_type: str | None, max_errors: int) -> M:
    """The request in `raw` as `model`, or RequestInvalid with at most max_errors + 1 issues."""
    if not _is_json(content_type):
        raise RequestInvalid(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from "
                    "(send JSON, with Content-Type: application/json)",
                }
            ]
        )
    if not raw.strip():
        raise RequestInvalid([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
    try:
        # Python's reader, as FastAPI's: NaN, Infinity, 1e400 and huge integers are read,
        # so that the model refuses them at their place (values.x) rather than as bad JSON.
        data = json.loads(raw)
    # ValueError: also an integer of more digits than Python converts (4300).
    except (ValueError, RecursionError) as error:
        raise RequestInvalid(
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", getattr(error, "pos", 0)],
                    "msg": "JSON decode error",
                    "ctx": {"error": str(getattr(error, "msg", error))[:MAX_ECHO_CHARS]},
                }
            ]
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        total = error.error_count()
        # errors() builds every issue: cheap now that lists and dicts stop at their first bad
        # element and a flood of unknown fields is one issue, and done in a thread for any large body.
        found = error.errors(include_url=False)
        raise RequestInvalid(bounded_issues([issue(e) for e in found[:max_errors]], total, max_errors)) from None
