"""Statement groups on the page: a statement closes into one box and opens again (by its toggle
and by the O key), nothing else moves, wires into the box come from the edges that cross its
edge, the step's node lights its closed group, and a large program opens with its groups closed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
LAYER_VALUES = {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1, 2, 3], "b": [0.5, -0.5], "u": [1, -1]}

# Each node's box on the screen, and whether it is drawn.
BOXES = """
() => Object.fromEntries([...document.querySelectorAll('#graph g[data-node-id]')].map((g) => {
  const b = g.getBoundingClientRect();
  return [g.getAttribute('data-node-id'), { x: b.x, y: b.y, drawn: getComputedStyle(g).display !== 'none' }];
}))
"""

# Each wire: its path and whether it is drawn.
WIRES = """
() => Object.fromEntries([...document.querySelectorAll('#graph g.edge')].map((g) => [
  g.getAttribute('data-edge-id'),
  { d: g.firstChild.getAttribute('d'), drawn: getComputedStyle(g).display !== 'none' },
]))
"""


def open_traced(page: Page, base_url: str, expression: str, values: dict[str, Any], step: int = 0) -> dict[str, Any]:
    response = page.request.post(base_url + "/api/v1/trace", data={"expression": expression, "values": values})
    assert response.status == 200, response.text()[:300]
    body: dict[str, Any] = response.json()
    page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": str(step)}))
    expect(page.get_by_role("status")).to_have_text(body["steps"][step]["text"])
    return body


def test_a_statement_of_the_neural_layer_closes_into_one_box_and_opens_again(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    body = open_traced(page, base_url, LAYER, LAYER_VALUES)
    z = body["groups"][0]
    assert z["name"] == "z" and len(z["nodes"]) == 2
    matmul, head = z["nodes"]
    before = page.evaluate(BOXES)
    wires_before = page.evaluate(WIRES)
    assert all(box["drawn"] for box in before.values())
    toggle = page.get_by_role("button", name="Close group z = W @ x + b into one box")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    opened = page.get_by_role("button", name="Open group z = W @ x + b (2 nodes)")
    expect(opened).to_have_attribute("aria-expanded", "false")
    after = page.evaluate(BOXES)
    # W @ x is inside the box now; nothing drawn has moved.
    assert not after[matmul]["drawn"]
    for node_id, box in after.items():
        if node_id != matmul:
            assert box["drawn"] and (box["x"], box["y"]) == (before[node_id]["x"], before[node_id]["y"]), node_id
    head_g = page.locator(f'#graph g[data-node-id="{head}"]')
    expect(head_g).to_have_class(re.compile(r"\bis-collapsed\b"))
    # The statement's text, cut to the box the node had: closing moves nothing.
    expect(head_g.locator(".group-title")).to_have_text(re.compile(r"^z = W( @ x \+ b|.*…)$"))
    expect(head_g.locator(".group-title")).to_be_visible()
    # The wires: W and x into W @ x now go into the box; W @ x into + is inside it; b into + stays.
    wires = page.evaluate(WIRES)
    for edge in body["edges"]:
        crossing = edge["target"] == matmul
        inside = edge["source"] == matmul
        assert wires[edge["id"]]["drawn"] == (not inside), edge
        assert (wires[edge["id"]]["d"] != wires_before[edge["id"]]["d"]) == crossing, edge
    # Open again: all as it was.
    opened.click()
    expect(page.get_by_role("button", name="Close group z = W @ x + b into one box")).to_be_visible()
    assert page.evaluate(BOXES) == before
    assert page.evaluate(WIRES) == wires_before


def test_the_o_key_closes_the_steps_group_and_the_step_lights_its_box(page: Page, base_url: str) -> None:
    body = open_traced(page, base_url, LAYER, LAYER_VALUES)
    z = body["groups"][0]
    matmul, head = z["nodes"]
    step = next(s["index"] for s in body["steps"] if s["node"] == matmul and s["phase"] == "forward")
    page.locator("#graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    for _ in range(step):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_role("status")).to_have_text(body["steps"][step]["text"])
    page.keyboard.press("o")
    head_g = page.locator(f'#graph g[data-node-id="{head}"]')
    # The step works on W @ x, inside the closed box: the box is lit, and says so.
    expect(head_g).to_have_attribute("aria-current", "step")
    expect(head_g).to_have_attribute("aria-label", re.compile(r"z = W @ x \+ b, a closed group of 2 nodes.*current step"))
    # Stepping on with the group closed: the next step (+, the head itself) lights it too, then h.
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("status")).to_have_text(body["steps"][step + 1]["text"])
    lit = body["steps"][step + 1]["node"]
    shown = head if lit in z["nodes"] else lit
    expect(page.locator(f'#graph g[data-node-id="{shown}"]')).to_have_attribute("aria-current", "step")
    # Back into the group, then out of it: the light leaves the box.
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(body["steps"][-1]["text"])
    last = body["steps"][-1]["node"]
    shown = head if last in z["nodes"] else last
    expect(page.locator(f'#graph g[data-node-id="{shown}"]')).to_have_attribute("aria-current", "step")
    if shown != head:
        expect(head_g).not_to_have_attribute("aria-current", "step")
    # O again opens it.
    page.keyboard.press("o")
    expect(page.locator(f'#graph g[data-node-id="{matmul}"]')).to_be_visible()


def collapse_nodes() -> int:
    """The page's size from which on a graph opens closed (COLLAPSE_NODES in groups.js)."""
    source = (Path(__file__).parents[2] / "frontend" / "js" / "groups.js").read_text()
    found = re.search(r"export const COLLAPSE_NODES = (\d+);", source)
    assert found
    return int(found.group(1))


def test_a_large_program_opens_with_its_statements_closed(page: Page, base_url: str) -> None:
    lines = [f"a{k} = a{k - 1} * 2 + 1" if k > 1 else "a1 = x * 2 + 1" for k in range(1, 61)]
    program = "; ".join([*lines, "s = a60 * a1"])
    body = open_traced(page, base_url, program, {"x": 0.001})
    assert len(body["nodes"]) >= collapse_nodes()
    boxes = page.evaluate(BOXES)
    closable = [g for g in body["groups"] if len(g["nodes"]) > 1]
    assert len(closable) == 60
    for group in closable:
        for node_id in group["nodes"]:
            if node_id in boxes:  # a node far from the view may not be drawn at all
                assert boxes[node_id]["drawn"] == (node_id == group["output"]), node_id
    first = closable[0]
    head = page.locator(f'#graph g[data-node-id="{first["output"]}"]')
    expect(head).to_have_class(re.compile(r"\bis-collapsed\b"))
    # Stepping through a closed group lights its box; opening it shows its members.
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("status")).to_have_text(body["steps"][1]["text"])
    lit = body["steps"][1]["node"]
    shown = first["output"] if lit in first["nodes"] else lit
    expect(page.locator(f'#graph g[data-node-id="{shown}"]')).to_have_attribute("aria-current", "step")
    page.get_by_role("button", name="Open group a1 = x * 2 + 1 (4 nodes)").click()
    for node_id in first["nodes"]:
        expect(page.locator(f'#graph g[data-node-id="{node_id}"]')).to_be_visible()


def test_a_call_closes_into_one_gate_with_its_own_local_gradient_and_opens_again(page: Page, base_url: str) -> None:
    program = "def sig(a) = 1 / (1 + exp(-a))\ns = sig(z)"
    body = open_traced(page, base_url, program, {"z": 0.5}, step=0)
    call = next(g for g in body["groups"] if g["kind"] == "call")
    (wire,) = call["wires"]
    page.locator("#graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("End")
    expect(page.get_by_role("status")).to_have_text(body["steps"][-1]["text"])
    before = page.evaluate(BOXES)
    page.get_by_role("button", name="Close group sig(z) into one box").click()
    after = page.evaluate(BOXES)
    for node_id in call["nodes"]:
        assert after[node_id]["drawn"] == (node_id == call["output"]), node_id
    for node_id in after:
        if after[node_id]["drawn"]:
            assert (after[node_id]["x"], after[node_id]["y"]) == (before[node_id]["x"], before[node_id]["y"])
    # One wire from z into the gate: its downstream, and the gate's local, sigmoid's σ(1 - σ) = 0.235.
    drawn = page.locator("#graph g.edge-label:not(.in-collapsed)")
    expect(drawn).to_have_count(1)
    expect(drawn.locator(".edge-local")).to_have_text(re.compile(r"^local 0\.235"))
    expect(drawn.locator(".edge-grad")).to_have_text(re.compile(r"^← 0\.235"))
    assert abs(wire["local"] - 0.2350037) < 1e-6
    head = page.locator(f'#graph g[data-node-id="{call["output"]}"]')
    expect(head).to_have_attribute("aria-label", re.compile(r"^sig\(z\), a closed group of 6 nodes = 0\.62"))
    # And open again: every primitive of the body is back, with its own wires.
    page.get_by_role("button", name="Open group sig(z) (6 nodes)").click()
    assert page.evaluate(BOXES) == before
    expect(page.locator("#graph g.edge-label .edge-local")).to_have_count(0)


def test_the_groups_opened_or_closed_survive_a_reload(page: Page, base_url: str) -> None:
    body = open_traced(page, base_url, LAYER, LAYER_VALUES)
    matmul, head = body["groups"][0]["nodes"]
    page.get_by_role("button", name="Close group z = W @ x + b into one box").click()
    page.wait_for_function("() => location.search.includes('groups=g0')")
    page.reload()
    expect(page.get_by_role("status")).to_have_text(body["steps"][0]["text"])
    expect(page.locator(f'#graph g[data-node-id="{head}"]')).to_have_class(re.compile(r"\bis-collapsed\b"))
    expect(page.locator(f'#graph g[data-node-id="{matmul}"]')).to_be_hidden()
    # Opened again, the link says nothing of groups.
    page.get_by_role("button", name="Open group z = W @ x + b (2 nodes)").click()
    page.wait_for_function("() => !location.search.includes('groups=')")


# The drawn extent of the graph's visible boxes, in the layout's units.
EXTENT = """
() => {
  const boxes = [...document.querySelectorAll('#graph g.node[data-node-id]')].filter((g) => getComputedStyle(g).display !== 'none');
  const b = boxes.map((g) => g.getBBox()).map((r, i) => {
    const m = boxes[i].transform.baseVal.consolidate();
    const [x, y] = m ? [m.matrix.e, m.matrix.f] : [0, 0];
    return { x0: x + r.x, y0: y + r.y, x1: x + r.x + r.width, y1: y + r.y + r.height };
  });
  return (Math.max(...b.map((r) => r.x1)) - Math.min(...b.map((r) => r.x0)))
    * (Math.max(...b.map((r) => r.y1)) - Math.min(...b.map((r) => r.y0)));
}
"""

# Each visible node's place in the layout (not on the screen: the view may move).
PLACES = """
() => Object.fromEntries([...document.querySelectorAll('#graph g.node[data-node-id]')]
  .filter((g) => getComputedStyle(g).display !== 'none')
  .map((g) => [g.getAttribute('data-node-id'), g.getAttribute('transform')]))
"""

# The screen boxes of the visible nodes.
ON_SCREEN = """
() => [...document.querySelectorAll('#graph g.node[data-node-id]')]
  .filter((g) => getComputedStyle(g).display !== 'none')
  .map((g) => { const b = g.getBoundingClientRect(); return { id: g.getAttribute('data-node-id'), x: b.x, y: b.y, width: b.width, height: b.height }; })
"""

# A new drawing: the number the page gives each drawing has moved past `before`.
DRAWN_AFTER = "(b) => document.getElementById('graph').dataset.drawn !== b"


def test_a_large_program_opened_closed_is_compact_and_a_group_reopens_the_same(page: Page, base_url: str) -> None:
    lines = [f"a{k} = a{k - 1} * x + y" if k > 1 else "a1 = x * y + x" for k in range(1, 81)]
    program = "; ".join([*lines, "s = a80 * a1"])
    body = open_traced(page, base_url, program, {"x": 0.5, "y": 0.25})
    assert len(body["nodes"]) >= collapse_nodes()
    closed_area = page.evaluate(EXTENT)
    # The same program, every group open: the URL's toggles open all 40.
    ids = ",".join(g["id"] for g in body["groups"] if len(g["nodes"]) > 1)
    query = urlencode({"expression": program, "values": json.dumps({"x": 0.5, "y": 0.25}), "step": "0", "groups": ids})
    page.goto(base_url + "/?" + query)
    expect(page.get_by_role("status")).to_have_text(body["steps"][0]["text"])
    open_area = page.evaluate(EXTENT)
    # Closed, a statement takes one box's room, not its members' and the space between them.
    assert closed_area * 2 < open_area, (closed_area, open_area)
    # Back closed: after Fit every box is on the screen.
    open_traced(page, base_url, program, {"x": 0.5, "y": 0.25})
    page.get_by_role("button", name="Fit").click()
    screen = page.locator("#graph").bounding_box()
    assert screen
    shown = page.evaluate(ON_SCREEN)
    assert len(shown) >= 80
    for b in shown:
        assert screen["x"] - 1 <= b["x"] and b["x"] + b["width"] <= screen["x"] + screen["width"] + 1, b
        assert screen["y"] - 1 <= b["y"] and b["y"] + b["height"] <= screen["y"] + screen["height"] + 1, b
    # Open one group, close it, open it again: the same places each time.
    page.get_by_role("button", name="Fit").click()
    closed = page.evaluate(PLACES)
    toggle = page.get_by_role("button", name=re.compile(r"^Open group a3 = "))
    before = page.evaluate("document.getElementById('graph').dataset.drawn")
    box = toggle.bounding_box()
    toggle.click()
    page.wait_for_function(DRAWN_AFTER, arg=before)
    opened = page.evaluate(PLACES)
    assert len(opened) > len(closed)
    # The toggled group stays where it was on the screen: nothing the user looks at jumps.
    after = page.get_by_role("button", name=re.compile(r"^Close group a3 = ")).bounding_box()
    assert box and after and abs(after["x"] - box["x"]) < 2 and abs(after["y"] - box["y"]) < 2
    before = page.evaluate("document.getElementById('graph').dataset.drawn")
    page.get_by_role("button", name=re.compile(r"^Close group a3 = ")).click()
    page.wait_for_function(DRAWN_AFTER, arg=before)
    assert page.evaluate(PLACES) == closed
    before = page.evaluate("document.getElementById('graph').dataset.drawn")
    page.get_by_role("button", name=re.compile(r"^Open group a3 = ")).click()
    page.wait_for_function(DRAWN_AFTER, arg=before)
    assert page.evaluate(PLACES) == opened
