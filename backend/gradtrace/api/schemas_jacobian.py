"""Request and response models of POST /api/v1/jacobian: the Jacobian by reverse and forward mode.

An extension of the trace contract v1 (docs/api-extensions.md): a new
endpoint, with the trace's values, constants and number encoding; the trace
endpoint and its models stay as they are. The response is the engine's dict
(gradtrace.jacobians.Jacobian.to_dict), described here for OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from gradtrace.api.schemas import InputName, JsonNumber, Node, RequestModel, Tensor, Values

Mode = Literal["reverse", "forward"]
MODES: tuple[Mode, Mode] = ("reverse", "forward")

NEURAL_LAYER: dict[str, Any] = {
    "expression": "z = W @ x + b",
    "values": {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5]},
    "constants": ["W"],
}


class JacobianRequest(RequestModel):
    """A program whose output may hold many numbers, its values, and the modes to run."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [NEURAL_LAYER]})

    expression: Annotated[
        str, Strict(), Field(description="The program, as for POST /api/v1/trace; its output may be a vector or matrix.")
    ]
    values: Values = Field(
        default_factory=dict, description="The value of every input, as for POST /api/v1/trace."
    )
    constants: list[InputName] = Field(
        default_factory=list,
        max_length=1000,
        description="Inputs that are data: they get no column of the Jacobian (as for POST /api/v1/trace).",
    )
    modes: list[Mode] = Field(
        default_factory=lambda: list(MODES),
        min_length=1,
        max_length=2,
        description=(
            "Which passes to run: \"reverse\" (one backward pass per output element, a row "
            "each) and/or \"forward\" (one tangent pass per input element, a column each)."
        ),
    )


class JacobianNode(Node):
    """A node of the graph, as in a trace but without `grad` (gradients are per pass here)."""

    grad: None = Field(  # type: ignore[assignment]
        default=None, description="Not sent: each pass holds the adjoints or tangents."
    )


class GraphEdge(BaseModel):
    """Data flows from source to target in the forward pass, adjoints back along it."""

    id: str
    source: str
    target: str
    index: int = Field(description="Which argument of the target's operation the source is.")


class Column(BaseModel):
    """One input's columns of the Jacobian."""

    name: str
    node: str
    shape: list[int]
    offset: int = Field(description="Its first column.")
    size: int = Field(description="How many columns: its number of elements, row-major.")


class ReversePass(BaseModel):
    """One backward pass seeded with e_i: row i of the Jacobian."""

    index: int = Field(description="i, the row it fills.")
    seed: list[int] = Field(description="The output element seeded with 1 ([] for a scalar output).")
    row: list[JsonNumber]
    adjoints: list[Tensor | None] = Field(
        description=(
            "Every node's adjoint (d output_i / d node) in node order; null for data and for "
            "nodes that do not reach the output."
        )
    )


class ForwardPass(BaseModel):
    """One tangent pass seeded with e_j: column j of the Jacobian."""

    index: int = Field(description="j, the column it fills.")
    input: str = Field(description="The input seeded.")
    node: str = Field(description="Its node, where the seed e_j enters the graph.")
    seed: list[int] = Field(description="Its element seeded with 1 ([] for a scalar input).")
    column: list[JsonNumber]
    tangents: list[Tensor | None] = Field(
        description=(
            "Every node's tangent (d node / d input_j) in node order; null where the seeded "
            "input does not reach it or it does not reach the output."
        )
    )


class Passes(BaseModel):
    passes: list[ReversePass] | list[ForwardPass]


class Count(BaseModel):
    """Arithmetic counted from the graph's shapes (an n x k by k x m matmul is 2nkm FLOPs)."""

    multiplications: int
    additions: int
    functions: int = Field(description="Other elementwise evaluations: exp, log, comparisons...")
    flops: int = Field(description="multiplications + additions + functions.")
    passes: int
    times_forward: float | None = Field(description="flops / the forward pass's flops (null if that is 0).")


class Costs(BaseModel):
    """The lecture's argument in numbers: each way to get every derivative, counted."""

    forward: Count = Field(description="One forward pass.")
    backward_pass: Count = Field(description="One backward pass (reverse mode does one per output element).")
    reverse: Count = Field(description="Reverse mode: m backward passes, the whole Jacobian.")
    separately: Count = Field(
        description=(
            "The incorrect way: for each input (and output element), the chain rule along its "
            "own paths with nothing shared."
        )
    )
    forward_mode: Count = Field(description="Forward mode: n tangent passes, the whole Jacobian.")
    conclusion: str


class JacobianCheck(BaseModel):
    """The Jacobian against central differences (2 forward passes per input element)."""

    numeric: Tensor
    max_abs_error: JsonNumber
    ok: bool
    tolerance: JsonNumber
    evaluations: int
    modes_max_abs_difference: JsonNumber | None = Field(
        description="How far the reverse and forward matrices are apart (both modes asked), else null."
    )


class Jacobian(BaseModel):
    """The body of POST /api/v1/jacobian."""

    expression: str
    nodes: list[JacobianNode]
    edges: list[GraphEdge]
    output: str
    output_shape: list[int]
    value: Tensor = Field(description="The output's value.")
    inputs: list[Column] = Field(description="The Jacobian's columns, input by input.")
    m: int = Field(description="Output elements: the rows.")
    n: int = Field(description="Input elements (inputs that are not data): the columns.")
    jacobian: list[list[JsonNumber]] = Field(
        description="m x n: d output_i / d input_j, output and input elements row-major."
    )
    blocks: dict[str, Tensor] = Field(
        description="Per input, its columns in the shape convention: output shape + input shape."
    )
    reverse: Passes | None = Field(description="The backward passes, when \"reverse\" was asked.")
    forward: Passes | None = Field(description="The tangent passes, when \"forward\" was asked.")
    costs: Costs
    repeated: dict[str, int] = Field(
        description=(
            "Node id -> how many times the incorrect way computes its gradient (listed when "
            "more than once; reverse mode computes each once)."
        )
    )
    cheaper: Mode = Field(description="The mode with less arithmetic for the whole Jacobian here.")
    why: str = Field(description="Why, in words and numbers: m against n.")
    check: JacobianCheck
