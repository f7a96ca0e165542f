"""Assemble the FastAPI application: routers, error handlers, the page, static files and headers.

Everything that does not change while the server runs (the engine's limits,
the examples and ops as JSON, the page's embedded data) is built here once.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

import gradtrace
from gradtrace import __version__
from gradtrace.api import docs, lessons, metrics, probes, static
from gradtrace.api.bodies import RequestInvalid, bounded_issues, issue
from gradtrace.api.encoding import dumps, json_safe, script_json
from gradtrace.api.logs import RequestLogMiddleware
from gradtrace.api.middleware import (
    BodySizeLimitMiddleware,
    HeadAsGetMiddleware,
    JSONBytesResponse,
    SecurityHeadersMiddleware,
    error_response,
    http_error_detail,
    security_headers,
)
from gradtrace.api.routes import BODY_MODELS, router
from gradtrace.api.runner import ServiceUnavailable, TraceRunner
from gradtrace.api.sending import PendingBytes
from gradtrace.api.settings import Settings
from gradtrace.examples import examples
from gradtrace.ops import describe_constants, describe_ops
from gradtrace.store import LessonStore, StoreUnavailable

logger = logging.getLogger("gradtrace")

DESCRIPTION = """\
Trace an expression's forward and backward pass, edge by edge: every node's
value and gradient, and on every edge the upstream gradient, the local
gradient (Jacobian) and the downstream gradient.

Numbers in a trace are JSON numbers, or the strings "NaN", "Infinity" and
"-Infinity". Errors are 4xx with a JSON body, never a 5xx: a 422 whose
`detail` says what is wrong and where (type, message, span, line, column, and
the name of the limit that was reached), a 413 for a body over
max_body_bytes, and a 503 with Retry-After when the server is saturated.
"""


def _page_context(
    settings: Settings, example_list: list[dict[str, Any]], **extra: Any
) -> dict[str, str]:
    """The data the page shell carries so that its first view needs no extra round trip."""
    data = {
        "version": __version__,
        "examples": example_list,
        "limits": settings.page_limits(),
        "ops": describe_ops(),  # the registry, as GET /api/v1/ops sends it
        "constants": describe_constants(),  # pi and e, for the reference card and the value boxes
        **extra,
    }
    return {"page_data": script_json(data), "version": __version__}


def _openapi_examples(limits: Any, settings: Settings) -> dict[str, Any]:
    """Response examples computed by the engine itself, so they are never out of date."""
    trace_ok = json_safe(gradtrace.trace("x**3", {"x": 4}, limits=limits).to_dict())
    try:
        gradtrace.trace("x + * y", {"x": 1, "y": 2}, limits=limits)
        syntax: dict[str, Any] = {}
    except gradtrace.TraceError as error:
        syntax = {"detail": error.to_dict()}
    try:
        gradtrace.trace("W @ x", {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 2]}, limits=limits)
        shapes: dict[str, Any] = {}
    except gradtrace.TraceError as error:
        shapes = {"detail": error.to_dict()}
    busy = ServiceUnavailable(
        "busy",
        f"{settings.max_queued_traces} traces are already waiting; the limit "
        f"(max_queued_traces) is {settings.max_queued_traces}. Try again in a moment.",
        "max_queued_traces",
        settings.retry_after_seconds(),
    )
    return {
        "200": {"cube": {"summary": "x**3 at x = 4", "value": trace_ok}},
        "422": {
            "syntax": {"summary": "A syntax error", "value": syntax},
            "shapes": {"summary": "Shapes that do not fit", "value": shapes},
            "request": {
                "summary": "A boolean is not a number (FastAPI's form)",
                "value": {
                    "detail": [
                        {
                            "type": "float_type",
                            "loc": ["body", "values", "x", "float"],
                            "msg": "Input should be a valid number",
                            "input": True,
                        }
                    ]
                },
            },
        },
        "413": {
            "too-large": {
                "summary": "A body over max_body_bytes",
                "value": {
                    "detail": {
                        "type": "limit_exceeded",
                        "message": "the request body is larger than the limit (max_body_bytes) "
                        f"of {settings.max_body_bytes} bytes",
                        "span": None,
                        "line": None,
                        "column": None,
                        "limit": "max_body_bytes",
                    }
                },
            }
        },
        "503": {"busy": {"summary": "Too many traces waiting", "value": {"detail": busy.to_dict()}}},
    }


def _add_request_schemas(schema: dict[str, Any]) -> None:
    """The request models among the components: their routes read their bodies themselves (routes.py)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in BODY_MODELS:
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(found.pop("$defs", {}))
        components[model.__name__] = found


def _install_openapi(app: FastAPI, limits: Any, settings: Settings, example_list: list[Any]) -> None:
    """Build the OpenAPI document once, with the examples put where Swagger UI shows them."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _add_request_schemas(schema)
        trace_responses = schema["paths"]["/api/v1/trace"]["post"]["responses"]
        for status, found in _openapi_examples(limits, settings).items():
            trace_responses[status]["content"]["application/json"]["examples"] = found
        paths = schema["paths"]
        slope_ok = json_safe(gradtrace.slope("x**3", {"x": 1}, "x", points=5, limits=limits))
        paths["/api/v1/slope"]["post"]["responses"]["200"]["content"]["application/json"][
            "examples"
        ] = {"cube": {"summary": "x**3 at x = 1, five samples", "value": slope_ok}}
        paths["/api/v1/examples"]["get"]["responses"]["200"]["content"]["application/json"][
            "example"
        ] = example_list[:2]
        paths["/api/v1/ops"]["get"]["responses"]["200"]["content"]["application/json"][
            "example"
        ] = json_safe(describe_ops()[:2])
        paths["/api/v1/health"]["get"]["responses"]["200"]["content"]["application/json"][
            "example"
        ] = {"status": "ok"}
        for (path, method), by_status in lessons.openapi_examples(settings).items():
            responses = paths[path][method]["responses"]
            for status, found in by_status.items():
                responses[status]["content"]["application/json"]["examples"] = found
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(
    app: FastAPI, settings: Settings, headers: list[tuple[bytes, bytes]]
) -> None:
    async def on_trace_error(request: Request, error: Exception) -> JSONBytesResponse:
        assert isinstance(error, gradtrace.TraceError)
        return error_response(422, error.to_dict())

    async def on_unavailable(request: Request, error: Exception) -> JSONBytesResponse:
        assert isinstance(error, ServiceUnavailable)
        return error_response(503, error.to_dict(), {"Retry-After": str(error.retry_after)})

    async def on_request_invalid(request: Request, error: Exception) -> JSONBytesResponse:
        # FastAPI's own form, at most max_request_errors issues, large inputs not echoed.
        assert isinstance(error, RequestValidationError)
        found = list(error.errors())
        issues = bounded_issues(
            [issue(e, ()) for e in found[: settings.max_request_errors]],
            len(found),
            settings.max_request_errors,
        )
        return JSONBytesResponse({"detail": jsonable_encoder(issues)}, status_code=422)

    async def on_body_invalid(request: Request, error: Exception) -> JSONBytesResponse:
        assert isinstance(error, RequestInvalid)
        return JSONBytesResponse({"detail": error.issues}, status_code=422)

    async def on_gone(request: Request, error: Exception) -> JSONBytesResponse:
        # The client went away mid-body (or the transport dropped it): nobody reads this.
        return error_response(400, {"type": "client_disconnected", "message": "the client went away",
                                    "span": None, "line": None, "column": None})

    async def on_http_error(request: Request, error: Exception) -> JSONBytesResponse:
        # Starlette's own 404, 405, 400... carry a bare string as detail: the contract's form instead.
        assert isinstance(error, StarletteHTTPException)
        return error_response(error.status_code, http_error_detail(error), dict(error.headers or {}))

    async def on_bug(request: Request, error: Exception) -> JSONBytesResponse:
        # A bug, never an answer to a bad input: still JSON, still with the security
        # headers (this handler runs outside the middleware that adds them).
        response = error_response(
            500,
            {
                "type": "internal_error",
                "message": "the server failed on this request; please report it with the request",
                "span": None,
                "line": None,
                "column": None,
            },
        )
        for name, value in headers:
            response.headers[name.decode()] = value.decode()
        return response

    app.add_exception_handler(Exception, on_bug)
    app.add_exception_handler(gradtrace.TraceError, on_trace_error)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(RequestInvalid, on_body_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ClientDisconnect, on_gone)


def _mount_static(app: FastAPI, frontend: Path) -> None:
    # Only the files the page and the OpenAPI page load (api/static.py lists them).
    app.mount("/static", static.listed(frontend, "/static"), name="static")
    modules = frontend / "node_modules"
    # URL prefix -> npm package directory: one list, which the page's build reads too.
    listed = frontend / "vendor.json"
    vendored: dict[str, str] = json.loads(listed.read_text()) if listed.is_file() else {}
    vendored.setdefault(docs.SWAGGER_UI_PREFIX, "swagger-ui-dist")
    for path, package in vendored.items():
        # The bundled page (a wheel's) carries the files it still loads by URL under vendor/.
        for found in (modules / package, frontend / path.lstrip("/")):
            if found.is_dir():
                app.mount(path, static.listed(found, path), name=path.rsplit("/", 1)[-1])
                break


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one gradtrace application from its settings."""
    settings = settings or Settings()
    limits = settings.engine_limits()
    example_list = examples()
    runner = TraceRunner(
        max_concurrent=settings.max_concurrent_traces,
        max_queued=settings.max_queued_traces,
        max_queue_seconds=settings.max_queue_seconds,
        max_seconds=settings.max_seconds,
        grace_seconds=settings.timeout_grace_seconds,
        retry_after=settings.retry_after_seconds(),
    )

    lesson_store = LessonStore(settings.lessons_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The event loop shares the interpreter lock with the trace threads: a short
        # switch interval hands it back to the loop soon (bench/findings.md, the GIL).
        sys.setswitchinterval(settings.thread_switch_seconds)
        # Made and migrated on start, so a wrong database shows in the log at once;
        # traces do not need it, so the service starts (and retries it) all the same.
        try:
            await lesson_store.ready()
        except StoreUnavailable as error:
            logger.error("the lessons' database is unavailable: %s", error)
        yield
        runner.shutdown()
        metrics.worker_exiting()
        await lesson_store.close()

    app = FastAPI(
        title="gradtrace",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limits = limits
    app.state.runner = runner
    app.state.lesson_store = lesson_store
    probes.add_readiness_check(app, "database", lesson_store.ping)
    app.state.db_pool_figures = lesson_store.pool_figures
    app.state.lesson_limiter = lessons.RateLimiter(settings.lessons_per_minute)
    app.state.pending_bytes = PendingBytes(settings.max_pending_response_bytes, settings.retry_after_seconds())
    app.state.examples_json = dumps(example_list)
    app.state.ops_json = dumps(describe_ops())

    app.include_router(router)
    app.include_router(lessons.router)
    app.include_router(docs.router)
    app.include_router(probes.router)
    app.include_router(metrics.router)
    headers = security_headers(settings.frame_ancestors)
    _install_error_handlers(app, settings, headers)
    _install_openapi(app, limits, settings, example_list)

    # add_middleware puts each one outside the ones before it: the security
    # headers wrap everything, the 413 included.
    # Innermost: a trace's JSON is mostly repeated keys and digits, and shrinks
    # several times over for a client that accepts gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
            max_age=600,
        )
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, headers=headers)
    # Outermost: the request id, the log line and the request metrics see every answer.
    app.add_middleware(RequestLogMiddleware)

    frontend: Path = settings.frontend_dir
    templates = Environment(
        loader=FileSystemLoader(str(frontend)), autoescape=select_autoescape(["html"])
    )
    page_context = _page_context(settings, example_list)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def get_page() -> HTMLResponse:
        """The page shell, with the examples and limits embedded as JSON data."""
        return HTMLResponse(templates.get_template("index.html").render(**page_context))

    @app.get("/l/{lesson_id}", response_class=HTMLResponse, include_in_schema=False)
    async def get_lesson_page(lesson_id: str) -> HTMLResponse:
        """The page shell with a stored lesson embedded, opened at its first slide."""
        status, extra = 404, {"lesson_missing": lesson_id}
        if re.fullmatch(lessons.ID_PATTERN, lesson_id):
            try:
                text = await lesson_store.get(lesson_id)
            except StoreUnavailable:
                status, text = 503, None
            if text is not None:
                status, extra = 200, {"lesson": json.loads(text), "lesson_id": lesson_id}
        context = _page_context(settings, example_list, **extra)
        return HTMLResponse(templates.get_template("index.html").render(**context), status_code=status)

    _mount_static(app, frontend)
    return app
