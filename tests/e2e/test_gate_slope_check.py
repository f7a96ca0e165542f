"""The Gate, Slope and Check views in Chromium, and constants drawn without a gradient: the
lecture's MultiplyGate with its numbers, the slope of x**3 at 1 with its nudge, the numeric check
shown whole with its caveats, a loss whose target is data; by keyboard and in presentation mode."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
LAYER_VALUES = {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1, 2, 3], "b": [0.5, -0.5], "u": [1, -1]}
LOSS = "p = softmax(z); loss = -sum(t * log(p))"


def open_traced(page: Page, base_url: str, expression: str, values: dict[str, Any], **extra: str) -> None:
    query = {"expression": expression, "values": json.dumps(values), "step": "0", **extra}
    page.goto(base_url + "/?" + urlencode(query))
    expect(page.locator("[data-node-id]").first).to_be_visible()


def test_the_gate_of_x_times_y_reads_dz_1_self_y_3_so_dx_3(page: Page, base_url: str) -> None:
    open_traced(page, base_url, "x * y", {"x": 2, "y": 3}, step="3")
    page.locator("body").press("g")
    gate = page.get_by_role("region", name="Gate")
    expect(page.get_by_role("button", name="Gate", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(gate.get_by_text("class MultiplyGate:")).to_be_visible()
    expect(gate.get_by_text("dx = self.y * dz  # [dz/dx * dL/dz]")).to_be_visible()
    expect(gate.get_by_text("→ dz = 1, self.y = 3, so dx = 3")).to_be_visible()
    expect(gate.get_by_text("→ x = 2, y = 3")).to_be_visible()
    # the gate follows the step: an input has none
    page.locator("body").press("End")
    expect(gate.get_by_text(re.compile("is an input: it has no gate"))).to_be_visible()


def test_the_slope_of_x_cubed_at_1_is_plotted_with_its_tangent_and_the_nudge(page: Page, base_url: str) -> None:
    open_traced(page, base_url, "x**3", {"x": 1})
    page.get_by_role("button", name="Slope", exact=True).click()
    slope = page.get_by_role("region", name="Slope")
    expect(slope.get_by_text("f(1.01) = 1.030301, against f(1) + 0.01 · f'(1) = 1 + 0.01 · 3 = 1.03", exact=False)).to_be_visible()
    expect(slope.get_by_text(re.compile(r"∂f/∂x = 3, the slope of the tangent"))).to_be_visible()
    # drawn by uPlot on a canvas, with its legend naming the tangent's slope
    expect(slope.locator(".uplot canvas")).to_have_count(1)
    expect(slope.locator(".u-legend")).to_contain_text("tangent, slope 3")
    # at 4 the slope is 48 (4.01**3 = 64.481201)
    page.fill("#value-x", "4")
    page.get_by_role("button", name="Trace").click()
    expect(slope.get_by_text(re.compile(r"f\(4\.01\) = 64\.481201"))).to_be_visible()
    expect(slope.get_by_text(re.compile(r"∂f/∂x = 48"))).to_be_visible()


def test_a_vectors_slope_moves_one_chosen_element(page: Page, base_url: str) -> None:
    open_traced(page, base_url, LAYER, LAYER_VALUES, view="slope")
    slope = page.get_by_role("region", name="Slope")
    page.get_by_role("combobox", name="Number to move").select_option("W")
    page.get_by_role("combobox", name="Element to move").select_option("4")
    expect(slope.get_by_text(re.compile(r"At W\[1, 1\] = 0\.5:"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"slope=W.*element=4|element=4.*slope=W"))


def test_the_numeric_check_is_shown_whole_with_its_caveats_and_the_kink(page: Page, base_url: str) -> None:
    open_traced(page, base_url, "relu(x) + x * x", {"x": 0})
    page.locator("body").press("c")
    check = page.get_by_role("region", name="Numeric check")
    check.get_by_role("button", name="Run the numeric check").click()
    expect(check.get_by_text("1 of 1 element disagrees ✗")).to_be_visible()
    card = check.locator("table.check-card")
    expect(card).to_have_count(1)
    for label, value in [("h", "1e-6"), ("f(x + h)", "1.000001e-6"), ("difference / 2h", "0.5"), ("backward pass", "0")]:
        expect(card.locator("tr", has=page.locator("th", has_text=re.compile(f"^{re.escape(label)}$")))).to_contain_text(value)
    expect(check.get_by_text(re.compile("two forward passes per input element, 1 element here, so 2 forward passes"))).to_be_visible()
    expect(check.get_by_text(re.compile(r"tolerance = 1e-5"))).to_be_visible()
    expect(check.get_by_text("Why a kink can fail it")).to_be_visible()
    expect(check.get_by_text(re.compile(r"relu'\(0\) = 0"))).to_be_visible()


def test_a_constant_target_gets_no_gradient_on_the_graph_and_is_not_checked(page: Page, base_url: str) -> None:
    values = {"z": [1, 2, 0.5], "t": [0, 1, 0]}
    open_traced(page, base_url, LOSS, values, constants="t", check="1")
    expect(page.get_by_role("checkbox", name="t is a constant")).to_be_checked()
    page.locator("body").press("End")
    t = page.locator("svg g.node", has=page.locator("text", has_text=re.compile(r"^t \(3\)$")))
    expect(t).to_have_count(1)
    expect(t.locator(".node-grad")).to_have_count(0)
    z = page.locator("svg g.node", has=page.locator("text", has_text=re.compile(r"^z \(3\)$")))
    expect(z).to_have_class(re.compile(r"(^|\s)has-grad(\s|$)"))
    page.get_by_role("button", name="Check", exact=True).click()
    check = page.get_by_role("region", name="Numeric check")
    expect(check.get_by_text("t is a constant: it needs no gradient, so it is not checked.")).to_be_visible()
    expect(check.locator("table.check-card")).to_have_count(3)
    # Ticking an input as data from its box: x**3 with x a constant has no gradient anywhere
    open_traced(page, base_url, "x**3 + y", {"x": 4, "y": 1})
    page.get_by_role("checkbox", name="x is a constant").check()
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(re.compile(r"constants=x"))
    page.locator("body").press("End")
    expect(page.locator("svg .node-grad", has_text="88.72")).to_have_count(0)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_three_views_hold_in_presentation_mode(page: Page, base_url: str, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_traced(page, base_url, LAYER, LAYER_VALUES, step="13", present="1", check="1")
    expect(page.locator("body")).to_have_class(re.compile(r"(^|\s)presenting(\s|$)"))
    for key, name in [("g", "Gate"), ("s", "Slope"), ("c", "Numeric check")]:
        page.locator("body").press(key)
        expect(page.get_by_role("region", name=name)).to_be_visible()
        # the view takes the panel's width and nothing in it runs past the panel's content edge
        page.wait_for_function(
            """(name) => {
                const view = document.querySelector(`section[aria-label="${name}"]`);
                const panel = view && view.closest('aside');
                if (!view || !panel) return false;
                const edge = panel.getBoundingClientRect().right - parseFloat(getComputedStyle(panel).paddingRight);
                return view.getBoundingClientRect().width > 300
                    && [...view.querySelectorAll('*')].every((e) => e.getBoundingClientRect().right <= edge + 1);
            }""",
            arg=name,
        )
    page.locator("body").press("c")
    expect(page.get_by_role("button", name="Step", exact=True)).to_have_attribute("aria-pressed", "true")


def test_the_step_panel_computes_no_gradient_for_a_constant(page: Page, base_url: str) -> None:
    # x**3 at 4: d/d3 of x**3 is x**3 ln x = 88.72, a number nothing uses
    open_traced(page, base_url, "x**3", {"x": 4}, step="3")
    panel = page.locator("#panel")
    expect(panel.locator("section.edge-step").nth(1)).to_contain_text("3 is a constant: no gradient to send it.")
    page.locator("body").press("ArrowRight")
    expect(panel).to_contain_text("3 is a constant, and a constant needs no gradient")
    expect(panel).not_to_contain_text("88.72")
    expect(page.locator("#graph")).not_to_contain_text("88.72")
