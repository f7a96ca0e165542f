"""XSS: no expression, value, name, error message or link can run script in the page or in
an exported SVG.

Each payload is typed into the page (or arrives through a link) and traced. The page must
show it as text: no dialog opens, the payload's flag stays unset, no element it would have
made appears in the DOM, and no Content-Security-Policy violation is reported (a
violation means injected markup tried to run, even if the policy stopped it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from tests.fuzz import tally

pytestmark = pytest.mark.e2e

FAMILY = "xss: page and SVG"

PAYLOADS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    '"><svg onload="window.__xss=1;alert(1)">',
    "</textarea><script>window.__xss=1;alert(1)</script>",
    "</script><script>window.__xss=1</script>",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<a id="xsslink" href="javascript:window.__xss=1">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss=1\">",
    "\\href{javascript:window.__xss=1}{x}",
    "$\\htmlData{onclick=alert(1)}{x}$",
    "{{constructor.constructor('window.__xss=1')()}}",
    "${window.__xss=1}",
    'x\u202e<img src=x onerror="window.__xss=1">',
    "x + y<style>*{display:none}</style>",
]

# What the guard looks for after each payload: elements and attributes the payloads would make.
INJECTED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('img, iframe, style, script, a[href^="javascript"], [onerror], [onload], [onclick]')) {
    if (el.tagName === 'SCRIPT' && (el.type === 'module' || el.type === 'application/json') && !el.textContent.includes('__xss')) continue;
    if (el.tagName === 'STYLE' && !el.textContent.includes('display:none')) continue;
    bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
}"""

GUARD = """
window.__xss = undefined;
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def guarded(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page with every way script could run being watched."""
    events: list[str] = []
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"page error: {e}"))
    page.add_init_script(GUARD)
    yield page, events


def assert_nothing_ran(page: Page, events: list[str]) -> None:
    tally.count(FAMILY)
    assert page.evaluate("window.__xss") is None, "a payload ran"
    assert page.evaluate("window.__violations") == [], page.evaluate("window.__violations")
    assert page.evaluate(INJECTED) == []
    assert page.evaluate("Object.prototype.polluted") is None
    assert events == [], events


def trace_typed(page: Page, expression: str, values: dict[str, str]) -> None:
    page.get_by_role("textbox", name="Expression").fill(expression)
    for name, text in values.items():
        page.get_by_role("textbox", name=name, exact=True).fill(text)
    page.get_by_role("button", name="Trace").click()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_expression_typed_into_the_page_is_shown_as_text(guarded: tuple[Page, list[str]], base_url: str, payload: str) -> None:
    page, events = guarded
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/trace")):
        trace_typed(page, payload, {})
    error = page.locator("#expression-error")
    expect(error).to_be_visible()
    # The source line under the caret holds the payload as text, character for character.
    source = page.locator("#expression-error .error-source")
    expect(source).to_have_text(re.compile(re.escape(payload.split("\n")[0][:20])))
    assert_nothing_ran(page, events)


@pytest.mark.parametrize("payload", PAYLOADS[:6])
def test_hostile_link_is_shown_as_text(guarded: tuple[Page, list[str]], base_url: str, payload: str) -> None:
    page, events = guarded
    params = {"expression": payload, "values": json.dumps({"x": payload, "__proto__": {"polluted": 1}}), "step": "0"}
    page.goto(base_url + "/?" + urlencode(params))
    expect(page.get_by_role("textbox", name="Expression")).to_have_value(payload)
    page.wait_for_load_state("networkidle")
    assert_nothing_ran(page, events)


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_hostile_value_is_refused_as_text(guarded: tuple[Page, list[str]], base_url: str, payload: str) -> None:
    page, events = guarded
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    page.get_by_role("textbox", name="Expression").fill("x * 2")
    page.get_by_role("textbox", name="x", exact=True).fill(payload)
    page.get_by_role("button", name="Trace").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("textbox", name="x", exact=True)).to_have_value(payload)
    assert_nothing_ran(page, events)


def server_trace(page: Page, base_url: str, expression: str, values: dict[str, Any]) -> dict[str, Any]:
    response = page.request.post(base_url + "/api/v1/trace", data={"expression": expression, "values": values})
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


JS_NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty", "then", "prototype"]


def test_names_that_are_javascript_object_keys_trace_and_step(guarded: tuple[Page, list[str]], base_url: str) -> None:
    page, events = guarded
    expression = "constructor * toString + valueOf * hasOwnProperty + then - prototype"
    values = {name: str(i + 2) for i, name in enumerate(JS_NAMES)}
    trace = server_trace(page, base_url, expression, {k: float(v) for k, v in values.items()})
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    trace_typed(page, expression, values)
    status = page.get_by_role("status")
    expect(status).to_have_text(trace["steps"][0]["text"])
    for node in trace["nodes"]:
        expect(page.locator(f'[data-node-id="{node["id"]}"]')).to_have_count(1)
    page.keyboard.press("End")
    expect(status).to_have_text(trace["steps"][-1]["text"])
    assert_nothing_ran(page, events)


def test_exported_svg_carries_no_script(guarded: tuple[Page, list[str]], base_url: str, tmp_path: Path) -> None:
    page, events = guarded
    expression = "constructor * toString + max(valueOf, then)"
    values = {"constructor": "1", "toString": "2", "valueOf": "3", "then": "3"}
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()
    trace_typed(page, expression, values)
    expect(page.get_by_role("status")).not_to_have_text("")
    page.keyboard.press("End")
    with page.expect_download() as info:
        page.get_by_role("button", name="SVG", exact=True).click()
    svg = Path(info.value.path()).read_text()
    assert "<svg" in svg
    assert not re.search(r"<script|<foreignObject|javascript:|\son[a-z]+\s*=", svg, flags=re.IGNORECASE), svg[:500]
    # Opened on its own, the file runs nothing either.
    copy = tmp_path / "export.svg"
    copy.write_text(svg)
    assert_nothing_ran(page, events)
    page.goto(copy.as_uri())
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('script, foreignObject').length") == 0
    assert events == [], events
