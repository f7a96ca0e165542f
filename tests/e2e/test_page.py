"""The page in Debian's Chromium: trace, step with the keyboard, links, examples, errors, tensors, presentation."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, expect

LECTURE = "(x + y) * max(y, z)"
LECTURE_VALUES = {"x": 1, "y": 2, "z": 0}


def server_trace(
    page: Page, base_url: str, expression: str, values: dict[str, Any], check: bool = False
) -> dict[str, Any]:
    """The trace the server gives for the same request, to compare the page against."""
    response = page.request.post(
        base_url + "/api/v1/trace",
        data={"expression": expression, "values": values, "check": check},
    )
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


def node_id(trace: dict[str, Any], name: str) -> str:
    return next(n["id"] for n in trace["nodes"] if n["name"] == name)


def query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def type_and_trace(page: Page, expression: str, values: dict[str, str]) -> None:
    page.get_by_role("textbox", name="Expression").fill(expression)
    for name, text in values.items():
        page.get_by_role("textbox", name=name, exact=True).fill(text)
    page.get_by_role("button", name="Trace").click()
    # The page at / opens on the lecture's example, whose step texts may be this
    # trace's too. The clicked trace is drawn once the keyboard's place moves from
    # the Trace button to the graph; keys pressed before would step the first one.
    expect(page.locator("#graph")).to_be_focused()


def open_url(
    page: Page, base_url: str, expression: str, values: dict[str, Any], step: int, **extra: str
) -> None:
    params = {"expression": expression, "values": json.dumps(values), "step": str(step), **extra}
    page.goto(base_url + "/?" + urlencode(params))


def test_lecture_expression_stepped_to_the_end_with_the_keyboard(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    steps = trace["steps"]
    page.goto(base_url + "/")
    type_and_trace(page, LECTURE, {"x": "1", "y": "2", "z": "0"})
    status = page.get_by_role("status")
    expect(status).to_have_text(steps[0]["text"])
    expect(page.locator(f'[data-node-id="{node_id(trace, "y")}"]')).to_be_visible()
    # Every step's text in turn, with each of the forward keys (clickers send Page Down).
    keys = ["ArrowRight", "PageDown", "Space"]
    for i in range(1, len(steps)):
        page.keyboard.press(keys[i % len(keys)])
        expect(status).to_have_text(steps[i]["text"])
    # At the end: df/dy = 5 on y, the sum of its two outward branches.
    y = page.locator(f'[data-node-id="{node_id(trace, "y")}"]')
    expect(y.locator(".node-grad")).to_have_text("grad 5")
    expect(page.locator(f'[data-node-id="{node_id(trace, "x")}"] .node-grad')).to_have_text(
        "grad 2"
    )
    expect(page.get_by_role("button", name="Next step")).to_be_disabled()
    expect(page).to_have_url(re.compile(rf"[?&]step={len(steps) - 1}(&|$)"))
    # Back with the keyboard: Left, Page Up, Home, End.
    page.keyboard.press("ArrowLeft")
    expect(status).to_have_text(steps[-2]["text"])
    page.keyboard.press("PageUp")
    expect(status).to_have_text(steps[-3]["text"])
    page.keyboard.press("Home")
    expect(status).to_have_text(steps[0]["text"])
    page.keyboard.press("End")
    expect(status).to_have_text(steps[-1]["text"])


def test_forward_pass_shows_values_only_up_to_the_current_step(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 2)
    expect(page.get_by_role("status")).to_have_text(trace["steps"][2]["text"])
    current = trace["steps"][2]["node"]
    expect(page.locator(f'[data-node-id="{current}"]')).to_have_class(re.compile(r"\bis-current\b"))
    later = trace["output"]
    # A value not computed yet is not shown (drawn once, hidden until its step).
    expect(page.locator(f'[data-node-id="{later}"] .node-value')).to_be_hidden()
    expect(page.locator(f'[data-node-id="{current}"] .node-value')).to_be_visible()
    expect(page.locator(f'[data-node-id="{later}"]')).to_have_class(re.compile(r"\bis-pending\b"))
    for edge_id in trace["steps"][2]["edges"]:
        expect(page.locator(f'g.edge[data-edge-id="{edge_id}"]')).to_have_class(
            re.compile(r"\bis-current\b")
        )
    # No gradient anywhere before the backward pass.
    for node in trace["nodes"]:
        expect(page.locator(f'[data-node-id="{node["id"]}"] .node-grad')).to_be_hidden()


def test_backward_step_writes_downstream_as_upstream_times_local(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    max_id = next(n["id"] for n in trace["nodes"] if n["op"] == "max")
    step = next(
        s["index"] for s in trace["steps"] if s["phase"] == "backward" and s["node"] == max_id
    )
    open_url(page, base_url, LECTURE, LECTURE_VALUES, step)
    panel = page.get_by_role("complementary", name="Step details")
    expect(panel).to_contain_text("Backward pass")
    expect(panel).to_contain_text("downstream")
    expect(panel).to_contain_text("upstream")
    expect(panel).to_contain_text("local")
    # KaTeX's MathML carries the formula: the indicator 1(y > z) from the op registry.
    expect(panel.locator("annotation").first).to_be_attached()
    annotations = " ".join(panel.locator("annotation").all_text_contents())
    assert "\\mathbf{1}({y} > {z})" in annotations
    assert "3 = 3 \\times 1" in annotations
    expect(panel).to_contain_text("max routes")
    # y's own step writes the sum at its outward branch: 2 + 3 = 5.
    y_step = next(
        s["index"]
        for s in trace["steps"]
        if s["phase"] == "backward" and s["node"] == node_id(trace, "y")
    )
    page.keyboard.press("End")
    for _ in range(len(trace["steps"]) - 1 - y_step):
        page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][y_step]["text"])
    annotations = " ".join(panel.locator("annotation").all_text_contents())
    assert "= 2 + 3 = 5" in annotations
    expect(panel).to_contain_text("gradients sum at outward branches")


def test_url_reopens_the_same_view_and_follows_the_steps(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 8)
    status = page.get_by_role("status")
    expect(status).to_have_text(trace["steps"][8]["text"])
    expect(page.get_by_role("textbox", name="Expression")).to_have_value(LECTURE)
    expect(page.get_by_role("textbox", name="y", exact=True)).to_have_value("2")
    page.get_by_role("button", name="Next step").click()
    expect(status).to_have_text(trace["steps"][9]["text"])
    expect(page).to_have_url(re.compile(r"[?&]step=9(&|$)"))
    q = query(page)
    assert q["expression"] == LECTURE
    assert json.loads(q["values"]) == LECTURE_VALUES
    page.reload()
    expect(status).to_have_text(trace["steps"][9]["text"])


def test_example_from_the_menu(page: Page, base_url: str) -> None:
    examples = page.request.get(base_url + "/api/v1/examples").json()
    example = next(e for e in examples if "W" in e["values"])
    page.goto(base_url + "/")
    page.get_by_role("combobox", name="Example").select_option(label=example["title"])
    expect(page.get_by_role("textbox", name="Expression")).to_have_value(example["expression"])
    for name in example["values"]:
        expect(page.get_by_role("textbox", name=name, exact=True)).to_be_visible()
    trace = server_trace(page, base_url, example["expression"], example["values"])
    expect(page.get_by_role("status")).to_have_text(trace["steps"][0]["text"])
    expect(page.locator("[data-node-id]")).to_have_count(len(trace["nodes"]))
    expect(page.locator("g.edge[data-edge-id]")).to_have_count(len(trace["edges"]))


def test_neural_net_matrices_jacobians_and_the_two_gradient_forms(
    page: Page, base_url: str
) -> None:
    expression = "z = W @ x + b\nh = sigmoid(z)\ns = u @ h"
    values = {
        "W": [[0.5, -1, 0.25], [1, 0.5, -0.5]],
        "x": [1, 2, 3],
        "b": [0.5, -0.5],
        "u": [1, -1],
    }
    trace = server_trace(page, base_url, expression, values)
    page.goto(base_url + "/")
    type_and_trace(
        page,
        expression,
        {
            "W": "[[0.5, -1, 0.25], [1, 0.5, -0.5]]",
            "x": "[1, 2, 3]",
            "b": "[0.5, -0.5]",
            "u": "[1, -1]",
        },
    )
    expect(page.get_by_role("status")).to_have_text(trace["steps"][0]["text"])
    # The value boxes show their shapes.
    expect(page.locator(".value-field[data-input='W'] .shape")).to_have_text("2×3")
    # The sigmoid's backward step: the local Jacobian diag(f'(z)) is a diagonal table.
    h = node_id(trace, "h")
    step = next(s["index"] for s in trace["steps"] if s["phase"] == "backward" and s["node"] == h)
    page.keyboard.press("End")
    for _ in range(len(trace["steps"]) - 1 - step):
        page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][step]["text"])
    panel = page.locator("#panel")
    jacobian = panel.locator("table.tensor.is-diagonal")
    expect(jacobian).to_have_count(1)
    expect(jacobian.locator("caption")).to_contain_text("diagonal")
    expect(jacobian.locator("tr")).to_have_count(2)
    # The gradient in the shape convention (a column), then in the Jacobian form (a row).
    downstream = panel.locator("table.tensor", has_text="downstream")
    expect(downstream.locator("tr")).to_have_count(2)
    page.get_by_role("button", name="Jacobian form").click()
    expect(page.get_by_role("button", name="Jacobian form")).to_have_attribute(
        "aria-pressed", "true"
    )
    row_form = panel.locator("table.tensor", has_text="Jacobian form")
    expect(row_form.first.locator("tr")).to_have_count(1)
    # W's node shows its matrix, row by row, once the forward pass reaches it.
    page.keyboard.press("Home")
    w = page.locator(f'[data-node-id="{node_id(trace, "W")}"]')
    expect(w.locator(".node-value").nth(1)).to_have_text("[0.5, -1, 0.25]")


def test_syntax_error_is_shown_at_its_place(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    box = page.get_by_role("textbox", name="Expression")
    box.fill("x +* 2")
    page.get_by_role("textbox", name="x", exact=True).fill("1")
    page.get_by_role("button", name="Trace").click()
    error = page.locator("#expression-error")
    expect(error).to_be_visible()
    detail = page.request.post(
        base_url + "/api/v1/trace", data={"expression": "x +* 2", "values": {"x": 1}}
    ).json()["detail"]
    start, end = detail["span"]
    expect(error.locator("mark")).to_have_text("x +* 2"[start:end])
    expect(error.locator(".error-before")).to_have_text("x +* 2"[:start])
    expect(error).to_contain_text(detail["message"])
    expect(box).to_have_attribute("aria-invalid", "true")
    # Typing again clears it.
    box.fill("x * 2")
    expect(error).to_be_hidden()


def test_value_boxes_follow_the_expression(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("textbox", name="Expression").fill("a = u * v; a + sum(w)")
    for name in ("u", "v", "w"):
        expect(page.get_by_role("textbox", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="a", exact=True)).to_have_count(0)
    expect(page.get_by_role("textbox", name="x", exact=True)).to_have_count(0)
    page.get_by_role("textbox", name="w", exact=True).fill("[[1, 2], [3, 4")
    expect(page.locator(".value-field[data-input='w'] .shape")).to_have_class(
        re.compile(r"\bis-invalid\b")
    )
    page.get_by_role("textbox", name="w", exact=True).fill("[[1, 2], [3, 4]]")
    expect(page.locator(".value-field[data-input='w'] .shape")).to_have_text("2×2")


def test_play_and_pause(page: Page, base_url: str) -> None:
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 0)
    expect(page.get_by_role("status")).not_to_have_text("")
    page.get_by_role("combobox", name="Speed").select_option("0.5")
    page.get_by_role("button", name="Play").click()
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_visible()
    pause.click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    page.keyboard.press("End")
    expect(page).to_have_url(re.compile(r"[?&]step=11(&|$)"))
    page.get_by_role("button", name="Reset").click()
    expect(page).to_have_url(re.compile(r"[?&]step=0(&|$)"))
    expect(page.get_by_role("button", name="Previous step")).to_be_disabled()


@pytest.mark.parametrize("width,height", [(1280, 720), (1920, 1080)])
def test_presentation_mode(page: Page, base_url: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 0)
    expect(page.get_by_role("status")).to_have_text(trace["steps"][0]["text"])
    page.locator("body").press("p")
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
    expect(page.get_by_role("textbox", name="Expression")).to_be_hidden()
    expect(page.get_by_role("button", name="Present")).to_have_attribute("aria-pressed", "true")
    # Large type for the back of the hall.
    size = page.get_by_role("status").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 24
    # The whole graph fits the screen, and clicker keys still step.
    svg = page.locator("#graph").bounding_box()
    assert svg is not None
    for node in trace["nodes"]:
        box = page.locator(f'[data-node-id="{node["id"]}"]').bounding_box()
        assert box is not None
        assert box["x"] >= svg["x"] - 1 and box["x"] + box["width"] <= svg["x"] + svg["width"] + 1
        assert box["y"] >= svg["y"] - 1 and box["y"] + box["height"] <= svg["y"] + svg["height"] + 1
    page.keyboard.press("PageDown")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][1]["text"])
    page.get_by_role("button", name="Present").click()
    expect(page.get_by_role("textbox", name="Expression")).to_be_visible()


def test_non_finite_value_is_marked_where_it_first_appeared(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, "log(x) * y", {"x": 0, "y": 2})
    first = trace["warnings"][0]["node"]
    open_url(page, base_url, "log(x) * y", {"x": 0, "y": 2}, 0)
    node = page.locator(f'[data-node-id="{first}"]')
    expect(node).to_have_class(re.compile(r"\bnonfinite\b"))
    expect(node.locator(".badge-text")).to_contain_text("⚠")
    expect(page.get_by_role("list", name="Warnings")).to_contain_text(
        trace["warnings"][0]["message"]
    )


def test_gradient_check_next_to_each_input(page: Page, base_url: str) -> None:
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 0, check="1")
    expect(page.get_by_role("checkbox", name="Gradient check")).to_be_checked()
    page.keyboard.press("End")
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES, check=True)
    expect(page.locator(f'[data-node-id="{node_id(trace, "y")}"] .node-check')).to_have_text(
        "check 5 ok"
    )


@pytest.mark.parametrize("button,suffix", [("JSON", ".json"), ("SVG", ".svg"), ("PNG", ".png")])
def test_export(page: Page, base_url: str, button: str, suffix: str) -> None:
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 3)
    expect(page.locator("[data-node-id]").first).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name=button, exact=True).click()
    download = info.value
    assert download.suggested_filename.endswith(suffix)
    path = download.path()
    data = open(path, "rb").read()
    if suffix == ".json":
        assert json.loads(data)["expression"] == LECTURE
    elif suffix == ".svg":
        assert b"data-node-id" in data and b"<svg" in data
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_value_is_reported_by_the_server_at_its_place(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    page.get_by_role("textbox", name="Expression").fill("x * y")
    page.get_by_role("textbox", name="x", exact=True).fill("1")
    page.get_by_role("textbox", name="y", exact=True).fill("[1, 2")
    page.get_by_role("button", name="Trace").click()
    error = page.locator("#expression-error")
    expect(error).to_be_visible()
    expect(error.locator("mark")).to_have_text("y")
    expect(page.locator(".value-field[data-input='y'] .shape")).to_have_class(
        re.compile(r"\bis-invalid\b")
    )
    expect(page.locator(".value-field[data-input='y'] input[type='text']")).to_have_attribute(
        "aria-invalid", "true"
    )


NEURAL_NET = "z = W @ x + b; h = sigmoid(z); s = u @ h"
NEURAL_NET_VALUES = {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 0, -1], "b": [0.5, -0.5], "u": [1, -1]}

# The on-screen size of every drawn node text: its box's height, and its font
# size times the zoom the SVG is drawn at.
NODE_TEXT_SIZES = """() => [...document.querySelectorAll('[data-node-id] text')]
  .filter((t) => t.textContent && !t.closest('.badge'))
  .map((t) => ({
    text: t.textContent,
    height: t.getBoundingClientRect().height,
    px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
  }))"""


# The neural net's floor is the one the page keeps when presenting at 1280 px wide
# (GraphView.minAutoScale, 0.9, times the 16 px number type): its boxes carry the
# words "value" and "grad" as large as their numbers, and the whole net still fits.
@pytest.mark.parametrize(
    "expression,values,least",
    [(LECTURE, LECTURE_VALUES, 24), (NEURAL_NET, NEURAL_NET_VALUES, 0.9 * 16)],
    ids=["lecture", "neural-net"],
)
def test_presented_node_text_is_readable_at_1280x720(
    page: Page, base_url: str, expression: str, values: dict[str, Any], least: float
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    trace = server_trace(page, base_url, expression, values)
    last = len(trace["steps"]) - 1
    open_url(page, base_url, expression, values, last, present="1")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][last]["text"])
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
    page.wait_for_function("() => document.querySelector('#graph').getAttribute('viewBox')")
    sizes = page.evaluate(NODE_TEXT_SIZES)
    assert len(sizes) >= len(trace["nodes"]) * 2
    smallest = min(sizes, key=lambda s: s["px"])
    assert smallest["px"] >= least, smallest
    assert min(s["height"] for s in sizes) >= least * 1.1
    # Every node's label (its title) reads at 16 px or more.
    titles = page.evaluate(
        "() => [...document.querySelectorAll('[data-node-id] .node-title')]"
        ".map((t) => t.getBoundingClientRect().height)"
    )
    assert len(titles) == len(trace["nodes"]) and min(titles) >= 19
    # The whole graph is on screen.
    svg = page.locator("#graph").bounding_box()
    assert svg is not None
    for node in trace["nodes"]:
        box = page.locator(f'[data-node-id="{node["id"]}"]').bounding_box()
        assert box is not None
        assert box["x"] >= svg["x"] - 1 and box["x"] + box["width"] <= svg["x"] + svg["width"] + 1


def test_the_graph_keeps_its_zoom_while_stepping_in_presentation(page: Page, base_url: str) -> None:
    # Step texts differ in length: the status line must not resize the graph between steps.
    page.set_viewport_size({"width": 1280, "height": 720})
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 0, present="1")
    status = page.get_by_role("status")
    expect(status).to_have_text(trace["steps"][0]["text"])
    view = page.locator("#graph").get_attribute("viewBox")
    for i in range(1, len(trace["steps"])):
        page.keyboard.press("PageDown")
        expect(status).to_have_text(trace["steps"][i]["text"])
        assert page.locator("#graph").get_attribute("viewBox") == view


def test_graph_nodes_work_from_the_keyboard(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    steps = trace["steps"]
    last = len(steps) - 1
    open_url(page, base_url, LECTURE, LECTURE_VALUES, last)
    status = page.get_by_role("status")
    expect(status).to_have_text(steps[last]["text"])
    x, y = node_id(trace, "x"), node_id(trace, "y")
    # The Lesson button is the last control before the graph: Tab goes on to the first node.
    page.get_by_role("button", name="Lesson").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('data-node-id')")
    assert focused == x
    x_node = page.locator(f'[data-node-id="{x}"]')
    expect(x_node).to_have_attribute("role", "button")
    expect(x_node).to_have_attribute("aria-label", re.compile(r"^x = 1, gradient 2\b"))
    # The focus ring shows.
    expect(x_node.locator(".focus-ring")).to_be_visible()
    # In the backward pass Enter jumps to the node's backward step.
    page.keyboard.press("Enter")
    x_back = next(s for s in steps if s["phase"] == "backward" and s["node"] == x)
    expect(status).to_have_text(x_back["text"])
    expect(x_node).to_have_attribute("aria-current", "step")
    # Space on the next node does the same; the page's keys still step from a node.
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    y_back = next(s for s in steps if s["phase"] == "backward" and s["node"] == y)
    expect(status).to_have_text(y_back["text"])
    expect(page.locator(f'[data-node-id="{y}"]')).to_have_attribute(
        "aria-label", re.compile(r"^y = 2, gradient 5\b")
    )
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text(steps[y_back["index"] + 1]["text"])
    # During the forward pass Enter on a node jumps to its forward step.
    page.keyboard.press("Home")
    expect(status).to_have_text(steps[0]["text"])
    max_id = next(n["id"] for n in trace["nodes"] if n["op"] == "max")
    max_node = page.locator(f'[data-node-id="{max_id}"]')
    expect(max_node).to_have_attribute("aria-label", re.compile(r"not computed yet"))
    max_node.focus()
    page.keyboard.press("Enter")
    max_forward = next(s for s in steps if s["phase"] == "forward" and s["node"] == max_id)
    expect(status).to_have_text(max_forward["text"])
    expect(max_node).to_have_attribute("aria-label", re.compile(r"^max\(y, z\) = 2"))


def test_space_presses_a_focused_button_and_steps_elsewhere(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    steps = trace["steps"]
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 5)
    status = page.get_by_role("status")
    expect(status).to_have_text(steps[5]["text"])
    # Space on "Previous step" goes back: the button is pressed, not a step forward.
    page.get_by_role("button", name="Previous step").focus()
    page.keyboard.press("Space")
    expect(status).to_have_text(steps[4]["text"])
    # Space on the slider or the page itself steps forward.
    page.get_by_role("slider", name="Step").focus()
    page.keyboard.press("Space")
    expect(status).to_have_text(steps[5]["text"])
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("Space")
    expect(status).to_have_text(steps[6]["text"])
    # Space on Play plays, once (the button is not both renamed and pressed twice).
    page.get_by_role("combobox", name="Speed").select_option("0.5")
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()


def backward_step(trace: dict[str, Any], node: str) -> int:
    return next(
        s["index"] for s in trace["steps"] if s["phase"] == "backward" and s["node"] == node
    )


def test_an_inputs_panel_says_where_its_gradient_came_from(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    z, y = node_id(trace, "z"), node_id(trace, "y")
    open_url(page, base_url, LECTURE, LECTURE_VALUES, backward_step(trace, z))
    panel = page.locator("#panel")
    expect(panel.locator(".source")).to_have_count(1)
    source = panel.locator(".source").first
    expect(source).to_contain_text("from max(y, z)")
    expect(source).to_contain_text("upstream 3 × local 0 = 0")
    expect(source).to_contain_text("max routes the gradient to the larger input: here y")
    # y has two consumers: both shares, and their sum above them.
    open_url(page, base_url, LECTURE, LECTURE_VALUES, backward_step(trace, y))
    expect(panel.locator(".source")).to_have_count(2)
    expect(panel.locator(".source").nth(0)).to_contain_text("from x + y")
    expect(panel.locator(".source").nth(0)).to_contain_text("= 2")
    expect(panel.locator(".source").nth(1)).to_contain_text("= 3")
    expect(panel).to_contain_text("summed")
    # The + node's local gradient is written once: "= 1", not "= 1 = 1".
    add = next(n["id"] for n in trace["nodes"] if n["op"] == "add")
    open_url(page, base_url, LECTURE, LECTURE_VALUES, backward_step(trace, add))
    expect(panel.locator(".maths.local").first).to_be_visible()
    locals_ = " ".join(panel.locator(".maths.local annotation").all_text_contents())
    assert "= 1" in locals_ and "= 1 = 1" not in locals_


def test_the_neural_inputs_panel_names_its_consumer(page: Page, base_url: str) -> None:
    trace = server_trace(page, base_url, NEURAL_NET, NEURAL_NET_VALUES)
    x = node_id(trace, "x")
    open_url(page, base_url, NEURAL_NET, NEURAL_NET_VALUES, backward_step(trace, x))
    source = page.locator("#panel .source")
    expect(source).to_have_count(1)
    expect(source).to_contain_text("from W @ x")
    expect(source).to_contain_text("argument 2")


def test_a_failed_check_and_a_warning_are_told_by_more_than_colour(
    page: Page, base_url: str
) -> None:
    # relu at its kink: the numeric slope is 0.5, the convention's 0, so x's check fails.
    expression, values = "relu(x) * y", {"x": 0, "y": 3}
    trace = server_trace(page, base_url, expression, values, check=True)
    assert trace["check"]["x"]["ok"] is False and trace["check"]["y"]["ok"] is True
    open_url(page, base_url, expression, values, len(trace["steps"]) - 1, check="1")
    x_check = page.locator(f'[data-node-id="{node_id(trace, "x")}"] .node-check')
    expect(x_check).to_contain_text("FAILED ✗")
    expect(x_check).to_have_class(re.compile(r"\bis-failed\b"))
    expect(page.locator(f'[data-node-id="{node_id(trace, "y")}"] .node-check')).to_have_text(
        "check 0 ok"
    )
    page.keyboard.press("End")
    x_step = backward_step(trace, node_id(trace, "x"))
    for _ in range(len(trace["steps"]) - 1 - x_step):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#panel .check.is-failed")).to_contain_text("✗")
    # The kink is named in words with its icon, on the node and in the list.
    relu = next(n["id"] for n in trace["nodes"] if n["op"] == "relu")
    expect(page.locator(f'[data-node-id="{relu}"] .badge-text')).to_have_text("⚠ kink")
    expect(page.get_by_role("list", name="Warnings")).to_contain_text("⚠ kink:")


def test_presented_type_grows_with_the_screen(page: Page, base_url: str) -> None:
    sizes = {}
    for width, height in [(1280, 720), (1920, 1080)]:
        page.set_viewport_size({"width": width, "height": height})
        open_url(page, base_url, LECTURE, LECTURE_VALUES, 7, present="1")
        expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
        expect(page.locator("#panel .panel-head")).to_be_visible()
        sizes[width] = page.evaluate(
            "() => ['#step-text', '#panel .panel-head', '#next']"
            ".map((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"
        )
    assert sizes[1280][0] >= 24
    for small, large in zip(sizes[1280], sizes[1920], strict=True):
        assert large >= small * 1.4, sizes


@pytest.mark.parametrize("present", ["0", "1"])
def test_every_node_text_fits_inside_its_box(page: Page, base_url: str, present: str) -> None:
    # The second trace of a page is measured too (drawing the first clears the SVG),
    # and a gradient is measured bold and italic, as it is drawn.
    open_url(page, base_url, LECTURE, LECTURE_VALUES, 0, present=present)
    expect(page.locator("[data-node-id]").first).to_be_visible()
    if present == "1":
        page.keyboard.press("p")
    expression = "a0 = x + 1; a1 = a0 * x + 1; a2 = a1 * x + 2; a3 = a2 * x + 3"
    trace = server_trace(page, base_url, expression, {"x": 0.5})
    type_and_trace(page, expression, {"x": "0.5"})
    expect(page.get_by_role("status")).to_have_text(trace["steps"][0]["text"])
    if present == "1":
        page.keyboard.press("p")
        expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][-1]["text"])
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('[data-node-id]')].flatMap((g) => {
          const box = g.querySelector('rect.box').getBoundingClientRect();
          return [...g.querySelectorAll('text')].filter((t) => t.textContent && !t.closest('.badge'))
            .map((t) => [t.textContent, t.getBoundingClientRect()])
            .filter(([, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5)
            .map(([text]) => text);
        })"""
    )
    assert overflow == []


def test_text_widths_match_the_svgs_own_measure(page: Page, base_url: str) -> None:
    # Boxes are sized from canvas widths: each kind's font must be the one the
    # SVG draws it in, upper case and letter spacing included (a tensor's heads).
    values = {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 0, -1], "b": [0.5, -0.5], "u": [1, -1]}
    open_url(page, base_url, "z = W @ x + b; h = sigmoid(z); s = u @ h", values, 0)
    expect(page.locator("[data-node-id]").first).to_be_visible()
    result = page.evaluate(
        """async () => {
          const { domMeasure } = await import('/static/js/render/graph.js');
          const svg = document.getElementById('graph');
          const measure = domMeasure(svg);
          const probe = document.createElementNS('http://www.w3.org/2000/svg', 'text');
          svg.appendChild(probe);
          const seen = new Set();
          const kinds = new Set();
          const off = [];
          for (const t of svg.querySelectorAll('text')) {
            const kind = [...t.classList].find((c) => c.startsWith('t-'));
            if (!kind || !t.textContent || seen.has(kind + t.textContent)) continue;
            seen.add(kind + t.textContent);
            kinds.add(kind);
            probe.setAttribute('class', `measure ${kind}`);
            probe.textContent = t.textContent;
            const own = probe.getComputedTextLength();
            const canvas = measure(t.textContent, kind.slice(2));
            if (Math.abs(own - canvas) > 0.5) off.push([kind, t.textContent, own, canvas]);
          }
          probe.remove();
          return { kinds: [...kinds], off };
        }"""
    )
    assert {"t-title", "t-value", "t-edge", "t-head"} <= set(result["kinds"]), result["kinds"]
    assert result["off"] == []


# Everything a step shows: each node's and wire's texts, classes and spoken
# description, the panel's text (KaTeX's annotations hold the equations'
# sources) and the status line.
SNAPSHOT = """
async (frames) => {
  // A few frames: the panel and the URL follow a step in idle time.
  for (let i = 0; i < frames; i += 1) await new Promise((r) => requestAnimationFrame(r));
  // A fresh load sets its first panel after the graph's paint, in idle time.
  const panel = document.getElementById('panel');
  for (let i = 0; i < 200 && !panel.childNodes.length; i += 1) await new Promise((r) => setTimeout(r, 10));
  const svg = document.getElementById('graph');
  // What a step shows: a text no step has shown yet may not be made yet.
  const texts = (g) => [...g.querySelectorAll('text, title')]
    .map((t) => `${t.textContent} (${getComputedStyle(t).visibility})`)
    .filter((t) => !t.endsWith(' (hidden)'));
  // The order of classes is the order they were added in: only the set tells.
  const classes = (g) => [...g.classList].sort().join(' ');
  const nodes = [...svg.querySelectorAll('g[data-node-id]')].map((g) => ({
    id: g.getAttribute('data-node-id'), cls: classes(g), label: g.getAttribute('aria-label'),
    current: g.getAttribute('aria-current'), texts: texts(g) }));
  const edges = [...svg.querySelectorAll('g[data-edge-id]')].map((g) => ({
    id: g.getAttribute('data-edge-id'), cls: classes(g), texts: texts(g) }));
  return { nodes, edges, panel: panel.textContent, panelHtml: panel.innerHTML,
           status: document.querySelector('[role=status]').textContent };
}
"""

NEURAL = "z = W @ x + b\nh = sigmoid(z)\ns = u @ h"
NEURAL_VALUES: dict[str, Any] = {
    "W": [[0.5, -1, 0.25], [1, 0.5, -0.5]],
    "x": [1, 2, 3],
    "b": [0.5, -0.5],
    "u": [1, -1],
}


@pytest.mark.parametrize(
    ("expression", "values"),
    [(LECTURE, LECTURE_VALUES), (NEURAL, NEURAL_VALUES)],
    ids=["lecture", "neural"],
)
def test_stepping_back_and_forth_shows_what_a_fresh_load_shows(
    page: Page, base_url: str, expression: str, values: dict[str, Any]
) -> None:
    """The drawing updates only what changed and the panel is kept per step: neither may drift."""
    trace = server_trace(page, base_url, expression, values)
    steps = trace["steps"]
    n = len(steps)
    status = page.get_by_role("status")
    fresh: dict[int, Any] = {}
    targets = sorted({1, n // 2 - 1, n // 2 + 1, n - 2})
    for s in targets:
        open_url(page, base_url, expression, values, s)
        expect(status).to_have_text(steps[s]["text"])
        fresh[s] = page.evaluate(SNAPSHOT, 2)
    open_url(page, base_url, expression, values, 0)
    expect(status).to_have_text(steps[0]["text"])
    page.locator("body").click(position={"x": 2, "y": 2})
    # Through to the end one step at a time, back to the start, then jumps and single steps.
    for i in range(1, n):
        page.keyboard.press("ArrowRight")
        expect(status).to_have_text(steps[i]["text"])
    for i in range(n - 2, -1, -1):
        page.keyboard.press("ArrowLeft")
        expect(status).to_have_text(steps[i]["text"])
    page.keyboard.press("End")
    expect(status).to_have_text(steps[-1]["text"])
    at = n - 1
    for s in sorted(targets, reverse=True) + targets:
        key = "ArrowLeft" if s < at else "ArrowRight"
        for _ in range(abs(s - at)):
            page.keyboard.press(key)
        at = s
        expect(status).to_have_text(steps[s]["text"])
        shown = page.evaluate(SNAPSHOT, 2)
        for part in ("nodes", "edges"):
            for a, b in zip(shown[part], fresh[s][part], strict=True):
                assert a == b, (
                    f"step {s}: {part[:-1]} {b['id']} differs from a fresh load at that step"
                )
        assert shown == fresh[s], (
            f"step {s}: the panel or status differs from a fresh load at that step"
        )


def test_jumps_on_a_long_program_settle_to_what_a_fresh_load_shows(
    page: Page, base_url: str
) -> None:
    """A jump's changes land everywhere at once, on screen and off it: all of them, and nothing else."""
    lines = ["a0 = x * y"] + [f"a{i} = a{i - 1} * x + y" for i in range(1, 40)]
    expression = "\n".join(lines)
    values = {"x": 0.5, "y": 2}
    page.set_viewport_size({"width": 1280, "height": 720})
    trace = server_trace(page, base_url, expression, values)
    steps = trace["steps"]
    n = len(steps)
    status = page.get_by_role("status")
    targets = [1, 3, n - 4, n - 2]
    fresh: dict[int, Any] = {}
    for s in targets:
        open_url(page, base_url, expression, values, s)
        expect(status).to_have_text(steps[s]["text"])
        fresh[s] = page.evaluate(SNAPSHOT, 60)
    open_url(page, base_url, expression, values, n // 2)
    expect(status).to_have_text(steps[n // 2]["text"])
    # The graph is larger than the screen: some nodes are off it.
    assert page.evaluate(
        """() => { const r = document.getElementById('graph').getBoundingClientRect();
        return [...document.querySelectorAll('g[data-node-id]')].some((g) => {
          const b = g.getBoundingClientRect(); return b.right < r.left || b.left > r.right
            || b.bottom < r.top || b.top > r.bottom; }); }"""
    )
    page.locator("body").click(position={"x": 2, "y": 2})
    for key, s, moves in [
        ("End", n - 1, 0),
        ("ArrowLeft", n - 2, 1),
        ("ArrowLeft", n - 4, 2),
        ("Home", 0, 0),
        ("ArrowRight", 1, 1),
        ("ArrowRight", 3, 2),
        ("End", n - 1, 0),
        ("ArrowLeft", n - 2, 1),
    ]:
        for _ in range(max(1, moves)):
            page.keyboard.press(key)
        expect(status).to_have_text(steps[s]["text"])
        if s in fresh:
            shown = page.evaluate(SNAPSHOT, 60)
            for part in ("nodes", "edges"):
                for a, b in zip(shown[part], fresh[s][part], strict=True):
                    assert a == b, f"step {s}: {part[:-1]} {b['id']} differs from a fresh load"


# At the first mutation that puts nodes in the drawing (delivered once the
# task that drew them, and set its first step, is over): its texts and how
# many of them are hidden.
FIRST_DRAW = """
async () => {
  const svg = document.getElementById('graph');
  const first = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!svg.querySelector('[data-node-id]')) return;
      observer.disconnect();
      const texts = [...svg.querySelectorAll('text')];
      resolve({ made: texts.length,
                hidden: texts.filter((t) => getComputedStyle(t).visibility === 'hidden').length });
    });
    observer.observe(svg, { childList: true, subtree: true });
  });
  document.getElementById('trace-button').click();
  return first;
}
"""


def test_a_new_trace_draws_the_texts_of_its_first_step_and_the_others_in_idle_time(
    page: Page, base_url: str
) -> None:
    """The first frame styles and lays out only what it shows; stepping later only changes classes."""
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    # A scalar node has a title, a value and a gradient; a wire its value and gradient.
    total = 3 * len(trace["nodes"]) + 2 * len(trace["edges"])
    all_made = f"() => document.querySelectorAll('#graph text').length === {total}"
    # The page opens on this trace: once it is idle, its drawing is complete.
    page.goto(base_url + "/")
    page.wait_for_function(all_made)
    first = page.evaluate(FIRST_DRAW)
    # Every node's title and what step 1 shows, nothing hidden yet.
    assert first["hidden"] == 0
    assert len(trace["nodes"]) < first["made"] < 3 * len(trace["nodes"])
    # Then, with nothing else to do, the page makes the rest, hidden until a step shows them.
    page.wait_for_function(all_made)
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('#graph text')]"
        ".filter((t) => getComputedStyle(t).visibility === 'hidden').length"
    )
    assert hidden == total - first["made"]
    # Stepping to the end shows every gradient, each text once.
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(trace["steps"][-1]["text"])
    for node in trace["nodes"]:
        expect(page.locator(f'[data-node-id="{node["id"]}"] .node-grad')).to_have_count(1)
        expect(page.locator(f'[data-node-id="{node["id"]}"] .node-grad')).to_be_visible()
    assert page.locator("#graph text").count() == total


def test_the_status_line_is_as_tall_as_the_longest_step_text_from_the_first_frame(
    page: Page, base_url: str
) -> None:
    """Long step texts wrap to several lines: the graph's size holds from the first step on."""
    lines = ["a = x * y", "b = max(a, x)", "c = a + b", "d = c * a", "e = tanh(d) + b * a + c"]
    expression = "\n".join(lines)
    values = {"x": 0.123456, "y": -0.98765}
    page.set_viewport_size({"width": 1280, "height": 720})
    trace = server_trace(page, base_url, expression, values)
    steps = trace["steps"]
    # Some texts wrap, and to more lines than others.
    assert max(len(s["text"]) for s in steps) > 2 * min(len(s["text"]) for s in steps)
    open_url(page, base_url, expression, values, 0)
    status = page.get_by_role("status")
    expect(status).to_have_text(steps[0]["text"])
    size = page.locator("#graph").bounding_box()
    view = page.locator("#graph").get_attribute("viewBox")
    page.locator("body").click(position={"x": 2, "y": 2})
    for i in range(1, len(steps)):
        page.keyboard.press("ArrowRight")
        expect(status).to_have_text(steps[i]["text"])
        assert page.locator("#graph").bounding_box() == size, steps[i]["text"]
        assert page.locator("#graph").get_attribute("viewBox") == view


def test_the_jacobian_form_and_the_speed_survive_a_reload(page: Page, base_url: str) -> None:
    expression = "z = W @ x + b\nh = sigmoid(z)\ns = u @ h"
    values = {"W": [[0.5, -1, 0.25], [1, 0.5, -0.5]], "x": [1, 2, 3], "b": [0.5, -0.5], "u": [1, -1]}
    trace = server_trace(page, base_url, expression, values)
    last = len(trace["steps"]) - 1
    open_url(page, base_url, expression, values, last)
    expect(page.get_by_role("status")).to_have_text(trace["steps"][last]["text"])
    jacobian = page.get_by_role("button", name="Jacobian form")
    expect(jacobian).to_have_attribute("aria-pressed", "false")
    jacobian.click()
    page.get_by_role("combobox", name="Speed").select_option("2")
    expect(page).to_have_url(re.compile(r"[?&]jacobian=1(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]speed=2(&|$)"))
    # The contract's three come first, unchanged.
    q = query(page)
    assert list(q)[:3] == ["expression", "values", "step"]
    assert q["step"] == str(last) and json.loads(q["values"]) == values
    page.reload()
    expect(page.get_by_role("status")).to_have_text(trace["steps"][last]["text"])
    expect(page.get_by_role("button", name="Jacobian form")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("combobox", name="Speed")).to_have_value("2")
    expect(page.locator("#panel")).to_contain_text("Jacobian form")
    # Turned off again, the form leaves the link.
    page.get_by_role("button", name="Jacobian form").click()
    expect(page).not_to_have_url(re.compile(r"[?&]jacobian="))


def test_the_page_answers_typing_and_keys_while_the_graph_is_laid_out(
    page: Page, base_url: str
) -> None:
    """dagre runs in the layout worker: held there, it holds nothing on the page's thread."""
    held: list[Any] = []
    page.route("**/vendor/dagre/**", lambda route: held.append(route))
    trace = server_trace(page, base_url, LECTURE, LECTURE_VALUES)
    page.goto(base_url + "/")
    page.wait_for_function("() => document.querySelectorAll('.value-field').length === 3")
    # The worker asks for dagre once it starts: wait for that request to be held.
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the layout worker never asked for dagre"
    assert [w.url.rsplit("/", 1)[-1] for w in page.workers] == ["layout-worker.js"]
    # The layout cannot finish while dagre is held, yet the page types, builds value boxes and takes keys.
    assert page.locator("[data-node-id]").count() == 0
    page.get_by_role("textbox", name="Expression").fill("a * b + c")
    expect(page.get_by_role("textbox", name="c", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="Expression").fill(LECTURE)
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("p")
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
    page.keyboard.press("p")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bpresenting\b"))
    for route in held:
        route.continue_()
    expect(page.locator("[data-node-id]")).to_have_count(len(trace["nodes"]))
    expect(page.get_by_role("status")).to_have_text(trace["steps"][0]["text"])


def test_an_op_registered_at_test_time_is_read_and_written_by_the_page(page: Page) -> None:
    """The page keeps no list of ops: a new registry entry reaches its value boxes, maths and words."""
    from gradtrace.ops import register, unregister
    from tests.api.test_new_op import HINGE
    from tests.conftest import LiveServer

    register(HINGE)
    try:
        server = LiveServer().start()
        try:
            expression = "a = hinge(x)\na * 3"
            trace = server_trace(page, server.url, expression, {"x": 1})
            a_id = node_id(trace, "a")
            forward = next(
                s["index"] for s in trace["steps"] if s["phase"] == "forward" and s["node"] == a_id
            )
            open_url(page, server.url, expression, {"x": 1}, forward)
            status = page.get_by_role("status")
            expect(status).to_have_text(trace["steps"][forward]["text"])
            panel = page.locator("#panel")
            expect(panel.locator("annotation").first).to_be_attached()
            annotations = " ".join(panel.locator("annotation").all_text_contents())
            assert "\\operatorname{hinge}(x) = \\operatorname{hinge}(1) = 0" in annotations
            expect(page.get_by_role("list", name="Warnings")).to_contain_text("kink")
            # Its backward step: the registry's rule in a few words, beside the wire's numbers.
            x_step = next(
                s["index"] for s in trace["steps"] if s["phase"] == "backward" and s["node"] == a_id
            )
            page.locator("body").click(position={"x": 2, "y": 2})
            page.keyboard.press("End")
            for _ in range(len(trace["steps"]) - 1 - x_step):
                page.keyboard.press("ArrowLeft")
            expect(status).to_have_text(trace["steps"][x_step]["text"])
            expect(panel).to_contain_text("hinge gates")
            # Typed before its parenthesis, the new function gets no value box.
            page.get_by_role("textbox", name="Expression").fill("hinge + y")
            expect(page.get_by_role("textbox", name="y", exact=True)).to_be_visible()
            expect(page.locator(".value-field[data-input='hinge']")).to_have_count(0)
        finally:
            server.stop()
    finally:
        unregister("hinge")
