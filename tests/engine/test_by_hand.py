"""By hand: the lecture's derivations, path by path, with its numbers; and the sum over paths
equals the gradient on random programs, scalar and tensor."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gradtrace
from gradtrace.derivation import DerivationError
from tests.engine.invariants import assert_trace_invariants, decode
from tests.engine.test_properties import EXPRESSIONS, SETTINGS, TENSOR_EXPRESSIONS, programs

LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
W = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]])
X = np.array([1.0, 2.0, 3.0])
B = np.array([0.5, -0.5])
U = np.array([1.0, -1.0])
LAYER_VALUES = {"W": W.tolist(), "x": X.tolist(), "b": B.tolist(), "u": U.tolist()}


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


Z = W @ X + B
H = _sigmoid(Z)
DELTA = U * H * (1.0 - H)  # u ∘ f'(z): the lecture's δ


def _one(expression: str, values: dict[str, Any], of: str) -> dict[str, Any]:
    body = gradtrace.by_hand(expression, values, of)
    assert len(body["derivations"]) == 1
    return body["derivations"][0]


def _sum_of_products(derivation: dict[str, Any]) -> np.ndarray:
    total = np.zeros(derivation["shape"])
    for path in derivation["paths"]:
        total = total + decode(path["product"])
    if derivation["omitted_sum"] is not None:
        total = total + decode(derivation["omitted_sum"])
    return total


# -- the lecture's numbers ------------------------------------------------------


def test_ds_db_is_u_transpose_diag_f_prime_identity_and_is_delta() -> None:
    d = _one(LAYER, LAYER_VALUES, "b")
    assert d["path_count"] == 1
    (path,) = d["paths"]
    # s <- h <- z <- b: ds/dh . dh/dz . dz/db
    symbols = [f["symbol"] for f in path["factors"]]
    assert symbols == [
        r"\frac{\partial s}{\partial h}",
        r"\frac{\partial h}{\partial z}",
        r"\frac{\partial z}{\partial b}",
    ]
    assert [f["closed_form"] for f in path["factors"]] == [
        r"{u}^{\top}", r"\operatorname{diag}(\sigma'(z))", "I",
    ]
    assert [f["shape"] for f in path["factors"]] == [[1, 2], [2, 2], [2, 2]]
    np.testing.assert_allclose(decode(path["factors"][1]["value"]), np.diag(H * (1 - H)))
    np.testing.assert_allclose(decode(path["product"]), DELTA)
    np.testing.assert_allclose(decode(d["sum"]), DELTA)
    # ds/db = δ dz/db = δ, with δ named at z where the paths to W, x and b part
    assert path["delta"]["factors"] == 2
    assert path["latex"]["with_delta"] == r"\delta_{z} \, \frac{\partial z}{\partial b}"
    assert d["latex"][1] == r"= \delta_{z} \, \frac{\partial z}{\partial b}"


def test_delta_is_computed_once_at_z_and_reused_for_w_x_and_b() -> None:
    body = gradtrace.by_hand(LAYER, LAYER_VALUES)
    (shared,) = body["shared"]
    assert shared["name"] == "z"
    assert shared["symbol"] == r"\delta_{z}"
    assert shared["used_by"] == ["W", "x", "b"]
    np.testing.assert_allclose(decode(shared["value"]), DELTA)
    assert shared["latex"][0] == (
        r"\delta_{z} = \frac{\partial s}{\partial z} = "
        r"\frac{\partial s}{\partial h} \, \frac{\partial h}{\partial z}"
    )
    assert shared["latex"][1] == r"= {u}^{\top} \, \operatorname{diag}(\sigma'(z))"
    # u's path never reaches z: it has no δ
    (u,) = [d for d in body["derivations"] if d["of"] == "u"]
    assert u["paths"][0]["delta"] is None


def test_ds_dw_is_delta_transpose_x_transpose_an_outer_product() -> None:
    d = _one(LAYER, LAYER_VALUES, "W")
    expected = np.outer(DELTA, X)
    np.testing.assert_allclose(decode(d["sum"]), expected)
    outer = d["forms"]["outer"]
    np.testing.assert_allclose(np.array(outer["rows"]), expected)
    for i in range(2):  # row i of ds/dW is δ_i · x
        np.testing.assert_allclose(outer["rows"][i], DELTA[i] * X)
    assert "[2 \\times 3] = [2 \\times 1]\\,[1 \\times 3]" in outer["latex"][0]
    assert d["forms"]["jacobian"]["shape"] == [1, 6]
    assert d["forms"]["shape_convention"]["shape"] == [2, 3]
    # the last factor, d(W @ x)/dW, is I ⊗ x^T in the Jacobian form
    assert d["paths"][0]["factors"][-1]["closed_form"] == r"I \otimes {x}^{\top}"


def test_ds_du_is_h_transpose_and_h_in_the_shape_convention() -> None:
    d = _one(LAYER, LAYER_VALUES, "u")
    (path,) = d["paths"]
    assert [f["closed_form"] for f in path["factors"]] == [r"{h}^{\top}"]
    np.testing.assert_allclose(decode(d["sum"]), H)
    assert d["forms"]["jacobian"]["shape"] == [1, 2]
    assert d["forms"]["shape_convention"]["shape"] == [2]


def test_gradients_sum_at_outward_branches_two_plus_three_is_five() -> None:
    d = _one("a = x + y; b = max(y, z); f = a * b", {"x": 1, "y": 2, "z": 0}, "y")
    assert d["path_count"] == 2
    assert [decode(p["product"]).item() for p in d["paths"]] == [2.0, 3.0]
    assert d["latex"] == [
        r"\frac{\partial f}{\partial y} = \frac{\partial f}{\partial a} \cdot \frac{\partial a}{\partial y}"
        r" + \frac{\partial f}{\partial b} \cdot \frac{\partial b}{\partial y}",
        r"= b \cdot 1 + a \cdot \mathbf{1}(y > z)",
        r"= 2 \cdot 1 + 3 \cdot 1",
        r"= 2 + 3 = 5",
    ]


def test_the_chain_rule_of_one_variable_functions_is_6x() -> None:
    d = _one("y = x**2; z = 3*y", {"x": 1.5}, "x")
    assert decode(d["sum"]).item() == pytest.approx(9.0)
    assert d["latex"][0] == (
        r"\frac{\partial z}{\partial x} = \frac{\partial z}{\partial y} \cdot \frac{\partial y}{\partial x}"
    )


def test_local_formulas_write_the_kronecker_delta_as_an_indicator() -> None:
    # δ means one thing on the page: the local error signal.
    for op in gradtrace.describe_ops():
        for latex in op["local_latex"]:
            assert r"\delta" not in latex, op["name"]


# -- counting and bounding --------------------------------------------------------


def test_paths_are_counted_exactly_and_listed_up_to_the_limit() -> None:
    # Each statement doubles the paths: 2^60 from the output to x.
    lines = ["a0 = x + x"] + [f"a{k} = a{k - 1} + a{k - 1}" for k in range(1, 60)]
    body = gradtrace.by_hand("\n".join(lines), {"x": 0.5}, "x", max_paths=16)
    (d,) = body["derivations"]
    assert d["path_count"] == str(2**60)  # beyond 2^53: a decimal string
    assert len(d["paths"]) == 16
    assert d["omitted_paths"] == str(2**60 - 16)
    assert "max_derivation_paths" in d["summary"]
    np.testing.assert_allclose(_sum_of_products(d), decode(d["sum"]))
    assert decode(d["sum"]).item() == 2.0**60


def test_small_counts_stay_numbers() -> None:
    d = _one("a = x * x; f = a + x", {"x": 3}, "x")
    assert d["path_count"] == 3
    assert d["omitted_paths"] == 0 and d["summary"] is None


@pytest.mark.parametrize(
    ("of", "why"),
    [("q", "not an input or a named intermediate"), ("f", "is the output")],
)
def test_a_variable_without_a_derivation_is_refused(of: str, why: str) -> None:
    with pytest.raises(DerivationError, match=why) as caught:
        gradtrace.by_hand("a = x * 2; f = a + 1", {"x": 1}, of)
    assert caught.value.type == "invalid_derivation"


# -- the sum over paths is the gradient, on random programs ------------------------


def _assert_paths_sum_to_gradients(expression: str, values: dict[str, Any]) -> None:
    record = gradtrace.trace(expression, values).to_dict()
    assert_trace_invariants(record)
    body = gradtrace.by_hand(expression, values, max_paths=1024)
    for d in body["derivations"]:
        expected = decode(d["sum"])
        if not np.all(np.isfinite(expected)):
            continue
        np.testing.assert_allclose(_sum_of_products(d), expected, rtol=1e-9, atol=1e-12, err_msg=d["of"])


@SETTINGS
@given(programs(), st.tuples(*[st.floats(-1.5, 1.5) for _ in range(3)]))
def test_scalar_paths_sum_to_the_gradient(program: str, point: tuple[float, ...]) -> None:
    names = set(re.findall(r"\b[xyz]\b", program))
    values = {k: v for k, v in zip("xyz", point, strict=True) if k in names}
    _assert_paths_sum_to_gradients(program, values)


@SETTINGS
@given(TENSOR_EXPRESSIONS, EXPRESSIONS.filter(lambda e: "x" in e or "y" in e))
def test_tensor_paths_sum_to_the_gradient(tensor: str, scalar: str) -> None:
    values = {
        "W": [[0.5, -1.0, 0.2], [0.3, 0.1, -0.4]],
        "M": [[0.2, 0.4], [-0.3, 0.8]],
        "v": [0.1, -0.2, 0.3],
        "u": [0.3, -0.7],
        "s": 0.9,
        "x": 0.4,
        "y": -1.1,
        "z": 0.7,
    }
    program = f"t = {tensor}\nr = sum(t * ({scalar}))"
    names = set(re.findall(r"[A-Za-z]+", program)) - {"t", "r"}
    _assert_paths_sum_to_gradients(program, {k: v for k, v in values.items() if k in names})


def test_delta_is_reused_by_every_input_below_it_whichever_variable_was_asked_for() -> None:
    (shared,) = gradtrace.by_hand(LAYER, LAYER_VALUES, "b")["shared"]
    assert shared["used_by"] == ["W", "x", "b"]


def test_a_constant_target_is_data_not_derived_and_shares_no_delta() -> None:
    loss = "p = softmax(z); loss = -sum(t * log(p))"
    values = {"z": [1.0, 2.0, 0.5], "t": [0.0, 1.0, 0.0]}
    body = gradtrace.by_hand(loss, values, constants=["t"])
    assert [d["of"] for d in body["derivations"]] == ["z", "p"]
    # δ is where the paths to inputs that need gradients part: t is not one of them
    assert all("t" not in s["used_by"] for s in body["shared"])
    # ∂loss/∂z is still softmax(z) - t
    z = np.array(values["z"])
    p = np.exp(z) / np.exp(z).sum()
    (dz,) = [d for d in body["derivations"] if d["of"] == "z"]
    np.testing.assert_allclose(decode(dz["sum"]), p - np.array(values["t"]), atol=1e-12)
    with pytest.raises(DerivationError, match="'t' is a constant"):
        gradtrace.by_hand(loss, values, of="t", constants=["t"])


def test_a_subexpression_named_in_its_parentheses_is_not_put_in_parentheses_again() -> None:
    body = gradtrace.by_hand("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}, of="y")
    closed = body["derivations"][0]["latex"][1]
    assert r"\left((\text{x + y})\right)" not in closed
    assert r"(\text{x + y}) \cdot \mathbf{1}(y > z)" in closed
    # a real sum as a factor keeps its brackets
    layer = gradtrace.by_hand(LAYER, LAYER_VALUES, of="W")
    assert r"\left(I \otimes" in layer["derivations"][0]["latex"][2]
