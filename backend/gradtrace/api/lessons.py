"""Lessons: the versioned lesson format, its content address, and the endpoints that store them.

A lesson is an ordered list of slides (docs/lessons.md is its reference). It is
validated, written in one canonical JSON form (keys sorted, numbers as floats,
no spaces), and stored under a short id taken from the SHA-256 of that form:
the same lesson always gets the same id, and a stored lesson never changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

import gradtrace
from gradtrace.api.middleware import JSONBytesResponse, error_response
from gradtrace.api.runner import TraceRunner
from gradtrace.api.schemas import ErrorBody, InputName, RequestModel, ValidationErrorBody, Values
from gradtrace.api.settings import Settings
from gradtrace.store import LessonStore, StoreUnavailable

LESSON_VERSION = 1

#: Lowercase base32 without the letters easily misread off a screen (i, l, o, u).
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 8
ID_PATTERN = rf"^[{ID_ALPHABET}]{{{ID_LENGTH},52}}$"


class Slide(RequestModel):
    """One example of a lesson: what to trace, where to start, and what to say about it."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Strict(), Field(min_length=1, max_length=200)]
    note: Annotated[str, Strict(), Field(max_length=4000)] = Field(
        default="",
        description=(
            "What to say about the slide, in a small Markdown subset: paragraphs, "
            "**bold**, *italic*, `code` and lists starting with '- '."
        ),
    )
    expression: Annotated[str, Strict(), Field(min_length=1, max_length=120_000)]
    values: Values = Field(default_factory=dict)
    constants: list[InputName] = Field(
        default_factory=list,
        fail_fast=True,
        description=(
            "Inputs the slide treats as given data rather than as parameters: the quiz "
            "does not ask for their gradients."
        ),
    )
    check: Annotated[bool, Strict()] = Field(default=False, description="Add a gradient check.")
    step: Annotated[int, Strict()] = Field(
        default=0, ge=0, description="The step the slide opens at (clamped to the trace's steps)."
    )
    quiz: Annotated[bool, Strict()] = Field(
        default=False, description="Let the room predict each value and gradient before it shows."
    )


class Lesson(RequestModel):
    """A lesson, format version 1: a title and an ordered list of slides."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "title": "Backpropagation by hand",
                    "slides": [
                        {
                            "title": "The slope of x**3",
                            "note": "At x = 4 the output moves **48 times** as much as x.",
                            "expression": "x**3",
                            "values": {"x": 4},
                        },
                        {
                            "title": "Gradients sum at a branch",
                            "note": "- `+` distributes\n- `max` routes\n- `*` switches",
                            "expression": "(x + y) * max(y, z)",
                            "values": {"x": 1, "y": 2, "z": 0},
                            "step": 5,
                            "quiz": True,
                        },
                    ],
                }
            ]
        },
    )

    version: Literal[1] = Field(description="The lesson format's version; this one is 1.")
    title: Annotated[str, Strict(), Field(min_length=1, max_length=200)]
    # fail_fast: the first bad slide ends the list's validation (each would be an issue).
    slides: list[Slide] = Field(min_length=1, fail_fast=True)


class LessonStored(BaseModel):
    """Where a stored lesson lives."""

    id: str = Field(description="The lesson's short content address.")
    link: str = Field(description="The page's path that opens the lesson.")


# -- the canonical form and its address ----------------------------------------


def canonical_json(lesson: Lesson) -> str:
    """The one JSON text of a lesson that its id is computed from."""
    return json.dumps(
        lesson.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def lesson_ids(canonical: str) -> list[str]:
    """Candidate ids of a lesson, shortest first: prefixes of its digest in ID_ALPHABET.

    The store takes the first that is free or already holds this lesson, so a
    rare clash of two lessons' first characters costs a longer id, not a wrong one.
    """
    digest = hashlib.sha256(canonical.encode()).digest()
    encoded = base64.b32encode(digest).decode().rstrip("=").lower()
    # Standard base32 -> the readable alphabet, letter for letter.
    text = encoded.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz234567", ID_ALPHABET))
    return [text[:n] for n in range(ID_LENGTH, len(text) + 1, 2)]


# -- the rate limit ---------------------------------------------------------------


class RateLimiter:
    """A token bucket per client address: `per_minute` new lessons, refilled evenly.

    It lives in one worker process; the least recently seen addresses are forgotten
    beyond `max_clients`, so the table cannot grow without bound.
    """

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take a token for `client`: 0 when allowed, else the seconds until one is free."""
        now = time.monotonic()
        tokens, then = self.buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens >= 1:
            self.buckets[client] = (tokens - 1, now)
            wait = 0.0
        else:
            self.buckets[client] = (tokens, now)
            wait = (1 - tokens) / self.rate
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait


# -- the endpoints ------------------------------------------------------------------

router = APIRouter(prefix="/api/v1", default_response_class=JSONBytesResponse)


def _detail(type_: str, message: str, limit: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"type": type_, "message": message, "span": None, "line": None, "column": None}
    if limit is not None:
        detail["limit"] = limit
    return detail


def _unavailable(error: StoreUnavailable) -> JSONBytesResponse:
    return error_response(
        503,
        _detail("database_unavailable", f"the lessons' database cannot be used now: {error}"),
        {"Retry-After": "5"},
    )


_STORE_EXAMPLE = Lesson.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]

POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": LessonStored, "description": "The same lesson was stored before: its id."},
    201: {"model": LessonStored, "description": "The lesson is stored under this id."},
    413: {"model": ErrorBody, "description": "The lesson is over max_lesson_bytes (or max_body_bytes)."},
    422: {
        "model": ValidationErrorBody,
        "description": (
            "The body is not a lesson of a known version (FastAPI's `detail` list), or it "
            "has more slides than max_lesson_slides (a `detail` object naming the limit)."
        ),
    },
    429: {
        "model": ErrorBody,
        "description": "This client stored more than lessons_per_minute lessons; Retry-After says when.",
    },
    503: {"model": ErrorBody, "description": "The database cannot be reached (database_unavailable)."},
}


@router.post(
    "/lessons",
    summary="Store a lesson and get its short id",
    response_model=None,
    status_code=201,
    responses=POST_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Lesson"},
                    "examples": {"two-slides": {"summary": "Two slides", "value": _STORE_EXAMPLE}},
                }
            },
        }
    },
)
async def post_lesson(request: Request) -> JSONBytesResponse:
    """Store a lesson under its content address: the same lesson always gets the same id."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    if len(body) > settings.max_lesson_bytes:
        return error_response(
            413,
            _detail(
                "limit_exceeded",
                f"the lesson is {len(body)} bytes, more than the limit (max_lesson_bytes) "
                f"of {settings.max_lesson_bytes} bytes",
                "max_lesson_bytes",
            ),
        )
    # Thousands of slides would hold the event loop for a tenth of a second or more while
    # they are validated, only to be refused: a large body's slides are counted first.
    if len(body) > settings.inline_max_body_bytes:
        count = _slide_count(body)
        if count > settings.max_lesson_slides:
            return _too_many_slides(count, settings)
    try:
        lesson = Lesson.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError([_request_issue(issue) for issue in error.errors(include_url=False)]) from None
    if len(lesson.slides) > settings.max_lesson_slides:
        return _too_many_slides(len(lesson.slides), settings)
    limiter: RateLimiter = request.app.state.lesson_limiter
    wait = limiter.take(request.client.host if request.client else "")
    if wait > 0:
        return error_response(
            429,
            _detail(
                "rate_limited",
                f"this client has stored its {settings.lessons_per_minute} lessons for this "
                "minute (lessons_per_minute); try again in a moment",
                "lessons_per_minute",
            ),
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )
    store: LessonStore = request.app.state.lesson_store
    canonical = canonical_json(lesson)
    try:
        lesson_id, created = await store.put(lesson_ids(canonical), canonical)
    except StoreUnavailable as error:
        return _unavailable(error)
    return JSONBytesResponse(
        {"id": lesson_id, "link": f"/l/{lesson_id}"},
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/lessons/{lesson_id}"},
    )


def _slide_count(body: bytes) -> int:
    """How many slides a lesson's JSON holds, by its top-level list alone (0 if it is not a lesson)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return 0
    slides = data.get("slides") if isinstance(data, dict) else None
    return len(slides) if isinstance(slides, list) else 0


def _too_many_slides(count: int, settings: Settings) -> JSONBytesResponse:
    return error_response(
        422,
        _detail(
            "limit_exceeded",
            f"the lesson has {count} slides, more than the limit "
            f"(max_lesson_slides) of {settings.max_lesson_slides}",
            "max_lesson_slides",
        ),
    )


def _request_issue(issue: Any) -> dict[str, Any]:
    """A validation issue in FastAPI's form: located in the body, its input as JSON can carry it."""
    found = {**issue, "loc": ("body", *issue["loc"])}
    if isinstance(found.get("input"), bytes):  # a body that is not JSON at all
        found["input"] = found["input"].decode("utf-8", errors="replace")[:200]
    return found


LessonId = Annotated[str, Path(pattern=ID_PATTERN, description="The lesson's short id.")]


@router.get(
    "/lessons/{lesson_id}",
    summary="Get a stored lesson",
    response_model=None,
    responses={
        200: {"model": Lesson, "description": "The lesson, in its canonical JSON form."},
        404: {"model": ErrorBody, "description": "No lesson has this id (type not_found)."},
        503: {"model": ErrorBody, "description": "The database cannot be reached."},
    },
)
async def get_lesson(request: Request, lesson_id: LessonId) -> JSONBytesResponse:
    """The lesson stored under this id; it never changes, so it may be cached for good."""
    found = await _stored(request, lesson_id)
    if isinstance(found, JSONBytesResponse):
        return found
    return JSONBytesResponse(
        found.encode(), headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


async def _stored(request: Request, lesson_id: str) -> str | JSONBytesResponse:
    """The canonical JSON of a stored lesson, or the error to answer (404, or 503 without a database)."""
    store: LessonStore = request.app.state.lesson_store
    try:
        text = await store.get(lesson_id)
    except StoreUnavailable as error:
        return _unavailable(error)
    return lesson_not_found(lesson_id) if text is None else text


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "One HTML file that runs the lesson offline: every slide's trace, the player, "
            "KaTeX's fonts and a Content-Security-Policy of its own (docs/export.md)."
        ),
        "content": {"text/html": {"example": "<!doctype html>..."}},
    },
    404: {"model": ErrorBody, "description": "No lesson has this id (type not_found)."},
    422: {
        "model": ErrorBody,
        "description": (
            "A slide cannot be traced, or is over a limit: the trace's error, with `slide` "
            "(its index) beside it. All the slides' traces together are held to one "
            "trace's max_response_bytes and max_seconds."
        ),
    },
    503: {"model": ErrorBody, "description": "The database cannot be reached, or the page is not built (not_built)."},
}


@router.get(
    "/lessons/{lesson_id}/export",
    summary="A stored lesson as one offline HTML file",
    response_model=None,
    response_class=HTMLResponse,
    responses=EXPORT_RESPONSES,
)
async def get_lesson_export(request: Request, lesson_id: LessonId) -> HTMLResponse | JSONBytesResponse:
    """The stored lesson with every slide traced, as a file to download: it runs offline, as the page runs it."""
    from gradtrace.standalone import PlayerNotBuilt, lesson_html

    found = await _stored(request, lesson_id)
    if isinstance(found, JSONBytesResponse):
        return found
    lesson = json.loads(found)
    runner: TraceRunner = request.app.state.runner
    try:
        # Up to max_lesson_slides traces and a whole page: in a trace thread, within one trace's time.
        html = await runner.run(partial(lesson_html, lesson, limits=request.app.state.limits))
    except PlayerNotBuilt as error:
        return error_response(503, _detail("not_built", str(error)))
    except gradtrace.TraceError as error:
        return error_response(422, {**error.to_dict(), "slide": getattr(error, "slide", None)})
    name = re.sub(r"[^a-z0-9]+", "-", lesson["title"].lower()).strip("-") or "lesson"
    return HTMLResponse(html, headers={"content-disposition": f'attachment; filename="{name}.html"'})


def lesson_not_found(lesson_id: str) -> JSONBytesResponse:
    """The 404 of an id that names no stored lesson."""
    return error_response(404, _detail("not_found", f"no lesson is stored under the id {lesson_id!r}"))


def openapi_examples(settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """Response examples for the OpenAPI document, by (path, method) then status."""
    example_id = lesson_ids(canonical_json(Lesson.model_validate(_STORE_EXAMPLE)))[0]
    stored = {"id": example_id, "link": f"/l/{example_id}"}
    too_large = _detail(
        "limit_exceeded",
        f"the lesson is {settings.max_lesson_bytes + 1} bytes, more than the limit "
        f"(max_lesson_bytes) of {settings.max_lesson_bytes} bytes",
        "max_lesson_bytes",
    )
    limited = _detail(
        "rate_limited",
        f"this client has stored its {settings.lessons_per_minute} lessons for this minute "
        "(lessons_per_minute); try again in a moment",
        "lessons_per_minute",
    )
    return {
        ("/api/v1/lessons", "post"): {
            "201": {"stored": {"summary": "A new lesson", "value": stored}},
            "200": {"again": {"summary": "The same lesson again: the same id", "value": stored}},
            "413": {"too-large": {"summary": "Over max_lesson_bytes", "value": {"detail": too_large}}},
            "429": {"rate-limited": {"summary": "Over lessons_per_minute", "value": {"detail": limited}}},
        },
        ("/api/v1/lessons/{lesson_id}", "get"): {
            "200": {"lesson": {"summary": "A stored lesson", "value": _STORE_EXAMPLE}},
            "404": {
                "missing": {
                    "summary": "No such lesson",
                    "value": {"detail": _detail("not_found", "no lesson is stored under the id 'x4k7w2mq'")},
                }
            },
        },
    }
