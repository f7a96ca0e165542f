"""The slope view's numbers: the lecture's x**3, intermediates, vector elements, and the bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrace
from gradtrace.limits import Limits


@pytest.mark.parametrize(
    ("at", "gradient", "nudged", "text"),
    [
        (1.0, 3.0, 1.030301, "f(1.01) = 1.030301, against f(1) + 0.01 · f'(1) = 1 + 0.01 · 3 = 1.03"),
        (4.0, 48.0, 64.481201, "f(4.01) = 64.481201, against f(4) + 0.01 · f'(4) = 64 + 0.01 · 48 = 64.48"),
    ],
)
def test_the_lectures_cube_is_a_slope_of_3_at_1_and_48_at_4(
    at: float, gradient: float, nudged: float, text: str
) -> None:
    slope = gradtrace.slope("x**3", {"x": at}, "x")
    assert slope["gradient"] == gradient
    assert slope["tangent"]["slope"] == gradient
    assert slope["nudge"]["f"] == pytest.approx(nudged, abs=1e-12)
    assert slope["nudge"]["linear"] == pytest.approx(at**3 + 0.01 * gradient, abs=1e-12)
    assert slope["nudge"]["text"] == text
    # The samples are the cube itself, with the traced point in the middle.
    xs, fs = slope["samples"]["x"], slope["samples"]["f"]
    assert len(xs) == len(fs) == 41
    assert xs[20] == at and fs[20] == at**3
    assert fs == pytest.approx([x**3 for x in xs], rel=1e-15)
    # The tangent touches the curve at the point and lies below it to the right (x**3 is convex there).
    line = [slope["tangent"]["slope"] * x + slope["tangent"]["intercept"] for x in xs]
    assert line[20] == pytest.approx(fs[20])
    assert all(f >= y - 1e-9 for f, y in zip(fs[20:], line[20:], strict=True))


def test_a_named_intermediate_moves_alone_and_its_slope_is_its_gradient() -> None:
    program = "a = x + y; b = max(y, z); f = a * b"
    slope = gradtrace.slope(program, {"x": 1, "y": 2, "z": 0}, "a", points=5)
    # f = a * b with b = 2 held: a straight line of slope 2 through (3, 6).
    assert slope["at"] == 3.0 and slope["value"] == 6.0 and slope["gradient"] == 2.0
    assert slope["samples"]["f"] == pytest.approx([2.0 * x for x in slope["samples"]["x"]])
    assert slope["nudge"]["difference"] == pytest.approx(0.0, abs=1e-12)
    assert slope["nudge"]["text"].startswith("f with a = 3.01: 6.02, against f + 0.01 · ∂f/∂a")


def test_one_element_of_a_vector_moves_and_the_others_stay() -> None:
    program = "s = sum(sigmoid(W @ x))"
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, -1.0])
    slope = gradtrace.slope(program, {"W": W.tolist(), "x": x.tolist()}, "x", [1], points=7)
    traced = gradtrace.trace(program, {"W": W.tolist(), "x": x.tolist()})
    assert slope["index"] == [1]
    assert slope["gradient"] == pytest.approx(float(traced.gradients["x"][1]))
    for moved, f in zip(slope["samples"]["x"], slope["samples"]["f"], strict=True):
        y = np.array([x[0], moved])
        assert f == pytest.approx(float(np.sum(1.0 / (1.0 + np.exp(-(W @ y))))), rel=1e-12)


def test_the_request_is_refused_where_it_cannot_be_sampled() -> None:
    with pytest.raises(gradtrace.TraceError, match="say which element"):
        gradtrace.slope("sum(x * x)", {"x": [1, 2]}, "x")
    with pytest.raises(gradtrace.TraceError, match="not an element"):
        gradtrace.slope("sum(x * x)", {"x": [1, 2]}, "x", [2])
    with pytest.raises(gradtrace.TraceError, match="neither an input"):
        gradtrace.slope("x * 2", {"x": 1}, "q")
    with pytest.raises(gradtrace.TraceError, match="points"):
        gradtrace.slope("x * 2", {"x": 1}, "x", points=1000)
    with pytest.raises(gradtrace.TraceError, match="finite value"):
        gradtrace.slope("y = log(x); y * 2", {"x": 0}, "y")


def test_the_samples_are_priced_against_the_check_budget() -> None:
    limits = Limits(max_check_evaluations=100)
    with pytest.raises(gradtrace.LimitExceededError) as raised:
        gradtrace.slope("sum(x * x)", {"x": list(range(1, 11))}, "x", [0], points=41, limits=limits)
    assert raised.value.limit == "max_check_evaluations"
    # Few enough samples fit.
    small = gradtrace.slope("x * x", {"x": 3}, "x", points=5, limits=limits)
    assert small["evaluations"] == 7 and small["gradient"] == 6.0


def test_non_finite_samples_are_kept_as_they_are() -> None:
    slope = gradtrace.slope("log(x)", {"x": 0.25}, "x", points=3)
    # 0.25 - 0.5 < 0: log is NaN there, and the sample says so rather than vanishing.
    assert math.isnan(slope["samples"]["f"][0])
    assert slope["samples"]["f"][1] == pytest.approx(math.log(0.25))
