"""What a student types, in the browser: hints at their place, every problem marked, a stale
trace that does not step, kept values said and cleared, and the reference card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def open_page(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("[data-node-id]").first).to_be_visible()


def trace(page: Page) -> None:
    page.get_by_role("button", name="Trace").click()


def test_the_lectures_transpose_gets_a_hint_and_no_stray_value_box(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    page.get_by_role("textbox", name="Expression").fill("s = u^T h")
    boxes = page.locator(".value-field")
    expect(boxes).to_have_count(2)
    expect(page.locator(".value-field[data-input='T']")).to_have_count(0)
    page.get_by_role("textbox", name="u", exact=True).fill("[1, 2]")
    page.get_by_role("textbox", name="h", exact=True).fill("[3, 4]")
    trace(page)
    error = page.locator("#expression-error")
    expect(error.locator("mark")).to_have_text("^T")
    expect(error.locator(".error-before")).to_have_text("s = u")
    expect(error).to_contain_text("u.T @ h")
    expect(error).not_to_contain_text("**")


def test_every_missing_input_is_marked_at_once(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    page.get_by_role("textbox", name="Expression").fill("a = x + y\nb = a * z")
    page.get_by_role("button", name="Clear values").click()
    trace(page)
    error = page.locator("#expression-error")
    expect(error.locator("mark")).to_have_text(["x", "y", "z"])
    expect(error.locator(".error-message")).to_contain_text("line 1, column 5: 'x' has no value")
    expect(error.locator(".error-more li")).to_have_text(
        [re.compile(r"line 1, column 9: 'y' has no value"), re.compile(r"line 2, column 9: 'z' has no value")]
    )
    for name in ("x", "y", "z"):
        field = page.locator(f".value-field[data-input='{name}']")
        expect(field).to_have_class(re.compile(r"\bis-missing\b"))
        expect(field.locator(".shape")).to_have_text("needed: no value yet")
        expect(field.locator("input[type='text']")).to_have_attribute("aria-invalid", "true")
    # Typing a value unmarks its box.
    page.get_by_role("textbox", name="x", exact=True).fill("1")
    expect(page.locator(".value-field[data-input='x']")).not_to_have_class(re.compile(r"\bis-missing\b"))


def test_a_box_that_does_not_parse_is_not_contradicted(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    page.get_by_role("textbox", name="Expression").fill("s = sum(W @ x)")
    page.get_by_role("textbox", name="W", exact=True).fill("[[1, 2], [3]]")
    page.get_by_role("textbox", name="x", exact=True).fill("[1, 2]")
    trace(page)
    error = page.locator("#expression-error")
    expect(error.locator("mark")).to_have_text("W")
    expect(error).to_contain_text("the value of 'W' is not read: rows of different lengths")
    expect(error).not_to_contain_text("has no value")
    expect(page.locator(".value-field[data-input='W'] .shape")).to_have_text("rows of different lengths")


def test_after_an_error_the_old_trace_is_stale_and_does_not_step(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    counter = page.locator("#counter")
    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    expect(counter).to_contain_text("2 /")
    page.get_by_role("textbox", name="Expression").fill("(x + y) * max(y, z) +")
    trace(page)
    expect(page.locator("body")).to_have_class(re.compile(r"\bhas-stale-trace\b"))
    for name in ("Next step", "Previous step", "Play", "Reset"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
    expect(page.locator("#scrubber")).to_be_disabled()
    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    expect(counter).to_contain_text("2 /")
    # Typing hides the error, and the trace stays stale until the next one.
    page.get_by_role("textbox", name="Expression").fill("(x + y) * max(y, z)")
    expect(page.locator("#expression-error")).to_be_hidden()
    expect(page.locator("body")).to_have_class(re.compile(r"\bhas-stale-trace\b"))
    trace(page)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bhas-stale-trace\b"))
    expect(page.get_by_role("button", name="Next step", exact=True)).to_be_enabled()


def test_values_kept_from_an_earlier_expression_say_so_and_clear(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    # The example's own values are not "kept".
    expect(page.locator(".value-field .kept:visible")).to_have_count(0)
    page.get_by_role("textbox", name="Expression").fill("x * y")
    for name in ("x", "y"):
        field = page.locator(f".value-field[data-input='{name}']")
        expect(field).to_have_class(re.compile(r"\bis-kept\b"))
        expect(field.locator(".kept")).to_be_visible()
    page.get_by_role("textbox", name="y", exact=True).fill("5")
    expect(page.locator(".value-field[data-input='y'] .kept")).to_be_hidden()
    expect(page.locator(".value-field[data-input='x'] .kept")).to_be_visible()
    page.get_by_role("button", name="Clear values").click()
    expect(page.get_by_role("textbox", name="x", exact=True)).to_have_value("")
    expect(page.get_by_role("textbox", name="y", exact=True)).to_have_value("")
    expect(page.locator(".value-field .kept:visible")).to_have_count(0)
    expect(page.get_by_role("button", name="Clear values")).to_be_hidden()


def test_the_reference_card_is_one_key_away_and_closes_with_escape(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    card = page.locator("#reference")
    expect(card).to_be_hidden()
    page.locator("#graph").focus()
    page.keyboard.press("?")
    expect(card).to_be_visible()
    # Built from the registry the page received: every operator and function, with the new ones.
    for text in ("a @ b", "A @ B", "a.T", "transpose(a)", "max(a, b)", "max(v)", "sum(A, axis=k)", "outer(a, b)",
                 "log_softmax(x)", "2 * pi", "u.T @ h"):
        if text == "a @ b":
            continue  # matmul's syntax is A @ B
        expect(card.locator("code", has_text=text).first).to_be_visible()
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    page.get_by_role("button", name="? Reference").click()
    expect(card).to_be_visible()
    expect(page.get_by_role("button", name="? Reference")).to_have_attribute("aria-pressed", "true")
    card.get_by_role("button", name="Close the reference (Esc)").click()
    expect(card).to_be_hidden()


def test_cross_entropy_traces_on_the_page(page: Page, base_url: str) -> None:
    open_page(page, base_url)
    page.get_by_role("textbox", name="Expression").fill("loss = -log(softmax(z)[y])")
    expect(page.locator(".value-field")).to_have_count(2)
    page.get_by_role("textbox", name="z", exact=True).fill("[1, 2, 0.5]")
    page.get_by_role("textbox", name="y", exact=True).fill("1")
    trace(page)
    expect(page.locator("#expression-error")).to_be_hidden()
    expect(page.locator("[data-node-id]", has_text="[y]").first).to_be_visible()
