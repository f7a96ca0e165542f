"""The OpenAPI page works in a real browser under the service's Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

pytestmark = pytest.mark.e2e


def test_docs_page_renders_the_api_without_csp_violations(page: Page, base_url: str) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}")
        if response.status >= 400
        else None,
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: outside.append(request.url)
        if not request.url.startswith((base_url, "data:", "blob:"))
        else None,
    )
    page.goto(base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("gradtrace")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/trace")).to_be_visible()
    assert problems == []
    assert outside == []


def test_docs_page_can_try_a_trace(page: Page, base_url: str) -> None:
    page.goto(base_url + "/docs")
    page.locator(".opblock-summary-path", has_text="/api/v1/trace").click()
    operation = page.locator(".opblock-post")
    try_it = operation.get_by_role("button", name="Try it out")
    if try_it.count():
        try_it.click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text('"value": 6')
