"""Links that never break: a view too long for a query travels compressed in the fragment,
and a reload or a shared link opens it again; many inputs leave the graph in view."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from playwright.sync_api import Page, expect


def _trace(page: Page, base_url: str, expression: str, values: dict[str, Any]) -> dict[str, Any]:
    response = page.request.post(base_url + "/api/v1/trace", data={"expression": expression, "values": values})
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


def _limit(page: Page, base_url: str) -> int:
    html = page.request.get(base_url + "/").text()
    start = html.index('id="page-data">') + len('id="page-data">')
    data = json.loads(html[start : html.index("</script>", start)])
    return int(data["limits"]["max_expression_length"])


def test_a_program_at_the_length_limit_survives_a_reload(page: Page, base_url: str) -> None:
    # As long as the server takes: one long literal keeps the graph small.
    limit = _limit(page, base_url)
    head = "x * 1.5"
    expression = head + "7" * (limit - len(head))
    assert len(expression) == limit
    expected = _trace(page, base_url, expression, {"x": 2})
    page.goto(base_url + "/")
    page.get_by_role("textbox", name="Expression").fill(expression)
    page.get_by_role("textbox", name="x", exact=True).fill("2")
    page.get_by_role("button", name="Trace").click()
    expect(page.get_by_role("status")).to_have_text(expected["steps"][0]["text"])
    page.wait_for_function("() => location.hash.startsWith('#view=')")
    first_url = page.url  # the view at step 0, written once the trace is shown
    page.keyboard.press("End")
    last = expected["steps"][-1]["text"]
    expect(page.get_by_role("status")).to_have_text(last)
    # The write for the last step replaces the first one (it is compressed first, then written).
    page.wait_for_function("(first) => location.href !== first && location.hash.startsWith('#view=')", arg=first_url)
    url = page.url
    assert urlparse(url).query == ""  # nothing of it reaches a request line
    assert len(url) < len(expression)  # compressed
    page.reload()
    expect(page.get_by_role("status")).to_have_text(last)
    assert page.get_by_role("textbox", name="Expression").input_value() == expression
    # and in a fresh page, as a shared link
    other = page.context.new_page()
    other.goto(url)
    expect(other.get_by_role("status")).to_have_text(last)
    other.close()


def test_large_values_travel_in_the_fragment_and_come_back(page: Page, base_url: str) -> None:
    v = [round(0.001 * i - 0.7, 6) for i in range(1500)]
    expression = "sum(v * v)"
    page.goto(base_url + "/")
    page.get_by_role("textbox", name="Expression").fill(expression)
    page.get_by_role("textbox", name="v", exact=True).fill(json.dumps(v))
    page.get_by_role("button", name="Trace").click()
    expect(page.locator("[data-node-id]").first).to_be_visible()
    page.wait_for_function("() => location.hash.startsWith('#view=')")
    page.reload()
    expect(page.locator("[data-node-id]").first).to_be_visible()
    assert json.loads(page.get_by_role("textbox", name="v", exact=True).input_value()) == v


def test_a_short_view_keeps_the_contracts_query(page: Page, base_url: str) -> None:
    params = {"expression": "x * y", "values": json.dumps({"x": 3, "y": 4}), "step": "2"}
    page.goto(base_url + "/?" + urlencode(params))
    expect(page.locator("[data-node-id]").first).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '3'")
    query = parse_qs(urlparse(page.url).query)
    assert query["expression"] == ["x * y"] and json.loads(query["values"][0]) == {"x": 3, "y": 4}
    assert urlparse(page.url).fragment == ""


def test_many_inputs_leave_the_graph_in_view(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    names = [f"w{i}" for i in range(60)]
    expression = " + ".join(names)
    params = {"expression": expression, "values": json.dumps(dict.fromkeys(names, 1)), "step": "0"}
    page.goto(base_url + "/?" + urlencode(params))
    expect(page.locator("[data-node-id]").first).to_be_visible()
    header = page.locator("header.topbar").bounding_box()
    graph = page.locator("#graph").bounding_box()
    assert header is not None and graph is not None
    assert header["height"] < 720 / 3
    assert graph["y"] + graph["height"] / 2 < 720  # the graph's middle is on the screen
