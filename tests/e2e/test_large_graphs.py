"""Large graphs on the page: the header fits whatever the number of inputs, the drawing holds
what is near the view and shows a jump's final frame at once, Fit keeps type readable (again:
the whole graph as shapes), the minimap moves the view, and a node is found by its name.

The largest sizes that fit a few seconds each: 1,000 nodes, and 5,000, the default max_nodes.
"""

from __future__ import annotations

from typing import Any

from bench.page_large import FILL, TRACE
from bench.programs import generate
from playwright.sync_api import Page, expect

# What the drawing holds now: each node's id, classes and whether its box is on the screen.
DRAWN = """
() => {
  const r = document.getElementById('graph').getBoundingClientRect();
  return [...document.querySelectorAll('#graph g[data-node-id]')].map((g) => {
    const b = g.getBoundingClientRect();
    return { id: g.getAttribute('data-node-id'), cls: [...g.classList],
             onScreen: b.right > r.left && b.left < r.right && b.bottom > r.top && b.top < r.bottom };
  });
}
"""


def trace_program(page: Page, base_url: str, text: str, values: dict[str, Any]) -> dict[str, Any]:
    response = page.request.post(
        base_url + "/api/v1/trace", data={"expression": text, "values": values}
    )
    assert response.status == 200, response.text()[:300]
    body: dict[str, Any] = response.json()
    page.goto(base_url + "/")
    # The opening trace drawn first: the drawing's number then moves for this one only.
    page.wait_for_function("() => document.getElementById('graph').dataset.drawn")
    # The boxes filled as typing would, in one go (a long program typed key by key takes
    # seconds), then Trace pressed and the drawing waited for, as the benchmark does.
    page.evaluate(FILL, {"text": text, "values": values})
    page.evaluate(TRACE)
    expect(page.get_by_role("status")).to_have_text(body["steps"][0]["text"])
    return body


def mlp(layers: int, width: int) -> tuple[str, dict[str, Any]]:
    """A deep network of `layers` tanh layers of `width` x `width` matrices: 2 x layers + 1 inputs."""
    lines = []
    values: dict[str, Any] = {"x": [0.1 * (i % 5) - 0.2 for i in range(width)]}
    previous = "x"
    for k in range(1, layers + 1):
        lines.append(f"h{k} = tanh(W{k} @ {previous} + b{k})")
        values[f"W{k}"] = [
            [((i * 7 + j * 3 + k) % 11 - 5) / 20 for j in range(width)] for i in range(width)
        ]
        values[f"b{k}"] = [((i + k) % 3 - 1) / 10 for i in range(width)]
        previous = f"h{k}"
    lines.append(f"s = sum({previous})")
    return "\n".join(lines), values


def test_61_inputs_leave_the_header_on_the_screen_and_the_graph_in_view(
    page: Page, base_url: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    text, values = mlp(30, 8)
    assert len(values) == 61
    trace_program(page, base_url, text, values)
    assert page.locator("#values .value-field").count() == 61
    header = page.locator("header.topbar").bounding_box()
    graph = page.locator("#graph").bounding_box()
    assert header is not None and graph is not None
    assert header["height"] < 720 / 3, header
    # The graph is on the screen, with room to read it.
    assert graph["y"] >= header["y"] + header["height"] - 1
    assert graph["y"] + graph["height"] <= 720 and graph["height"] >= 200, graph
    # The value boxes scroll inside the header: the last one is reached by scrolling it.
    scroll = page.evaluate(
        "() => { const v = document.getElementById('values'); return [v.scrollHeight, v.clientHeight]; }"
    )
    assert scroll[0] > scroll[1]
    last = page.get_by_role("textbox", name="b30", exact=True)
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()


def test_a_1000_node_graph_holds_what_is_near_the_view_and_jumps_at_once(
    page: Page, base_url: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    program = generate(992, seed=1000, n_inputs=8)
    trace = trace_program(page, base_url, program.text, program.values)
    steps = trace["steps"]
    drawn = page.evaluate(DRAWN)
    assert 0 < len(drawn) < len(trace["nodes"]) / 2  # a screen's worth, not the whole graph
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(steps[-1]["text"])
    # The final frame everywhere the drawing holds, in the task that handled the key.
    drawn = page.evaluate(DRAWN)
    output = steps[-1]["node"]
    current = [d for d in drawn if "is-current" in d["cls"]]
    assert [d["id"] for d in current] == [output] and current[0]["onScreen"]
    constants = {n["id"] for n in trace["nodes"] if n.get("constant")}
    assert all("has-grad" in d["cls"] for d in drawn if d["id"] not in constants)
    page.keyboard.press("Home")
    expect(page.get_by_role("status")).to_have_text(steps[0]["text"])
    drawn = page.evaluate(DRAWN)
    assert not any("has-grad" in d["cls"] for d in drawn)
    assert [d["id"] for d in drawn if "has-value" in d["cls"]] == [steps[0]["node"]]
    # The minimap moves the view to the far end: the nodes made there show the frame too.
    minimap = page.locator("canvas.minimap")
    expect(minimap).to_be_visible()
    box = minimap.bounding_box()
    assert box is not None
    shown = {d["id"] for d in drawn}
    minimap.click(position={"x": box["width"] * 0.7, "y": box["height"] / 2})
    drawn = page.evaluate(DRAWN)
    assert drawn and not shown & {d["id"] for d in drawn}
    assert all("is-pending" in d["cls"] for d in drawn)


def test_fit_keeps_type_readable_then_shows_the_whole_graph_as_shapes(
    page: Page, base_url: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    program = generate(992, seed=1000, n_inputs=8)
    trace_program(page, base_url, program.text, program.values)
    scale = "() => document.getElementById('graph').getBoundingClientRect().width / Number(document.getElementById('graph').getAttribute('viewBox').split(' ')[2])"
    # Zoomed out by hand, Fit comes back to readable type around the current step.
    for _ in range(12):
        page.get_by_role("button", name="Zoom out").click()
    assert page.evaluate(scale) < 0.3
    page.get_by_role("button", name="Fit").click()
    assert page.evaluate(scale) >= 0.5
    expect(page.locator("canvas.overview")).to_be_hidden()
    assert page.locator("#graph g[data-node-id]").count() > 0
    page.get_by_role("button", name="Fit").click()
    assert page.evaluate(scale) < 0.3
    # Whole, past readable type: the canvas draws it, the SVG holds no node, no minimap is needed.
    expect(page.locator("canvas.overview")).to_be_visible()
    assert page.locator("#graph g[data-node-id]").count() == 0
    expect(page.locator("canvas.minimap")).to_be_hidden()
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("ArrowRight")  # stepping still works, and the canvas shows it
    expect(page.get_by_role("status")).not_to_have_text("")


def test_a_node_is_found_by_its_name_and_its_steps_follow(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    program = generate(992, seed=1000, n_inputs=8)
    trace = trace_program(page, base_url, program.text, program.values)
    target = next(n["id"] for n in trace["nodes"] if n.get("name") == "v700")
    forward = next(s for s in trace["steps"] if s["node"] == target and s["phase"] == "forward")
    backward = next(s for s in trace["steps"] if s["node"] == target and s["phase"] == "backward")
    find = page.get_by_role("searchbox", name="Find a node")
    find.fill("v700")
    find.press("Enter")
    expect(page.get_by_role("status")).to_have_text(forward["text"])
    node = page.locator(f'#graph g[data-node-id="{target}"]')
    expect(node).to_have_attribute("aria-current", "step")
    expect(node).to_be_in_viewport()
    find.press("Enter")
    expect(page.get_by_role("status")).to_have_text(backward["text"])
    find.fill("no-such-node")
    find.press("Enter")
    expect(find).to_have_attribute("aria-invalid", "true")


def test_a_5000_node_graph_at_the_default_limit_steps_jumps_and_traces_again(
    page: Page, base_url: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    program = generate(4992, seed=5000, n_inputs=8)
    trace = trace_program(page, base_url, program.text, program.values)
    assert len(trace["nodes"]) == 5_000
    steps = trace["steps"]
    assert page.locator("#graph *").count() < 2_000
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(steps[-1]["text"])
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("status")).to_have_text(steps[-2]["text"])
    # Trace again: a new drawing replaces the old one whole.
    before = page.evaluate("document.getElementById('graph').dataset.drawn")
    page.get_by_role("button", name="Trace").click()
    page.wait_for_function(
        "(b) => document.getElementById('graph').dataset.drawn !== b", arg=before
    )
    expect(page.get_by_role("status")).to_have_text(steps[0]["text"])
    assert page.locator("#graph *").count() < 2_000
