"""Request and response models of POST /api/v1/by-hand, the derivation of a gradient by hand.

An extension of the trace contract v1 (docs/by-hand.md): it leaves the trace
endpoint and its models as they are.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from gradtrace.api.schemas import InputName, Tensor, TraceRequest


class ByHandRequest(TraceRequest):
    """A program and its values, as for a trace, and the variable whose derivation is wanted."""

    model_config = ConfigDict(extra="forbid")

    of: InputName | None = Field(
        default=None,
        description=(
            "An input or a named intermediate (a name assigned in the program). "
            "Leave it out for every input and named intermediate."
        ),
    )
    max_paths: Annotated[int, Strict()] = Field(
        default=16,
        ge=1,
        description=(
            "How many paths to list per variable; the rest are counted and summed in one line. "
            "At most the server's max_derivation_paths."
        ),
    )


class Factor(BaseModel):
    """One local Jacobian along a path: d target / d source."""

    edge: str = Field(description="The trace's edge that carries this factor.")
    target: str
    source: str
    symbol: str = Field(description="LaTeX, in the program's names: \\frac{\\partial s}{\\partial h}.")
    closed_form: str = Field(description="LaTeX of its closed form from the op registry: u^{\\top}, \\operatorname{diag}(\\sigma'(z)), I.")
    shape: list[int] = Field(description="The Jacobian form's size: [size of target, size of source].")
    local_shape: list[int] = Field(description="target.shape + source.shape, as the trace's edge gives it.")
    value: Tensor | None = Field(description="The edge's local Jacobian, or null when it is too large to send.")
    value_latex: str | None


class PathLatex(BaseModel):
    symbols: str
    closed: str
    numbers: str
    product: str
    with_delta: str | None = Field(description="The path written from its δ node on: \\delta_{z}\\,\\frac{\\partial z}{\\partial b}.")


class Delta(BaseModel):
    node: str = Field(description="The node whose local error signal δ this path's first factors make.")
    factors: int = Field(description="How many of the path's first factors multiply to δ.")


class Path(BaseModel):
    """One way from the output down to the variable."""

    nodes: list[str] = Field(description="Node ids from the output down to the variable.")
    edges: list[str]
    factors: list[Factor]
    product: Tensor = Field(description="This path's share of the gradient, in the variable's shape.")
    delta: Delta | None
    latex: PathLatex


class Form(BaseModel):
    shape: list[int]
    latex: str
    note: str


class Outer(BaseModel):
    """For W in W @ x: the gradient as the outer product δ^T x^T, row i = δ_i x."""

    delta_node: str
    input_node: str
    rows: list[list[float]]
    latex: list[str]
    note: str


class Forms(BaseModel):
    jacobian: Form = Field(description="The Jacobian form: a 1 x n row.")
    shape_convention: Form = Field(description="The shape convention: the variable's own shape.")
    explanation: str
    outer: Outer | None = None


class Derivation(BaseModel):
    """The chain rule from the output to one variable, path by path."""

    of: str
    node: str
    symbol: str
    shape: list[int]
    path_count: int | str = Field(description="Every path from the output to the variable, counted exactly (a decimal string above 2^53).")
    paths: list[Path] = Field(description="At most max_paths of them.")
    omitted_paths: int | str
    omitted_sum: Tensor | None = Field(description="What the paths not listed add together, or null.")
    summary: str | None = Field(description="One line on the paths not listed, or null.")
    sum: Tensor = Field(description="The sum over every path: the variable's gradient.")
    latex: list[str] = Field(description="The derivation's lines: names, (δ,) closed forms, numbers, value.")
    forms: Forms


class Shared(BaseModel):
    """A δ node: where the paths to several inputs part; its error signal is computed once and reused."""

    node: str
    name: str
    symbol: str
    label: str
    value: Tensor
    shape: list[int]
    used_by: list[str]
    edges: list[str]
    latex: list[str]
    note: str


class ByHand(BaseModel):
    """The body of POST /api/v1/by-hand."""

    output: str
    derivations: list[Derivation]
    shared: list[Shared]
