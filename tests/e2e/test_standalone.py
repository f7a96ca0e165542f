"""The offline HTML file in Chromium with the network off: `gradtrace export` and the page's button."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

import gradtrace
from gradtrace import cli
from gradtrace.standalone import standalone_html

LECTURE = "(x + y) * max(y, z)"
LECTURE_VALUES = {"x": 1, "y": 2, "z": 0}
LAYER = "z = W @ x + b; h = sigmoid(z); s = u @ h"
LAYER_VALUES = {
    "W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]],
    "x": [1.0, 2.0, 3.0],
    "b": [0.5, -0.5],
    "u": [1.0, -1.0],
}


@pytest.fixture
def offline(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context with the network disabled."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 720})
    yield context
    context.close()


class Opened:
    """A page on a file:// URL, with every request it made and every script error."""

    def __init__(self, context: BrowserContext, path: Path) -> None:
        self.page: Page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.goto(path.as_uri())

    def at_the_end(self, trace: dict[str, Any]) -> None:
        """Step to the end with the keyboard and find each step's text on the way."""
        status = self.page.get_by_role("status")
        expect(status).to_have_text(trace["steps"][0]["text"])
        for step in trace["steps"][1:]:
            self.page.keyboard.press("ArrowRight")
            expect(status).to_have_text(step["text"])
        count = len(trace["steps"])
        expect(self.page.locator("#counter")).to_have_text(f"{count} / {count}")

    def grad_of(self, trace: dict[str, Any], name: str) -> str:
        node = next(n["id"] for n in trace["nodes"] if n["name"] == name)
        return str(self.page.locator(f'[data-node-id="{node}"] .node-grad').first.text_content())

    def only_the_file_was_loaded(self, path: Path) -> None:
        others = [url for url in self.requests if not url.startswith(("data:", "blob:"))]
        assert others == [path.as_uri()], others
        assert self.errors == []


def katex_fonts_loaded(page: Page) -> int:
    return int(
        page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts]"
            ".filter((f) => f.family.includes('KaTeX') && f.status === 'loaded').length)"
        )
    )


def test_export_plays_the_lecture_offline_from_a_file(
    offline: BrowserContext, tmp_path: Path
) -> None:
    path = tmp_path / "lesson.html"
    status = cli.main(["export", LECTURE, "--values", json.dumps(LECTURE_VALUES), "-o", str(path)])
    assert status == 0
    trace = gradtrace.trace(LECTURE, LECTURE_VALUES).to_dict()
    opened = Opened(offline, path)
    page = opened.page
    expect(page.get_by_role("textbox", name="Expression")).to_have_value(LECTURE)
    expect(page.get_by_role("button", name="Trace")).to_be_hidden()
    opened.at_the_end(trace)
    # The lecture's numbers: f = 6, df/dx = 2, df/dy = 2 + 3 = 5, df/dz = 0.
    assert opened.grad_of(trace, "x") == "grad 2"
    assert opened.grad_of(trace, "y") == "grad 5"
    assert opened.grad_of(trace, "z") == "grad 0"
    output = page.locator(f'[data-node-id="{trace["output"]}"] .node-value').first
    expect(output).to_have_text("6")
    # The step's maths is set by KaTeX, in KaTeX's own fonts, from inside the file.
    expect(page.locator("#panel .katex").first).to_be_visible()
    assert katex_fonts_loaded(page) > 0
    # Back and forth with the buttons too.
    page.get_by_role("button", name="Previous step").click()
    expect(page.locator("#counter")).to_have_text(f"{len(trace['steps']) - 1} / {len(trace['steps'])}")
    opened.only_the_file_was_loaded(path)


def test_the_file_has_a_policy_that_allows_no_network() -> None:
    html = standalone_html(gradtrace.trace("x**3", {"x": 4}))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None
    directives = policy.group(1).replace("&#39;", "'")
    for directive in ("default-src 'none'", "connect-src 'none'", "font-src data:"):
        assert directive in directives
    # No element loads a file, a script or a style sheet: everything is inline.
    markup = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", html, flags=re.DOTALL)
    assert "<script" not in markup and "<style" not in markup
    assert re.search(r'\s(src|href)="(?!data:)', markup) is None


def test_a_tensor_program_plays_offline(offline: BrowserContext, tmp_path: Path) -> None:
    path = tmp_path / "layer.html"
    result = gradtrace.trace(LAYER, LAYER_VALUES, check=True)
    path.write_text(standalone_html(result), encoding="utf-8")
    opened = Opened(offline, path)
    trace = result.to_dict()
    count = len(trace["steps"])
    expect(opened.page.locator("#counter")).to_have_text(f"1 / {count}")
    opened.page.keyboard.press("End")
    expect(opened.page.locator("#counter")).to_have_text(f"{count} / {count}")
    expect(opened.page.get_by_role("status")).to_have_text(trace["steps"][-1]["text"])
    # The gradient check came along: each input says ok.
    expect(opened.page.locator(".node-check").first).to_contain_text("ok")
    opened.only_the_file_was_loaded(path)


def test_download_as_html_from_the_page_plays_offline(
    page: Page, base_url: str, offline: BrowserContext, tmp_path: Path
) -> None:
    page.goto(base_url + "/")
    expect(page.locator("#counter")).to_have_text(re.compile(r"^1 / \d+$"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as HTML").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "gradtrace.html"
    trace = gradtrace.trace(LECTURE, LECTURE_VALUES).to_dict()
    opened = Opened(offline, path)
    opened.at_the_end(trace)
    assert opened.grad_of(trace, "y") == "grad 5"
    opened.only_the_file_was_loaded(path)


LESSON = {
    "version": 1,
    "title": "Backpropagation, offline",
    "slides": [
        {"title": "The slope of x**3", "note": "At x = 4: **48**.", "expression": "x**3", "values": {"x": 4}},
        {
            "title": "Gradients sum at a branch",
            "expression": "(x + y) * max(y, z)",
            "values": {"x": 1, "y": 2, "z": 0},
            "step": 2,
        },
    ],
}


def test_a_lesson_file_plays_offline_slide_after_slide(
    offline: BrowserContext, tmp_path: Path
) -> None:
    lesson_file = tmp_path / "week3.lesson.json"
    lesson_file.write_text(json.dumps(LESSON), encoding="utf-8")
    path = tmp_path / "week3.html"
    assert cli.main(["export", "--lesson", str(lesson_file), "-o", str(path)]) == 0
    traces = [gradtrace.trace(s["expression"], s["values"]).to_dict() for s in LESSON["slides"]]
    opened = Opened(offline, path)
    page = opened.page
    status = page.get_by_role("status")
    expect(page.locator(".slide-counter")).to_have_text("Slide 1 / 2")
    expect(page.locator(".slide-title")).to_have_text("The slope of x**3")
    # A clicker's Page Down alone: every step of slide 1, then slide 2 from its start step.
    for i, step in enumerate(traces[0]["steps"]):
        if i:
            page.keyboard.press("PageDown")
        expect(status).to_have_text(step["text"])
    page.keyboard.press("PageDown")
    expect(page.locator(".slide-counter")).to_have_text("Slide 2 / 2")
    expect(status).to_have_text(traces[1]["steps"][2]["text"])
    page.keyboard.press("End")
    expect(status).to_have_text(traces[1]["steps"][-1]["text"])
    assert opened.grad_of(traces[1], "y") == "grad 5"
    opened.only_the_file_was_loaded(path)


def test_a_lesson_slide_that_cannot_be_traced_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {**LESSON, "slides": [LESSON["slides"][0], {"title": "typo", "expression": "x + * y"}]}
    lesson_file = tmp_path / "broken.lesson.json"
    lesson_file.write_text(json.dumps(broken), encoding="utf-8")
    assert cli.main(["export", "--lesson", str(lesson_file), "-o", str(tmp_path / "out.html")]) == 2
    detail = json.loads(capsys.readouterr().err)
    assert detail["slide"] == 1 and detail["type"] == "syntax_error"
    assert not (tmp_path / "out.html").exists()
    lesson_file.write_text(json.dumps({"version": 1, "title": "no slides", "slides": []}))
    assert cli.main(["export", "--lesson", str(lesson_file), "-o", str(tmp_path / "out.html")]) == 2
    assert "is not a lesson" in capsys.readouterr().err


def open_in_the_editor(page: Page, base_url: str, lesson: dict[str, Any], tmp_path: Path) -> Locator:
    """The page's lesson editor with `lesson` opened from a file, as a lecturer opens one."""
    lesson_file = tmp_path / "opened.lesson.json"
    lesson_file.write_text(json.dumps(lesson), encoding="utf-8")
    page.goto(base_url + "/")
    page.get_by_role("button", name="Lesson").click()
    editor = page.get_by_role("region", name="Lesson editor")
    editor.locator('input[type="file"]').set_input_files(str(lesson_file))
    expect(editor.locator(".lesson-slide")).to_have_count(len(lesson["slides"]))
    return editor


def test_a_lesson_made_on_the_page_downloads_as_html_that_plays_offline(
    page: Page, base_url: str, offline: BrowserContext, tmp_path: Path
) -> None:
    editor = open_in_the_editor(page, base_url, LESSON, tmp_path)
    with page.expect_download() as download:
        editor.get_by_role("button", name="Lesson as HTML").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "backpropagation-offline.html"
    traces = [gradtrace.trace(s["expression"], s["values"]).to_dict() for s in LESSON["slides"]]
    opened = Opened(offline, path)
    student = opened.page
    expect(student.locator(".slide-counter")).to_have_text("Slide 1 / 2")
    expect(student.locator(".slide-note strong")).to_have_text("48")
    for _ in traces[0]["steps"]:
        student.keyboard.press("PageDown")
    expect(student.locator(".slide-counter")).to_have_text("Slide 2 / 2")
    expect(student.get_by_role("status")).to_have_text(traces[1]["steps"][2]["text"])
    opened.only_the_file_was_loaded(path)


def test_a_lesson_whose_slide_cannot_be_traced_says_which_instead_of_downloading(page: Page, base_url: str,
                                                                                 tmp_path: Path) -> None:
    broken = {**LESSON, "slides": [LESSON["slides"][0], {"title": "typo", "expression": "x + * y", "values": {"x": 1, "y": 2}}]}
    editor = open_in_the_editor(page, base_url, broken, tmp_path)
    editor.get_by_role("button", name="Lesson as HTML").click()
    expect(editor.locator(".lesson-message")).to_contain_text("No HTML file: slide 2:")


def test_a_constant_target_plays_offline_alone_and_in_a_lesson(offline: BrowserContext, tmp_path: Path) -> None:
    loss = "p = softmax(z); loss = -sum(t * log(p))"
    values = {"z": [1.0, 2.0, 0.5], "t": [0.0, 1.0, 0.0]}
    alone = tmp_path / "loss.html"
    alone.write_text(standalone_html(gradtrace.trace(loss, values, constants=["t"])), encoding="utf-8")
    opened = Opened(offline, alone)
    expect(opened.page.locator("[data-node-id]").first).to_be_visible()
    expect(opened.page.get_by_role("checkbox", name="t is a constant")).to_be_checked()
    opened.only_the_file_was_loaded(alone)
    lesson = {"version": 1, "title": "A loss", "slides": [{"title": "Cross-entropy", "expression": loss, "values": values, "constants": ["t"]}]}
    lesson_file = tmp_path / "loss.lesson.json"
    lesson_file.write_text(json.dumps(lesson), encoding="utf-8")
    path = tmp_path / "loss-lesson.html"
    assert cli.main(["export", "--lesson", str(lesson_file), "-o", str(path)]) == 0
    opened = Opened(offline, path)
    expect(opened.page.locator(".slide-title")).to_have_text("Cross-entropy")
    expect(opened.page.locator("[data-node-id]").first).to_be_visible()
    expect(opened.page.locator("#expression-error")).to_be_hidden()
    opened.only_the_file_was_loaded(path)
