"""The numeric check shown whole: each element's h, f(x + h), f(x - h), difference and errors.

The expected numbers are computed here independently, from the functions
written out in numpy, not through the engine.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradtrace


def central(f, x: np.ndarray, index: tuple[int, ...]) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    h = 1e-6 * max(1.0, abs(float(x[index])))
    plus, minus = x.copy(), x.copy()
    plus[index] += h
    minus[index] -= h
    fp, fm = float(f(plus)), float(f(minus))
    return h, fp, fm, (fp - fm) / (2 * h)


def test_every_element_of_a_layer_has_its_row() -> None:
    W = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]])
    x = np.array([1.0, 2.0, 3.0])
    b = np.array([0.5, -0.5])
    u = np.array([1.0, -1.0])
    values = {"W": W.tolist(), "x": x.tolist(), "b": b.tolist(), "u": u.tolist()}
    body = gradtrace.trace("z = W @ x + b; h = sigmoid(z); s = u @ h", values, check=True).to_dict()
    check = body["check"]

    def s_of(W_: np.ndarray, x_: np.ndarray, b_: np.ndarray, u_: np.ndarray) -> float:
        return float(u_ @ (1.0 / (1.0 + np.exp(-(W_ @ x_ + b_)))))

    functions = {
        "W": lambda v: s_of(v, x, b, u),
        "x": lambda v: s_of(W, v, b, u),
        "b": lambda v: s_of(W, x, v, u),
        "u": lambda v: s_of(W, x, b, v),
    }
    arrays = {"W": W, "x": x, "b": b, "u": u}
    for name, f in functions.items():
        entry = check[name]
        rows = entry["elements"]
        array = arrays[name]
        assert entry["evaluations"] == 2 * array.size
        assert [tuple(row["index"]) for row in rows] == list(np.ndindex(array.shape))
        analytic = np.asarray(body["gradients"][name]).reshape(-1)
        for row, grad in zip(rows, analytic, strict=True):
            h, fp, fm, numeric = central(f, array, tuple(row["index"]))
            assert row["h"] == h
            assert row["x"] == float(array[tuple(row["index"])])
            assert row["f_plus"] == pytest.approx(fp, rel=1e-14)
            assert row["f_minus"] == pytest.approx(fm, rel=1e-14)
            assert row["numeric"] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
            assert row["analytic"] == grad
            assert row["abs_error"] == pytest.approx(abs(grad - row["numeric"]))
            rel = abs(grad - row["numeric"]) / max(abs(grad), abs(row["numeric"]), 1e-300)
            assert row["relative_error"] == pytest.approx(rel, abs=1e-15)
            assert row["ok"] is True and row["abs_error"] <= entry["tolerance"]
        assert entry["max_abs_error"] == max(row["abs_error"] for row in rows)


def test_a_kink_fails_the_check_and_its_row_shows_why() -> None:
    # relu at 0: f(0 + h) = h, f(0 - h) = 0, so the difference is 0.5; relu'(0) is taken as 0.
    check = gradtrace.trace("relu(x)", {"x": 0}, check=True).to_dict()["check"]["x"]
    (row,) = check["elements"]
    assert (row["h"], row["f_plus"], row["f_minus"]) == (1e-6, 1e-6, 0.0)
    assert row["numeric"] == 0.5 and row["analytic"] == 0.0
    assert row["relative_error"] == 1.0
    assert row["ok"] is False and check["ok"] is False
    assert check["tolerance"] < 0.5


def test_a_scalar_input_is_one_row_with_an_empty_index() -> None:
    check = gradtrace.trace("x**3", {"x": 4}, check=True).to_dict()["check"]["x"]
    (row,) = check["elements"]
    h = 4e-6
    assert row["index"] == [] and row["h"] == h
    assert row["f_plus"] == pytest.approx((4 + h) ** 3, rel=1e-15)
    assert row["f_minus"] == pytest.approx((4 - h) ** 3, rel=1e-15)
    assert row["numeric"] == pytest.approx(48.0, rel=1e-8)
    assert check["evaluations"] == 2
