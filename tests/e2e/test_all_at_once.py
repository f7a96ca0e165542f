"""The All at once view in Chromium: the costs of the lecture's neural layer as a chart with the
conclusion in numbers and the incorrect way's repeated work marked x3 on the graph; a forward-mode
pass stepped node by node by the keys; a vector output's Jacobian filled row by row (reverse mode)
and column by column (forward mode) with the API's numbers; a reload reopens the view."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page, expect

LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
W = [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]]
LAYER_VALUES = {"W": W, "x": [1, 2, 3], "b": [0.5, -0.5], "u": [1, -1]}


def api_jacobian(base_url: str, expression: str, values: dict[str, Any], constants: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"expression": expression, "values": values}
    if constants:
        body["constants"] = constants
    response = httpx.post(base_url + "/api/v1/jacobian", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def open_view(page: Page, base_url: str, expression: str, values: dict[str, Any], **extra: str) -> None:
    query = {"expression": expression, "values": json.dumps(values), "step": "0", **extra}
    page.goto(base_url + "/?" + urlencode(query))
    expect(page.locator("[data-node-id]").first).to_be_visible()


def cell(page: Page, row: int, col: int) -> Any:
    return page.locator(f'table.jacobian-table td[data-row="{row}"][data-col="{col}"]')


def number(x: float) -> str:
    """The page's number format for the values these programs give (4 significant digits)."""
    return f"{x:.4g}"


def test_the_layers_costs_are_charted_with_the_conclusion_and_the_repeated_work_marked(page: Page, base_url: str) -> None:
    answer = api_jacobian(base_url, LAYER, LAYER_VALUES)
    open_view(page, base_url, LAYER, LAYER_VALUES)
    page.locator("body").press("a")
    view = page.get_by_role("region", name="All at once")
    expect(page.get_by_role("button", name="All at once", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(view.get_by_text(answer["costs"]["conclusion"])).to_be_visible()
    expect(view.get_by_text(re.compile(r"reverse mode: one backward pass, 1\.2x the forward pass; each input separately: 1\.6x"))).to_be_visible()
    # uPlot draws the chart: one canvas, its axes uPlot's own
    expect(view.locator(".costs-plot .uplot canvas")).to_have_count(1)
    expect(view.locator(".costs-plot .u-axis")).to_have_count(2)
    for key in ["forward", "reverse", "separately", "forward_mode"]:
        expect(view.locator(f"tr.cost-{key} td").first).to_have_text(str(answer["costs"][key]["flops"]))
    # the incorrect way computes the gradients at W @ x twice, at z and h three times
    assert answer["repeated"] == {"n2": 2, "n4": 3, "n5": 3}
    for node in answer["repeated"]:
        expect(page.locator(f'g.node.is-repeated[data-node-id="{node}"]')).to_have_count(1)
    badges = page.locator(".repeat-badge .all-badge-text")
    expect(badges).to_have_count(3)
    expect(badges).to_have_text(["×2", "×3", "×3"])
    # leaving the view takes its marks away
    page.locator("body").press("a")
    expect(page.locator(".repeat-badge")).to_have_count(0)
    expect(page.locator("g.node.is-repeated")).to_have_count(0)


def test_a_forward_mode_pass_steps_node_by_node_with_the_keys(page: Page, base_url: str) -> None:
    answer = api_jacobian(base_url, LAYER, LAYER_VALUES)
    open_view(page, base_url, LAYER, LAYER_VALUES, view="all")
    view = page.get_by_role("region", name="All at once")
    view.get_by_role("button", name="Forward mode").click()
    view.get_by_role("combobox", name="Input to seed").select_option("x")
    view.get_by_role("combobox", name="Element to seed").select_option("1")
    expect(view.get_by_text("node 1 / 5")).to_be_visible()
    page.locator("#graph").focus()
    # the seed at x: its tangent e_2, and nothing further yet
    expect(page.locator(".pass-badge")).to_have_count(0)
    expect(page.locator(".seed-badge")).to_have_text("seed x[1] = 1")
    page.keyboard.press("ArrowRight")
    expect(view.get_by_text("node 2 / 5")).to_be_visible()
    expect(page.locator(".pass-badge")).to_have_count(1)
    expect(page.locator('[data-node-id="n2"].in-pass')).to_have_count(1)
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    expect(page.locator("g.node.is-pass-current")).to_have_attribute("data-node-id", "n5")
    # the graph's values keep pace: h's forward step is the trace's step now
    expect(page.locator('g.node.is-current[data-node-id="n5"]')).to_have_count(1)
    page.keyboard.press("End")
    column = 6 + 1  # x's first column is W's 6 elements on
    expect(view.get_by_text(f"∂s/∂x[1] = {answer['jacobian'][0][column]:.6g}", exact=False)).to_be_visible()
    page.keyboard.press("Home")
    expect(view.get_by_text("node 1 / 5")).to_be_visible()
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    expect(view.get_by_text("node 4 / 5")).to_be_visible()
    expect(page).to_have_url(re.compile(r"all=tangent"))
    expect(page).to_have_url(re.compile(r"wrt=x"))
    expect(page).to_have_url(re.compile(r"pass=3"))
    # a reload reopens the view where it was
    page.reload()
    expect(view.get_by_text("node 4 / 5")).to_be_visible()
    expect(view.get_by_role("button", name="Forward mode")).to_have_attribute("aria-pressed", "true")
    expect(view.get_by_role("combobox", name="Element to seed")).to_have_value("1")


def test_a_vector_outputs_jacobian_fills_row_by_row_then_column_by_column(page: Page, base_url: str) -> None:
    values = {"z": [-0.25, 0.0, 2.0]}
    answer = api_jacobian(base_url, "h = sigmoid(z)", values)
    open_view(page, base_url, "h = sigmoid(z)", values)
    view = page.get_by_role("region", name="All at once")
    # the trace refuses a vector output: the page asks for its Jacobian and draws its graph instead
    expect(view.get_by_text(re.compile(r"h has 3 numbers .* 3 × 3 Jacobian"))).to_be_visible()
    expect(page.locator("#expression-error")).to_be_hidden()
    expect(page.locator("[data-node-id]")).to_have_count(2)
    expect(view.get_by_role("button", name="Reverse: 3 rows")).to_have_attribute("aria-pressed", "true")
    jac = answer["jacobian"]
    # pass 1: row 0 only
    expect(view.get_by_text("pass 1 / 3")).to_be_visible()
    expect(cell(page, 0, 0)).to_have_text(number(jac[0][0]))
    expect(cell(page, 1, 1)).to_have_text("·")
    expect(page.locator(".seed-badge")).to_have_text("seed e₁")
    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    expect(cell(page, 1, 1)).to_have_text(number(jac[1][1]))
    expect(cell(page, 2, 2)).to_have_text("·")
    page.keyboard.press("End")
    for i in range(3):
        for j in range(3):
            expect(cell(page, i, j)).to_have_text(number(jac[i][j]))
    # diag(σ'(z)): σ'(-0.25), σ'(0) = 0.25, σ'(2)
    expect(view.get_by_text(re.compile(r"dh/dz = diag\(0\.2461, 0\.25, 0\.105\)"))).to_be_visible()
    expect(view.get_by_text(answer["why"], exact=False)).to_be_visible()
    # forward mode: column by column
    view.get_by_role("button", name="Forward: 3 columns").click()
    expect(view.get_by_text("pass 1 / 3")).to_be_visible()
    expect(cell(page, 0, 0)).to_have_text(number(jac[0][0]))
    expect(cell(page, 0, 1)).to_have_text("·")
    page.locator("#graph").focus()
    page.keyboard.press("PageDown")
    expect(cell(page, 1, 1)).to_have_text(number(jac[1][1]))
    expect(cell(page, 2, 2)).to_have_text("·")
    expect(page.locator(".seed-badge")).to_have_text("seed z[1] = 1")
    expect(page).to_have_url(re.compile(r"by=forward"))
    expect(page).to_have_url(re.compile(r"pass=1"))
    page.reload()
    expect(view.get_by_role("button", name="Forward: 3 columns")).to_have_attribute("aria-pressed", "true")
    expect(view.get_by_text("pass 2 / 3")).to_be_visible()
    expect(cell(page, 1, 1)).to_have_text(number(jac[1][1]))


def test_z_equals_w_x_plus_b_reads_w_for_x_and_i_for_b(page: Page, base_url: str) -> None:
    values = {"W": W, "x": [1, 2, 3], "b": [0.5, -0.5]}
    answer = api_jacobian(base_url, "z = W @ x + b", values, ["W"])
    open_view(page, base_url, "z = W @ x + b", values, constants="W", view="all", all="jacobian", by="forward", **{"pass": "4"})
    view = page.get_by_role("region", name="All at once")
    expect(view.get_by_text("pass 5 / 5")).to_be_visible()
    for i in range(2):
        for j in range(5):
            expect(cell(page, i, j)).to_have_text(number(answer["jacobian"][i][j]))
    expect(view.get_by_text("dz/dx = W · dz/db = I")).to_be_visible()
    expect(view.get_by_text(re.compile(r"Cheaper here: reverse mode"))).to_be_visible()


def test_presenting_the_view_keeps_its_chart_and_keys(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_view(page, base_url, LAYER, LAYER_VALUES, view="all", present="1")
    view = page.get_by_role("region", name="All at once")
    expect(page.locator("body")).to_have_class(re.compile("presenting"))
    expect(view.locator(".costs-plot .uplot canvas")).to_have_count(1)
    expect(page.locator(".repeat-badge")).to_have_count(3)
    view.get_by_role("button", name="Jacobian").click()
    expect(view.get_by_text("pass 1 / 1")).to_be_visible()
    expect(cell(page, 0, 12)).to_be_visible()


def test_a_clicker_steps_a_presented_jacobians_passes(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    values = {"W": W, "x": [1, 2, 3], "b": [0.5, -0.5]}
    answer = api_jacobian(base_url, "z = W @ x + b; h = sigmoid(z)", values)
    open_view(page, base_url, "z = W @ x + b; h = sigmoid(z)", values, present="1")
    view = page.get_by_role("region", name="All at once")
    expect(view.get_by_text("pass 1 / 2")).to_be_visible()
    # Page Down steps the pass even where the presented panel is longer than the screen
    page.locator("#graph").focus()
    page.keyboard.press("PageDown")
    expect(view.get_by_text("pass 2 / 2")).to_be_visible()
    expect(cell(page, 1, 9)).to_have_text(number(answer["jacobian"][1][9]))
    expect(view.get_by_text(re.compile(r"dh/db = diag\(0\.2461, 0\.25\)"))).to_be_visible()
    page.keyboard.press("PageUp")
    expect(cell(page, 1, 9)).to_have_text("·")
    expect(page).to_have_url(re.compile(r"present=1"))


def test_views_that_start_from_one_number_offer_a_vector_outputs_jacobian(page: Page, base_url: str) -> None:
    """By hand, Slope and Check need a one-number output: for h = sigmoid(z) they say so and open the Jacobian."""
    values = {"z": [-0.25, 0.0, 2.0]}
    open_view(page, base_url, "h = sigmoid(z)", values)
    expect(page.get_by_role("region", name="All at once")).to_be_visible()
    for button in ["By hand", "Slope", "Check"]:
        page.get_by_role("button", name=button, exact=True).click()
        view = page.get_by_role("region", name=button)
        expect(view.get_by_text("h holds 3 numbers (3), not one.", exact=False)).to_be_visible()
        # stepping the graph keeps the note (the views redraw on every step)
        page.locator("#graph").focus()
        page.keyboard.press("Home")
        expect(view.get_by_text("h holds 3 numbers (3), not one.", exact=False)).to_be_visible()
        assert "every input is a constant" not in view.inner_text()
    page.get_by_role("button", name="Open the Jacobian").click()
    expect(page.get_by_role("button", name="All at once", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("region", name="All at once").get_by_text(re.compile(r"3 × 3 Jacobian"))).to_be_visible()
