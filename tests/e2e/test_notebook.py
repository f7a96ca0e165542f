"""A notebook run by nbclient on an ipykernel: its outputs are players that step in Chromium, each on its own."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from playwright.sync_api import Browser, FrameLocator, expect

import gradtrace

LESSON = {
    "version": 1,
    "title": "Two slides",
    "slides": [
        {"title": "The slope of x**3", "note": "**48 times** as much", "expression": "x**3", "values": {"x": 4}},
        {"title": "Gradients sum at a branch", "expression": "(x + y) * max(y, z)", "values": {"x": 1, "y": 2, "z": 0}},
    ],
}

CELLS = [
    # A Trace as a cell's last value.
    'import gradtrace\nt = gradtrace.trace("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0})\nt',
    # show() in the middle of a cell, and the cell goes on.
    'gradtrace.show("x**3", {"x": 4})\nprint("after the player")',
    # A lesson as a cell's last value.
    "gradtrace.lesson(" + repr(LESSON) + ")",
]


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[list[dict]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    work = tmp_path_factory.mktemp("notebook")
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute()
    return [cell.outputs for cell in notebook.cells]


def html_of(cell_outputs: list[dict]) -> list[str]:
    return [o["data"]["text/html"] for o in cell_outputs if "text/html" in o.get("data", {})]


def test_a_trace_and_show_give_the_player_as_html(outputs: list[list[dict]]) -> None:
    first, second = outputs[:2]
    assert [o["output_type"] for o in first] == ["execute_result"]
    assert len(html_of(first)) == 1 and 'class="gradtrace-player"' in html_of(first)[0]
    assert [o["output_type"] for o in second] == ["display_data", "stream"]
    assert second[1]["text"] == "after the player\n"
    # The player, not the object's default text.
    assert "<gradtrace.trace.Trace" not in html_of(first)[0]


def test_two_players_in_one_notebook_step_on_their_own(
    outputs: list[list[dict]], browser: Browser, tmp_path: Path
) -> None:
    players = html_of(outputs[0]) + html_of(outputs[1])
    # The outputs as a front end puts them in its page, one after the other.
    page_file = tmp_path / "notebook.html"
    page_file.write_text(
        "<!doctype html><meta charset='utf-8'><title>notebook</title>" + "".join(players),
        encoding="utf-8",
    )
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 1500})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        lecture_steps = len(gradtrace.trace("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}).to_dict()["steps"])
        cube_steps = len(gradtrace.trace("x**3", {"x": 4}).to_dict()["steps"])
        first: FrameLocator = page.frame_locator("iframe.gradtrace-player").nth(0)
        second: FrameLocator = page.frame_locator("iframe.gradtrace-player").nth(1)
        expect(first.locator("#counter")).to_have_text(f"1 / {lecture_steps}")
        expect(second.locator("#counter")).to_have_text(f"1 / {cube_steps}")
        # Keys go to the player that was clicked, and only to it.
        first.locator("#graph").click()
        page.keyboard.press("End")
        expect(first.locator("#counter")).to_have_text(f"{lecture_steps} / {lecture_steps}")
        expect(first.get_by_role("status")).to_have_text("df/dx = 2")
        expect(second.locator("#counter")).to_have_text(f"1 / {cube_steps}")
        # Buttons too.
        second.get_by_role("button", name="Next step").click()
        expect(second.locator("#counter")).to_have_text(f"2 / {cube_steps}")
        page.keyboard.press("ArrowRight")
        expect(second.locator("#counter")).to_have_text(f"3 / {cube_steps}")
        expect(first.locator("#counter")).to_have_text(f"{lecture_steps} / {lecture_steps}")
        assert errors == []
    finally:
        context.close()


def test_a_lesson_shows_as_its_player_and_runs_slide_after_slide(
    outputs: list[list[dict]], browser: Browser, tmp_path: Path
) -> None:
    cell = outputs[2]
    assert [o["output_type"] for o in cell] == ["execute_result"]
    page_file = tmp_path / "lesson.html"
    page_file.write_text("<!doctype html><meta charset='utf-8'><title>notebook</title>" + html_of(cell)[0],
                         encoding="utf-8")
    cube_steps = len(gradtrace.trace("x**3", {"x": 4}).to_dict()["steps"])
    lecture = gradtrace.trace("(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}).to_dict()["steps"]
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        player: FrameLocator = page.frame_locator("iframe.gradtrace-player")
        expect(player.locator(".slide-counter")).to_have_text("Slide 1 / 2")
        expect(player.locator(".slide-title")).to_have_text("The slope of x**3")
        expect(player.locator(".slide-note strong")).to_have_text("48 times")
        player.locator("#graph").click()
        # Page Down alone: through slide 1's steps, then into slide 2.
        for _ in range(cube_steps):
            page.keyboard.press("PageDown")
        expect(player.locator(".slide-counter")).to_have_text("Slide 2 / 2")
        expect(player.locator("#step-text")).to_have_text(lecture[0]["text"])
        page.keyboard.press("PageUp")
        expect(player.locator(".slide-counter")).to_have_text("Slide 1 / 2")
        assert errors == []
    finally:
        context.close()
