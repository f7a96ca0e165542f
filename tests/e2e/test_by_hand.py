"""The "By hand" view in Chromium: the neural layer's derivations of b and W, δ marked on the graph,
a path lit as one moves through it, by keyboard and in presentation mode."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
LAYER_VALUES = {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1, 2, 3], "b": [0.5, -0.5], "u": [1, -1]}
BRANCHES = "a = x + y; b = max(y, z); f = a * b"


def by_hand(page: Page, base_url: str, expression: str, values: dict[str, Any], of: str) -> dict[str, Any]:
    response = page.request.post(base_url + "/api/v1/by-hand", data={"expression": expression, "values": values, "of": of})
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


def open_traced(page: Page, base_url: str, expression: str, values: dict[str, Any]) -> None:
    page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": "0"}))
    expect(page.locator("[data-node-id]").first).to_be_visible()


def open_by_hand(page: Page, of: str) -> None:
    page.get_by_role("button", name="By hand", exact=True).click()
    page.get_by_role("combobox", name="Variable to derive").select_option(of)


def test_the_derivation_of_b_shows_delta_at_z_and_lights_its_path(page: Page, base_url: str) -> None:
    body = by_hand(page, base_url, LAYER, LAYER_VALUES, "b")
    (d,) = body["derivations"]
    (shared,) = body["shared"]
    open_traced(page, base_url, LAYER, LAYER_VALUES)
    open_by_hand(page, "b")
    view = page.get_by_role("region", name="By hand")
    expect(view).to_be_visible()
    expect(page.get_by_role("button", name="By hand")).to_have_attribute("aria-pressed", "true")
    # the three readings of the chain rule, set by KaTeX (its MathML carries the text)
    lines = view.locator(".by-hand-lines .katex-mathml")
    expect(lines).to_have_count(len(d["latex"]))
    expect(lines.nth(2)).to_contain_text("diag")
    expect(view.get_by_text("δ: the local error signal at z")).to_be_visible()
    expect(view.get_by_text("reused for W, x, b")).to_be_visible()
    # δ is marked on the graph, and the one path is lit
    expect(page.locator(f'svg [data-node-id="{shared["node"]}"]')).to_have_class(_has("is-delta"))
    for edge in d["paths"][0]["edges"]:
        expect(page.locator(f'svg g[data-edge-id="{edge}"]').first).to_have_class(_has("on-path"))
    # both shapes side by side
    expect(view.get_by_text("Jacobian form · 1 × 2")).to_be_visible()
    expect(view.get_by_text("Shape convention · 2")).to_be_visible()


def test_the_derivation_of_w_shows_the_outer_product(page: Page, base_url: str) -> None:
    open_traced(page, base_url, LAYER, LAYER_VALUES)
    open_by_hand(page, "W")
    view = page.get_by_role("region", name="By hand")
    expect(view.get_by_text("Why the transposes: an outer product")).to_be_visible()
    expect(view.get_by_text("Jacobian form · 1 × 6")).to_be_visible()
    expect(view.get_by_text("Shape convention · 2 × 3")).to_be_visible()
    expect(view.locator(".by-hand-outer .katex-mathml").first).to_contain_text("⊤")


def test_two_paths_are_walked_by_keyboard_and_summed(page: Page, base_url: str) -> None:
    values = {"x": 1, "y": 2, "z": 0}
    (d,) = by_hand(page, base_url, BRANCHES, values, "y")["derivations"]
    open_traced(page, base_url, BRANCHES, values)
    open_by_hand(page, "y")
    view = page.get_by_role("region", name="By hand")
    expect(view.get_by_text("2 paths from the output: gradients sum at outward branches")).to_be_visible()
    paths = view.locator("button.by-hand-path")
    expect(paths).to_have_count(2)
    expect(paths.nth(0)).to_have_attribute("aria-pressed", "true")
    paths.nth(0).focus()
    page.keyboard.press("ArrowDown")
    expect(paths.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(paths.nth(1)).to_be_focused()
    for edge in d["paths"][1]["edges"]:
        expect(page.locator(f'svg g[data-edge-id="{edge}"]').first).to_have_class(_has("on-path"))
    for edge in set(d["paths"][0]["edges"]) - set(d["paths"][1]["edges"]):
        expect(page.locator(f'svg g[data-edge-id="{edge}"]').first).not_to_have_class(_has("on-path"))
    expect(view.locator(".by-hand-lines .katex-mathml").last).to_contain_text("5")


def test_by_hand_stays_in_presentation_mode_and_the_step_view_comes_back(page: Page, base_url: str) -> None:
    open_traced(page, base_url, LAYER, LAYER_VALUES)
    open_by_hand(page, "b")
    page.locator("body").press("p")
    expect(page.locator("body")).to_have_class(_has("presenting"))
    expect(page.get_by_role("region", name="By hand")).to_be_visible()
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_role("region", name="By hand")).to_have_count(0)
    expect(page.locator("svg .on-path")).to_have_count(0)


def _has(cls: str) -> Any:
    import re

    return re.compile(rf"(^|\s){cls}(\s|$)")


def test_a_click_on_a_node_derives_it_and_each_factor_shows_its_shape(page: Page, base_url: str) -> None:
    open_traced(page, base_url, LAYER, LAYER_VALUES)
    open_by_hand(page, "W")
    view = page.get_by_role("region", name="By hand")
    body = by_hand(page, base_url, LAYER, LAYER_VALUES, "b")
    b_node = body["derivations"][0]["node"]
    page.locator(f'svg g[data-node-id="{b_node}"]').click()
    expect(page.get_by_role("combobox", name="Variable to derive")).to_have_value("b")
    expect(view.get_by_text("Shapes of the factors")).to_be_visible()
    # ∂s/∂b [1 × 2] = ∂s/∂h [1 × 2] ∂h/∂z [2 × 2] ∂z/∂b [2 × 2], set by KaTeX
    shapes = view.locator(".by-hand-shapes .katex-mathml")
    expect(shapes).to_have_count(4)
    for k, shape in enumerate(["1×2", "1×2", "2×2", "2×2"]):
        expect(shapes.nth(k)).to_contain_text(shape)


def test_every_delta_mark_is_inside_the_drawing_when_presenting(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    values = {"x": 1, "y": 2, "z": 0}
    page.goto(base_url + "/?" + urlencode({"expression": "(x + y) * max(y, z)", "values": json.dumps(values), "present": "1", "view": "byhand", "of": "y"}))
    expect(page.locator("svg .delta-badge")).to_have_count(2)
    page.wait_for_function(
        """() => {
            const top = document.getElementById('graph').getBoundingClientRect().top;
            return [...document.querySelectorAll('svg .delta-badge')].every((b) => b.getBoundingClientRect().top >= top);
        }"""
    )
