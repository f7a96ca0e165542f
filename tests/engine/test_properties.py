"""Property tests: random text never raises anything but TraceError; random smooth programs
get gradients that agree with central differences.

Budgets are modest so the suite stays quick; GRADTRACE_HYPOTHESIS_EXAMPLES raises them.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradtrace
from gradtrace import Limits, TraceError
from tests.engine.invariants import assert_trace_invariants

EXAMPLES = int(os.environ.get("GRADTRACE_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

VALUES: dict[str, Any] = {"x": 1.5, "y": -0.5, "z": 2.0, "v": [1.0, -2.0, 0.5], "M": [[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]}
PIECES = [
    "x", "y", "z", "v", "M", "a", "b", "1", "2.5", "0", "1e3", ".5", "+", "-", "*", "/", "**", "@",
    "(", ")", ",", ";", "\n", " ", "=", ".T", "exp(", "log(", "sqrt(", "max(", "min(", "sum(",
    "mean(", "dot(", "softmax(", "relu(", "sigmoid(", "tanh(", "abs(", "^", "_", "'", ".", "é", "#",
]


@SETTINGS
@given(st.lists(st.sampled_from(PIECES), max_size=25) | st.text(max_size=40).map(lambda s: [s]))
def test_any_text_gives_a_trace_or_a_trace_error(pieces: list[str]) -> None:
    text = "".join(pieces)
    try:
        result = gradtrace.trace(text, VALUES, limits=Limits())
    except TraceError as error:
        detail = error.to_dict()
        assert isinstance(detail["type"], str) and detail["message"]
        if detail["span"] is not None:
            start, end = detail["span"]
            assert 0 <= start <= end <= len(text)
            assert detail["line"] >= 1 and detail["column"] >= 1
        return
    assert_trace_invariants(result.to_dict())


# -- random smooth programs ---------------------------------------------------------

LEAVES = st.sampled_from(["x", "y", "z", "1.5", "0.5"])
UNARY = ["tanh({})", "sigmoid({})", "sin({})", "cos({})", "exp({} * 0.3)", "-{}", "({})**2", "log(1 + ({})**2)", "sqrt(2 + ({})**2)"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (2 + ({})**2)"]


def _unary(child: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(UNARY), child).map(lambda t: t[0].format(t[1]))


def _binary(child: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def build(t: tuple[str, str, str]) -> str:
        template, left, right = t
        if template.count("{}") == 3:
            return template.format(f"({left})", right, right)
        return template.format(f"({left})", f"({right})")

    return st.tuples(st.sampled_from(BINARY), child, child).map(build)


def expressions(leaves: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(leaves, lambda child: _unary(child) | _binary(child), max_leaves=10)


EXPRESSIONS = expressions(LEAVES)
TENSOR_EXPRESSIONS = expressions(st.sampled_from(["(W @ v)", "u", "s", "0.5", "(M.T @ u)"]))


@st.composite
def programs(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 3))
    names: list[str] = []
    lines = []
    for k in range(count):
        expression = draw(EXPRESSIONS)
        if names and draw(st.booleans()):
            expression = f"({expression}) * {draw(st.sampled_from(names))}"
        name = f"t{k}"
        lines.append(f"{name} = {expression}")
        names.append(name)
    return "\n".join(lines)


@SETTINGS
@given(programs(), st.tuples(*[st.floats(-1.5, 1.5) for _ in range(3)]))
def test_smooth_programs_match_central_differences(program: str, point: tuple[float, ...]) -> None:
    values = dict(zip("xyz", point, strict=True))
    result = gradtrace.trace(program, values, check=True)
    body = result.to_dict()
    assert_trace_invariants(body)
    if not math.isfinite(result.value) or abs(result.value) > 1e6:
        return
    for name, entry in body["check"].items():
        assert entry["ok"], (program, values, name, entry, body["gradients"][name])


@SETTINGS
@given(TENSOR_EXPRESSIONS, st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_smooth_tensor_programs_match_central_differences(tensor: str, v: list[float]) -> None:
    # Smooth expressions on vectors and matrices (broadcasting scalars), reduced to one number.
    values = {
        "W": [[0.5, -1.0, 0.2], [0.3, 0.1, -0.4]],
        "M": [[0.2, 0.4], [-0.3, 0.8]],
        "v": v,
        "u": [0.3, -0.7],
        "s": 0.9,
    }
    names = set(re.findall(r"[A-Za-z]+", tensor))
    used = {k: val for k, val in values.items() if k in names}
    result = gradtrace.trace(f"sum({tensor})", used, check=True)
    body = result.to_dict()
    assert_trace_invariants(body)
    if not math.isfinite(result.value) or abs(result.value) > 1e6:
        return
    for name, entry in body["check"].items():
        assert entry["ok"], (tensor, name, entry, body["gradients"][name])
    assert all(np.shape(body["gradients"][k]) == np.shape(values[k]) for k in used)
