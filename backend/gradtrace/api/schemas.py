"""Request and response models of the REST API, as the trace contract (version 1) writes them.

The request model is strict: a boolean, a string or null is not a number, a
non-finite number or a ragged list is refused, and so is an unknown field.
The response models describe the engine's JSON for the OpenAPI page and for
schema checks; the service does not validate its own responses through them
(the engine's dict is sent as is, which keeps large traces fast).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    Strict,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"

# -- the request --------------------------------------------------------------

#: A finite JSON number. Strict: `true` is not 1 and "1" is not 1; an integer
#: too large for a float64 is refused rather than overflowing later.
Number = Annotated[float, Strict(), AllowInfNan(False)]
# fail_fast: a list stops at its first bad element, so a body of 240,000 bad numbers
# costs one error, not 240,000 (each echoing its input).
Vector = Annotated[list[Number], Field(min_length=1, fail_fast=True)]
Matrix = Annotated[list[Vector], Field(min_length=1, fail_fast=True)]


def _rectangular(value: float | list[float] | list[list[float]]) -> Any:
    """Refuse ragged matrices: pydantic's list[list[float]] accepts rows of any length."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        width = len(value[0])
        for i, row in enumerate(value):
            if len(row) != width:
                raise ValueError(
                    f"a matrix must be rectangular: row 0 has {width} numbers, row {i} has {len(row)}"
                )
    return value


Value = Annotated[
    Number | Vector | Matrix,
    AfterValidator(_rectangular),
    Field(
        description=(
            "A number, a non-empty list of numbers (a vector, shape [n]) or a "
            "rectangular non-empty list of such lists (a matrix, shape [n, m])."
        )
    ),
]
InputName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=200)]
#: The inputs' values by name. fail_fast: the first bad entry ends the dict's validation, as
#: for lists, so 60,000 bad keys cost one issue, not three each (a request's issues are built
#: while it is validated, all of them, before any is dropped).
Values = Annotated[dict[InputName, Value], Field(fail_fast=True)]

#: Up to this many unknown fields are each an issue of their own; beyond it, one issue counts them.
MAX_UNKNOWN_FIELDS = 64


class RequestModel(BaseModel):
    """A request body's model: an unknown field is refused, and a flood of them is one issue."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        # Each unknown field would cost an issue of its own: a megabyte of them, seconds.
        if isinstance(data, dict) and len(data) > MAX_UNKNOWN_FIELDS:
            known = cls.model_fields
            unknown = sum(1 for key in data if key not in known)
            if unknown > MAX_UNKNOWN_FIELDS:
                raise PydanticCustomError(
                    "extra_forbidden",
                    "{count} fields are not fields of this request (known: {known})",
                    {"count": unknown, "known": ", ".join(known)},
                )
        return data


class TraceRequest(RequestModel):
    """What to trace: a program, the value of each of its inputs, and whether to check gradients."""

    model_config = ConfigDict(extra="forbid")

    expression: Annotated[
        str,
        Strict(),
        Field(
            description=(
                "One or more statements separated by newlines or ';'. The length limit "
                "(max_expression_length) is enforced by the engine with a 422 that names it."
            ),
        ),
    ]
    values: Values = Field(
        default_factory=dict,
        description="The value of every input (every name the program uses but does not assign).",
    )
    check: Annotated[bool, Strict()] = Field(
        default=False,
        description="Add a numeric gradient check (central differences) of every input's gradient.",
    )
    constants: list[InputName] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Inputs that are data, such as a loss's target (an extension of version 1): like "
            "number literals they need no gradient, so their nodes get \"constant\": true, their "
            "gradients raise no warning and the check skips them. Each must be given in values."
        ),
    )


class SlopeRequest(RequestModel):
    """Which number of a program moves, and how the output is sampled around it (the slope view)."""

    model_config = ConfigDict(extra="forbid")

    expression: Annotated[str, Strict(), Field(description="The program, as for POST /api/v1/trace.")]
    values: Values = Field(
        default_factory=dict, description="The value of every input, as for POST /api/v1/trace."
    )
    of: Annotated[
        str,
        Strict(),
        Field(
            max_length=200,
            description="What moves: an input, a name the program assigns, or a node id (\"n3\").",
        ),
    ]
    index: list[Annotated[int, Strict(), Field(ge=0)]] | None = Field(
        default=None,
        max_length=2,
        description="For a vector or matrix: the element that moves ([i] or [i, j]); null for a scalar.",
    )
    points: Annotated[int, Strict()] = Field(
        default=41, ge=3, le=201, description="How many samples, evenly spaced, the traced value in the middle."
    )
    radius: Annotated[float, AllowInfNan(False)] | None = Field(
        default=None,
        gt=0,
        description="Half the width of the sampled interval; null for 0.5 * max(1, |value|).",
    )
    nudge: Annotated[float, AllowInfNan(False)] = Field(
        default=0.01, gt=0, description="The step of the nudge, as the lecture's 1.01 = 1 + 0.01."
    )
    constants: list[InputName] = Field(
        default_factory=list, max_length=1000, description="As for POST /api/v1/trace."
    )


# -- the response -------------------------------------------------------------

NonFinite = Literal["NaN", "Infinity", "-Infinity"]
#: Every number of a trace: a JSON number, or one of three strings for non-finite values.
JsonNumber = Annotated[float | NonFinite, Field(description='A number, or "NaN", "Infinity", "-Infinity".')]
Tensor = TypeAliasType("Tensor", Union[JsonNumber, list["Tensor"]])  # type: ignore[misc]  # noqa: UP007
Span = Annotated[list[int], Field(min_length=2, max_length=2)]


class Node(BaseModel):
    """One value of the graph: an input, a constant or the result of an operation."""

    id: str
    kind: Literal["input", "constant", "op"]
    op: str | None = Field(description="The registry name of the operation (null for inputs and constants).")
    name: str | None = Field(description="The input's name, or the name the node was assigned to.")
    label: str
    shape: list[int]
    value: Tensor
    grad: Tensor
    span: Span | None
    display_name: str | None = Field(
        default=None,
        description=(
            "Extension: the one name the step texts use for this node (its name, its "
            "literal, f for an unnamed output, its source text, or its id)."
        ),
        examples=["x + y"],
    )
    constant: bool | None = Field(
        default=None,
        description=(
            "Extension: true for data, which needs no gradient: a number literal, or an input "
            "named in the request's constants. Absent otherwise. Its grad is still sent."
        ),
    )
    group: str | None = Field(
        default=None,
        description=(
            "Extension: the id of the innermost group (a call, else a statement) that made "
            "this node, one of the trace's groups. Absent for inputs, and where a statement made one node only."
        ),
        examples=["g0"],
    )


class Edge(BaseModel):
    """Data flows from source to target in the forward pass; gradients flow back along it."""

    id: str
    source: str
    target: str
    index: int = Field(description="Which argument of the target's operation the source is.")
    upstream: Tensor = Field(description="d output / d target: the target's grad.")
    local: Tensor | None = Field(
        description="d target / d source, of shape local_shape; null only when too large to send."
    )
    local_shape: list[int]
    downstream: Tensor = Field(description="This edge's share of d output / d source.")


class Step(BaseModel):
    """One step of the replay: a node's value (forward) or its input edges' downstream (backward)."""

    index: int
    phase: Literal["forward", "backward"]
    node: str
    edges: list[str]
    text: str


class TraceWarning(BaseModel):
    """Something worth knowing: a tie or kink, or the first non-finite value or gradient."""

    node: str | None
    kind: str
    message: str


class CheckRow(BaseModel):
    """One checked element: the central difference beside the traced gradient."""

    index: list[int] = Field(description="The element ([] for a scalar input).")
    x: JsonNumber = Field(description="The element's value.")
    h: float = Field(description="The step: 1e-6 * max(1, |x|).")
    f_plus: JsonNumber = Field(description="The output with the element at x + h.")
    f_minus: JsonNumber = Field(description="The output with the element at x - h.")
    numeric: JsonNumber = Field(description="(f_plus - f_minus) / 2h.")
    analytic: JsonNumber = Field(description="The traced gradient of this element.")
    abs_error: JsonNumber
    relative_error: JsonNumber = Field(
        description="|analytic - numeric| / max(|analytic|, |numeric|), 0 when both are 0."
    )
    ok: bool = Field(description="abs_error <= tolerance.")


class CheckResult(BaseModel):
    """The numeric gradient of one input, and how far the traced one is from it."""

    numeric: Tensor
    max_abs_error: JsonNumber
    ok: bool
    tolerance: JsonNumber | None = Field(
        default=None,
        description="The largest absolute error that passes (an extension of version 1).",
    )
    evaluations: int | None = Field(
        default=None, description="Forward passes the check made for this input: 2 per element."
    )
    elements: list[CheckRow] | None = Field(
        default=None, description="Every checked element, in the input's row-major order."
    )


class GateWire(BaseModel):
    """Extension: one input of a group seen as one gate: its local gradient and downstream."""

    source: str = Field(description="The input node, outside the group.", examples=["n0"])
    local: Tensor | None = Field(
        description=(
            "d output / d source through the group's own edges, of shape local_shape; null "
            "when larger than max_local_elements or when a local of the group's edges is null."
        ),
        examples=[0.2350037122015945],
    )
    local_shape: list[int] = Field(description="The output's shape, then the source's.")
    downstream: Tensor = Field(description="The source's share through the group: upstream times local.")


class Group(BaseModel):
    """Extension: the nodes one statement, or one call of a def, made: a drawing may collapse
    them into one box, a composite gate with its own local gradient."""

    id: str = Field(examples=["g0"])
    kind: Literal["statement", "call"] = Field(
        description="What made the group: a statement, or a call of a function the program defines."
    )
    name: str | None = Field(
        description="The assigned name (null for a bare expression), or the called function's.",
        examples=["z"],
    )
    span: Span = Field(description="The statement's, or the call's, [start, end) in the expression.")
    nodes: list[str] = Field(
        description="Its members, in topological order: the op and constant nodes it made.",
        examples=[["n2", "n4"]],
    )
    inputs: list[str] = Field(
        description="Nodes outside the group that its members read: the wires into the box.",
        examples=[["n0", "n1", "n3"]],
    )
    output: str = Field(description="The node the statement computes: the wires out of the box.", examples=["n4"])
    upstream: Tensor | None = Field(default=None, description="The output's gradient: the gate's upstream.")
    wires: list[GateWire] | None = Field(
        default=None, description="Per input (in the order of inputs): the gate's local gradient and downstream."
    )


class Trace(BaseModel):
    """The whole trace: nodes, edges, the steps to replay, gradients, check and warnings."""

    version: Literal[1]
    expression: str
    output: str
    value: JsonNumber
    gradients: dict[str, Tensor]
    nodes: list[Node]
    edges: list[Edge]
    steps: list[Step]
    check: dict[str, CheckResult] | None
    warnings: list[TraceWarning]
    groups: list[Group] | None = Field(
        default=None,
        description=(
            "Extension: each statement, and each call of a def, that made two nodes or more, "
            "as a group a drawing may collapse into one box; its members carry its id in `group`."
        ),
    )


class SlopeSamples(BaseModel):
    """The sampled points: the moved number's values and the output's at each."""

    x: list[JsonNumber]
    f: list[JsonNumber]


class Tangent(BaseModel):
    """The line through (at, value) whose slope is the traced gradient: f = slope * x + intercept."""

    slope: JsonNumber
    intercept: JsonNumber


class Nudge(BaseModel):
    """The output one small step away, against the tangent's prediction."""

    h: float
    x: JsonNumber = Field(description="at + h.")
    f: JsonNumber = Field(description="The output at at + h, by a forward pass.")
    linear: JsonNumber = Field(description="value + h * gradient: what the tangent predicts.")
    difference: JsonNumber = Field(description="f - linear: what the tangent misses.")
    text: str = Field(description="The nudge in words, with up to 10 significant digits.")


class Slope(BaseModel):
    """The output against one number of the program near its value, the tangent and the nudge."""

    of: str
    node: str = Field(description="The id of the node that moves.")
    index: list[int] | None
    at: float = Field(description="Its traced value.")
    value: JsonNumber = Field(description="The output's traced value.")
    gradient: JsonNumber = Field(description="d output / d it: the slope of the tangent.")
    radius: float
    points: int
    evaluations: int = Field(description="Forward passes made: one per sample, and two for the nudge.")
    samples: SlopeSamples
    tangent: Tangent
    nudge: Nudge


class ErrorProblem(BaseModel):
    """One problem: what cannot be traced, and where in the expression (when it has a place there)."""

    type: str = Field(
        description=(
            "A stable machine name: syntax_error, undefined_name, unknown_function, shape_error, "
            "invalid_value, limit_exceeded, output_not_scalar, assignment_error, busy, timeout..."
        )
    )
    message: str
    span: Span | None = Field(default=None, description="[start, end) character offsets.")
    line: int | None = Field(default=None, description="1-based line of the span's start.")
    column: int | None = Field(default=None, description="1-based column of the span's start.")
    limit: str | None = Field(default=None, description="The setting that was exceeded, if any.")


class ErrorDetail(ErrorProblem):
    """What cannot be traced, and where: the first problem, then every problem found."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "undefined_name",
                    "message": "'y' has no value: give it in values, or assign it before this line",
                    "span": [8, 9], "line": 1, "column": 9,
                    "problems": [
                        {
                            "type": "undefined_name",
                            "message": "'y' has no value: give it in values, or assign it "
                            "before this line",
                            "span": [8, 9], "line": 1, "column": 9,
                        },
                        {
                            "type": "undefined_name",
                            "message": "'z' has no value: give it in values, or assign it "
                            "before this line",
                            "span": [18, 19], "line": 2, "column": 9,
                        },
                    ],
                }
            ]
        }
    )

    problems: list[ErrorProblem] | None = Field(
        default=None,
        description=(
            "An extension of v1: every problem found in the same pass (every input without a "
            "value, every value that is not a number...), the first one included, each with its "
            "own span; at most 20 (MAX_PROBLEMS)."
        ),
    )
    problems_omitted: int | None = Field(
        default=None, description="How many problems were found beyond the 20 listed, if any."
    )


class WithRequestId(BaseModel):
    """An error body's optional request id (an extension of v1: clients may ignore it)."""

    request_id: str | None = Field(
        default=None,
        description=(
            "The request's id (also in the X-Request-ID response header and the server's log "
            "line): the client's own X-Request-ID when it sent one, else one the server made."
        ),
    )


class ErrorBody(WithRequestId):
    """The body of a 413, of a 422 from the engine, and of a 503."""

    detail: ErrorDetail


class ValidationIssue(BaseModel):
    """One problem with the request's shape, in FastAPI's own form."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(WithRequestId):
    """A request that does not fit the request model (FastAPI's own 422 form)."""

    detail: list[ValidationIssue]


class UnprocessableBody(RootModel[ErrorBody | ValidationErrorBody]):
    """A 422: the engine's detail object, or FastAPI's list for a malformed request."""


class Health(BaseModel):
    """The service is up."""

    status: Literal["ok"]


class Example(BaseModel):
    """A built-in example: what to type, which values to give, and what it teaches."""

    id: str
    title: str
    expression: str
    values: dict[str, Any]
    teaches: str


class Op(BaseModel):
    """One operation of the registry, with its formulas and intuition.

    The fields after `elementwise` are extensions of v1 (see docs/api-extensions.md).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "max", "label": "max", "syntax": "max(a, b)", "arity": 2,
                    "forward_latex": "\\max(a, b)",
                    "local_latex": ["\\mathbf{1}(a > b)", "\\mathbf{1}(b > a)"],
                    "intuition": "max routes: the whole upstream gradient goes to the larger "
                    "input, none to the other",
                    "elementwise": True, "short_intuition": "max routes",
                    "template": "max({0}, {1})", "latex": "\\max(#1, #2)", "function": True,
                    "symbol": None, "precedence": None, "right_associative": False,
                    "has_kink": True,
                    "convention": "max(a, b) with a == b: the upstream gradient is split "
                    "0.5 / 0.5 (PyTorch's convention)",
                    "routes_to": "larger",
                }
            ]
        }
    )

    name: str
    label: str | None = Field(default=None, description="What the graph shows on the op's node.")
    syntax: str
    arity: int
    forward_latex: str
    local_latex: list[str] = Field(description="The local gradient with respect to each argument.")
    intuition: str | None
    elementwise: bool
    short_intuition: str | None = Field(
        default=None, description='The intuition in a few words ("+ distributes"), where it has one.'
    )
    template: str | None = Field(
        default=None, description="The step text of the op, {0} and {1} standing for its arguments."
    )
    latex: str | None = Field(
        default=None, description="The op applied to arguments in LaTeX, #1 and #2 standing for them."
    )
    function: bool | None = Field(default=None, description="Whether it is written as a call, name(...).")
    symbol: str | None = Field(default=None, description="The operator as typed, for an operator.")
    precedence: int | None = Field(
        default=None, description="An operator's binding power: + - 10, * / @ 20, unary 30, ** 40, .T 50."
    )
    right_associative: bool | None = Field(default=None, description="Only ** is.")
    has_kink: bool | None = Field(
        default=None, description="Whether a tie or a kink can decide its local gradient (then warned)."
    )
    convention: str | None = Field(
        default=None, description="What its local gradient is taken to be at its kinks and ties."
    )
    routes_to: str | None = Field(
        default=None, description='For max and min: which input receives the gradient ("larger").'
    )
    call: str | None = Field(
        default=None,
        description=(
            'The name a call writes (an extension of v1): "max" for amax (max(v)), "sum" for '
            'sum_axis, "transpose" for .T; null for an operator that is never called.'
        ),
    )
    params: list[str] | None = Field(
        default=None,
        description=(
            'Its static parameters (an extension of v1): ["axis"] for sum(A, axis=k), ["index"] '
            "for indexing; a node of it shows their values in its label and template."
        ),
    )
    gate: str | None = Field(
        default=None,
        description=(
            "The op as a gate, in the lecture's form: Python source of a class whose "
            "forward(self, x[, y]) returns z and backward(self, dz) returns [dx[, dy]]. "
            "To be read; tested against the engine (docs/write-your-own-gate.md)."
        ),
    )
