"""The HTTP endpoints: one small function each, no derivatives here.

What the endpoints share (the limits, the trace runner, the examples and ops
already encoded as JSON) is built once by `create_app` and kept in
`app.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

import gradtrace
from gradtrace.api.bodies import read_request, read_trace_request
from gradtrace.api.encoding import dumps, dumps_trace
from gradtrace.api.middleware import JSONBytesResponse, error_response
from gradtrace.api.runner import TraceRunner
from gradtrace.api.schemas import (
    ErrorBody,
    Example,
    Health,
    Op,
    Slope,
    SlopeRequest,
    Trace,
    TraceRequest,
    UnprocessableBody,
)
from gradtrace.api.schemas_by_hand import ByHand, ByHandRequest
from gradtrace.api.schemas_jacobian import NEURAL_LAYER, Jacobian, JacobianRequest
from gradtrace.api.sending import TraceResponse
from gradtrace.api.settings import Settings
from gradtrace.cost import Cost
from gradtrace.derivation import check_max_paths
from gradtrace.errors import limit_exceeded
from gradtrace.standalone import PlayerNotBuilt, standalone_html

router = APIRouter(prefix="/api/v1", default_response_class=JSONBytesResponse)

# The lecture's neural layer, the request examples' common program.
LECTURE_LAYER: dict[str, Any] = {
    "expression": "z = W @ x + b; h = sigmoid(z); s = u @ h",
    "values": {
        "W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]],
        "x": [1.0, 2.0, 3.0],
        "b": [0.5, -0.5],
        "u": [1.0, -1.0],
    },
}

TRACE_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "lecture": {
        "summary": "The lecture's expression",
        "value": {"expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}},
    },
    "neural-layer": {
        "summary": "A neural layer, with a gradient check",
        "value": {**LECTURE_LAYER, "check": True},
    },
    "constant-target": {
        "summary": "A softmax cross-entropy loss whose target t is data",
        "value": {
            "expression": "p = softmax(z); loss = -sum(t * log(p))",
            "values": {"z": [1.0, 2.0, 0.5], "t": [0.0, 1.0, 0.0]},
            "constants": ["t"],
        },
    },
    "syntax-error": {
        "summary": "A syntax error (422)",
        "value": {"expression": "x + * y", "values": {"x": 1, "y": 2}},
    },
}

TRACE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Trace, "description": "The trace (non-finite numbers as strings)."},
    413: {"model": ErrorBody, "description": "The body is over max_body_bytes."},
    422: {
        "model": UnprocessableBody,
        "description": (
            "The engine cannot trace the expression with these values (a `detail` object "
            "with type, message, span, line, column and, for a limit, its name, of the first "
            "problem, then `problems`: every problem found, each with its own span, at most "
            "20), or the request does not fit the request model (FastAPI's `detail` list)."
        ),
    },
    503: {
        "model": ErrorBody,
        "description": (
            "Too many traces are running or waiting (type `busy`), or a trace overran its "
            "time limit by timeout_grace_seconds (type `timeout`). Retry-After says when "
            "to try again."
        ),
    },
}


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{status: answer for status, answer in TRACE_RESPONSES.items() if status != 200},
    200: {
        "description": (
            "One HTML file that plays the trace offline: the trace, the player, KaTeX's fonts "
            "and a Content-Security-Policy of its own, with nothing loaded from the network."
        ),
        "content": {"text/html": {"example": "<!doctype html>..."}},
    },
}


def _standalone_html(limits: Any, body: TraceRequest) -> bytes:
    """Trace and write the offline file, in the worker thread like a trace."""
    result = gradtrace.trace(
        body.expression, body.values, check=body.check, limits=limits, constants=body.constants
    )
    return standalone_html(result).encode()


def _trace_json(
    expression: str, values: dict[str, Any], check: bool, limits: Any, constants: list[str]
) -> bytes:
    """Plan, trace and serialize, all in the worker thread: a large trace is work to encode too."""
    return _encoded(gradtrace.plan(expression, values, check, limits, constants))


def _encoded(plan: gradtrace.Plan) -> bytes:
    """The JSON bytes of a planned trace, under its deadline and within max_response_bytes."""
    result = plan.run()
    trace = result.to_dict()
    plan.deadline.check()
    body = dumps_trace(trace)
    del trace
    plan.deadline.check()
    limit = plan.limits.max_response_bytes
    if limit is not None and len(body) > limit:
        # The cost model's bound comes first; this is its safety net on the real bytes.
        raise limit_exceeded("max_response_bytes", "the response", f"{len(body)} bytes", limit)
    return body


#: The request models of the routes that read their bodies themselves (see post_trace and
#: _run_on_body); the app puts their schemas among the OpenAPI document's components.
BODY_MODELS = (TraceRequest, SlopeRequest, ByHandRequest, JacobianRequest)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def request_body(model: type[BaseModel], examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself, as FastAPI would write it."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"},
                    "examples": examples,
                }
            },
        }
    }


TRACE_REQUEST_BODY = request_body(TraceRequest, TRACE_REQUEST_EXAMPLES)


async def _run_on_body(request: Request, model: type[M], work: Callable[[M], T]) -> T:
    """Read the body as `model` and run `work` on it in a trace thread.

    As POST /trace does, a body over inline_max_body_bytes is parsed and validated in
    that thread too (a megabyte is work), and its 422 lists a bounded number of issues
    (api/bodies.py); a small one is read on the event loop, so its 422 waits for no thread.
    """
    settings: Settings = request.app.state.settings
    runner: TraceRunner = request.app.state.runner
    raw = await request.body()
    read = partial(read_request, model, raw, request.headers.get("content-type"), settings.max_request_errors)
    if len(raw) > settings.inline_max_body_bytes:
        return await runner.run(lambda: work(read()))
    return await runner.run(partial(work, read()))


def _read_and_trace(raw: bytes, content_type: str | None, max_errors: int, limits: Any) -> bytes:
    """A large body: read, validate, plan, trace and encode, all in the worker thread."""
    body = read_trace_request(raw, content_type, max_errors)
    return _trace_json(body.expression, body.values, body.check, limits, body.constants)


@router.post(
    "/trace",
    summary="Trace an expression's forward and backward pass",
    response_model=None,
    responses=TRACE_RESPONSES,
    openapi_extra=TRACE_REQUEST_BODY,
)
async def post_trace(request: Request) -> JSONBytesResponse:
    """Trace the program with the given values: nodes, edges, steps, gradients, check, warnings.

    The body is read here rather than by FastAPI, so that a large one is parsed and
    validated in a trace thread (a malformed megabyte is work too) and its errors are
    bounded (see api/bodies.py).
    """
    state = request.app.state
    settings: Settings = state.settings
    runner: TraceRunner = state.runner
    raw = await request.body()
    content_type = request.headers.get("content-type")
    if len(raw) > settings.inline_max_body_bytes:
        work = partial(_read_and_trace, raw, content_type, settings.max_request_errors, state.limits)
    else:
        body = read_trace_request(raw, content_type, settings.max_request_errors)
        if _may_run_inline(body, settings):
            plan = gradtrace.plan(body.expression, body.values, body.check, state.limits, body.constants)
            if _fits_inline(plan.cost, settings):
                return _response(request, _encoded(plan))
        work = partial(
            _trace_json, body.expression, body.values, body.check, state.limits, body.constants
        )
    return _response(request, await runner.run(work))


def _response(request: Request, body: bytes) -> TraceResponse:
    settings: Settings = request.app.state.settings
    return TraceResponse(body, request.app.state.pending_bytes, settings.max_send_seconds)


@router.post(
    "/export",
    summary="Export a trace as one offline HTML file",
    response_model=None,
    response_class=HTMLResponse,
    responses=EXPORT_RESPONSES,
    openapi_extra=TRACE_REQUEST_BODY,
)
async def post_export(request: Request) -> HTMLResponse | JSONBytesResponse:
    """The trace of the same request as POST /trace, as a file to download: it plays offline."""
    work = partial(_standalone_html, request.app.state.limits)
    try:
        # A whole page to build: always in a trace thread.
        html = await _run_on_body(request, TraceRequest, work)
    except PlayerNotBuilt as error:
        detail = {"type": "not_built", "message": str(error), "span": None, "line": None, "column": None}
        return error_response(503, detail)
    return HTMLResponse(
        html, headers={"content-disposition": 'attachment; filename="gradtrace.html"'}
    )


def _input_elements(value: Any) -> int:
    if not isinstance(value, list):
        return 1
    return len(value) * (len(value[0]) if isinstance(value[0], list) else 1)


def _may_run_inline(body: TraceRequest, settings: Settings) -> bool:
    """Whether a trace is short enough to plan on the event loop (a few hundred characters)."""
    return (
        not body.check
        and len(body.expression) <= settings.inline_max_expression_length
        and sum(_input_elements(v) for v in body.values.values())
        <= settings.inline_max_input_elements
    )


def _fits_inline(cost: Cost, settings: Settings) -> bool:
    """Whether the cost model bounds this trace's worst case to the event loop's small budget.

    Such a trace costs about a millisecond, less than the hand-off to a thread and back
    under load; anything the model cannot bound that tightly goes to the threads.
    """
    return (
        cost.response_bytes <= settings.inline_max_response_bytes
        and cost.flops <= settings.inline_max_flops
    )


SLOPE_REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "lecture": {
        "summary": "x**3 at x = 1: slope 3, and 1.01**3 = 1.030301",
        "value": {"expression": "x**3", "values": {"x": 1}, "of": "x"},
    },
    "element": {
        "summary": "One element of a vector input",
        "value": {
            "expression": "s = sum(sigmoid(W @ x))",
            "values": {"W": [[1, 2], [3, 4]], "x": [0.5, -1]},
            "of": "x",
            "index": [1],
            "points": 21,
        },
    },
}


def _slope_json(limits: Any, body: SlopeRequest) -> bytes:
    """Trace, then sample the output around the chosen number, in the worker thread."""
    result = gradtrace.slope(
        body.expression,
        body.values,
        body.of,
        body.index,
        points=body.points,
        radius=body.radius,
        nudge=body.nudge,
        limits=limits,
        constants=body.constants,
    )
    return dumps(result)


@router.post(
    "/slope",
    summary="Sample the output against one input or intermediate, with its tangent",
    response_model=None,
    responses={**TRACE_RESPONSES, 200: {"model": Slope, "description": "The samples, tangent and nudge."}},
    openapi_extra=request_body(SlopeRequest, SLOPE_REQUEST_EXAMPLES),
)
async def post_slope(request: Request) -> JSONBytesResponse:
    """The output near the traced value of one number (a gradient read as a slope)."""
    work = partial(_slope_json, request.app.state.limits)
    return JSONBytesResponse(await _run_on_body(request, SlopeRequest, work))


BY_HAND_EXAMPLES: dict[str, dict[str, Any]] = {
    "neural-layer-b": {
        "summary": "The lecture's ds/db: u^T diag(f'(z)) I = δ",
        "value": {**LECTURE_LAYER, "of": "b"},
    },
    "branches": {
        "summary": "Gradients sum at outward branches: df/dy = 2·1 + 3·1 = 5",
        "value": {"expression": "a = x + y; b = max(y, z); f = a * b", "values": {"x": 1, "y": 2, "z": 0}, "of": "y"},
    },
}


def _by_hand_json(limits: Any, max_paths: int, body: ByHandRequest) -> bytes:
    check_max_paths(body.max_paths, max_paths)
    result = gradtrace.by_hand(
        body.expression, body.values, body.of, body.max_paths, limits=limits, constants=body.constants
    )
    return dumps(result)


@router.post(
    "/by-hand",
    summary="Derive a gradient by hand: the chain rule path by path, δ, both shapes",
    response_model=None,
    responses={**TRACE_RESPONSES, 200: {"model": ByHand, "description": "The derivations."}},
    openapi_extra=request_body(ByHandRequest, BY_HAND_EXAMPLES),
)
async def post_by_hand(request: Request) -> JSONBytesResponse:
    """For a variable (or all): every path from the output as a product of local Jacobians, and δ."""
    settings: Settings = request.app.state.settings
    work = partial(_by_hand_json, request.app.state.limits, settings.max_derivation_paths)
    return JSONBytesResponse(await _run_on_body(request, ByHandRequest, work))


JACOBIAN_EXAMPLES: dict[str, dict[str, Any]] = {
    "neural-layer": {
        "summary": "z = W @ x + b with W as data: the block for x is W, the block for b is I",
        "value": NEURAL_LAYER,
    },
    "elementwise": {
        "summary": "h = sigmoid(z): diag(σ'(z)), by 3 backward or 3 tangent passes",
        "value": {"expression": "h = sigmoid(z)", "values": {"z": [0.5, -1.0, 2.0]}},
    },
    "loss": {
        "summary": "A one-number output: the gradient as a row; reverse mode is cheaper (m = 1)",
        "value": {**LECTURE_LAYER, "modes": ["reverse"]},
    },
}


def _jacobian_json(limits: Any, body: JacobianRequest) -> bytes:
    """The Jacobian and its passes as JSON bytes, within max_response_bytes, in a trace thread."""
    result = gradtrace.jacobian(
        body.expression, body.values, constants=body.constants, modes=body.modes, limits=limits
    )
    encoded = dumps(result.to_dict())
    result.deadline.check()
    limit = limits.max_response_bytes
    if limit is not None and len(encoded) > limit:
        # The cost model's bound comes first; this is its safety net on the real bytes.
        raise limit_exceeded("max_response_bytes", "the response", f"{len(encoded)} bytes", limit)
    return encoded


@router.post(
    "/jacobian",
    summary="The full Jacobian of a vector output, by reverse mode and by forward mode, pass by pass",
    response_model=None,
    responses={**TRACE_RESPONSES, 200: {"model": Jacobian, "description": "The Jacobian, its passes and costs."}},
    openapi_extra=request_body(JacobianRequest, JACOBIAN_EXAMPLES),
)
async def post_jacobian(request: Request) -> JSONBytesResponse:
    """m backward passes (row i seeded with e_i) and n tangent passes (column j seeded with e_j),
    every node's adjoint or tangent per pass, the counted cost of each mode, and which is cheaper."""
    work = partial(_jacobian_json, request.app.state.limits)
    return JSONBytesResponse(await _run_on_body(request, JacobianRequest, work))


@router.get(
    "/examples",
    summary="List the built-in examples",
    response_model=None,
    responses={200: {"model": list[Example]}},
)
async def get_examples(request: Request) -> JSONBytesResponse:
    """Every worked example of the lecture, and a few on broadcasting, branches and NaN."""
    return JSONBytesResponse(request.app.state.examples_json)


@router.get(
    "/ops",
    summary="List the operations",
    response_model=None,
    responses={200: {"model": list[Op]}},
)
async def get_ops(request: Request) -> JSONBytesResponse:
    """Every operation: syntax, forward and local gradient formulas (LaTeX), intuition."""
    return JSONBytesResponse(request.app.state.ops_json)


@router.get(
    "/health",
    summary="Say whether the service is up",
    response_model=None,
    responses={200: {"model": Health}},
)
async def get_health() -> JSONBytesResponse:
    """Answer {"status": "ok"} while the service can take requests; it never waits for a trace."""
    return JSONBytesResponse({"status": "ok"})
