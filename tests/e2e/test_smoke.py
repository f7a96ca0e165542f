"""The page opens in a real browser and offers its expression box."""

from playwright.sync_api import Page, expect


def test_page_has_expression_box(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    box = page.get_by_role("textbox", name="Expression")
    expect(box).to_be_visible()
