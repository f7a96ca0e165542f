"""Lessons in Debian's Chromium: prepared in the editor, stored, opened from the short link, run from a clicker, quizzed."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_page import server_trace, type_and_trace

SLIDES: list[dict[str, Any]] = [
    {"expression": "x**3", "values": {"x": 4}, "texts": {"x": "4"}, "start": 0, "title": "The slope of x**3"},
    {
        "expression": "(x + y) * max(y, z)",
        "values": {"x": 1, "y": 2, "z": 0},
        "texts": {"x": "1", "y": "2", "z": "0"},
        "start": 3,
        "title": "Gradients sum at a branch",
    },
    {"expression": "y = x**2; z = 3*y", "values": {"x": 2}, "texts": {"x": "2"}, "start": 1, "title": "The chain rule"},
]


def lesson_editor(page: Page) -> Any:
    return page.get_by_role("region", name="Lesson editor")


def slide_counter(page: Page) -> Any:
    return page.locator(".slide-counter")


def test_a_lesson_prepared_stored_and_run_from_its_short_link(page: Page, browser: Browser, base_url: str) -> None:
    traces = [server_trace(page, base_url, s["expression"], s["values"]) for s in SLIDES]
    page.goto(base_url + "/")
    page.get_by_role("button", name="Lesson").click()
    editor = lesson_editor(page)
    expect(editor).to_be_visible()
    editor.get_by_role("textbox", name="Lesson title").fill("Lecture 4")
    for slide, trace in zip(SLIDES, traces, strict=True):
        type_and_trace(page, slide["expression"], slide["texts"])
        expect(page.locator("#step-text")).to_have_text(trace["steps"][0]["text"])
        page.locator("#graph").focus()
        for _ in range(slide["start"]):
            page.keyboard.press("ArrowRight")
        expect(page.locator("#step-text")).to_have_text(trace["steps"][slide["start"]]["text"])
        editor.get_by_role("button", name="Add slide").click()
    rows = editor.locator(".lesson-slide")
    expect(rows).to_have_count(3)
    for i, slide in enumerate(SLIDES):
        editor.get_by_role("textbox", name=f"Slide {i + 1} title").fill(slide["title"])
    editor.get_by_role("textbox", name="Slide 2 note").fill("y is used **twice**:\n- its gradients sum")
    # The note's preview is built from its Markdown: bold and a list, no markup typed through.
    expect(editor.get_by_label("Slide 2 note preview").locator("strong")).to_have_text("twice")
    expect(editor.get_by_label("Slide 2 note preview").locator("li")).to_have_text("its gradients sum")
    # Reorder and delete: a fourth slide moved to the top, then deleted.
    editor.get_by_role("button", name="Add slide").click()
    expect(rows).to_have_count(4)
    for i in (4, 3, 2):
        editor.get_by_role("button", name=f"Move slide {i} up").click()
    expect(editor.get_by_role("textbox", name="Slide 1 title")).to_have_value(re.compile(r"^y = x\*\*2"))
    expect(editor.get_by_role("textbox", name="Slide 2 title")).to_have_value(SLIDES[0]["title"])
    editor.get_by_role("button", name="Delete slide 1").click()
    expect(rows).to_have_count(3)
    expect(editor.get_by_role("textbox", name="Slide 1 title")).to_have_value(SLIDES[0]["title"])
    # The preview opens a slide with its title and note above the graph.
    editor.get_by_role("button", name="Open slide 2").click()
    expect(page.locator(".slide-title")).to_have_text(SLIDES[1]["title"])
    expect(page.locator(".slide-note strong")).to_have_text("twice")
    expect(page.locator("#step-text")).to_have_text(traces[1]["steps"][SLIDES[1]["start"]]["text"])

    editor.get_by_role("button", name="Share link").click()
    expect(editor.locator(".lesson-message")).to_contain_text("/l/")
    link = re.search(r"http://\S+/l/[0-9a-z]+", editor.locator(".lesson-message").inner_text()).group(0)
    stored = page.request.get(link.replace("/l/", "/api/v1/lessons/"))
    assert stored.status == 200
    assert [s["step"] for s in stored.json()["slides"]] == [s["start"] for s in SLIDES]

    # A student's fresh browser: the short link alone.
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        student = context.new_page()
        student.goto(link)
        expect(slide_counter(student)).to_have_text("Slide 1 / 3")
        expect(student.locator(".slide-title")).to_have_text(SLIDES[0]["title"])
        step_text = student.locator("#step-text")
        expect(step_text).to_have_text(traces[0]["steps"][0]["text"])
        student.keyboard.press("p")
        expect(student.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
        # Page Down alone, to the end of the lesson: every step of every slide from its start step.
        for n, (slide, trace) in enumerate(zip(SLIDES, traces, strict=True)):
            if n:
                student.keyboard.press("PageDown")
            expect(slide_counter(student)).to_have_text(f"Slide {n + 1} / 3")
            expect(student.locator(".slide-title")).to_have_text(slide["title"])
            for i in range(slide["start"], len(trace["steps"])):
                if i > slide["start"]:
                    student.keyboard.press("PageDown")
                expect(step_text).to_have_text(trace["steps"][i]["text"])
        expect(student).to_have_url(re.compile(rf"/l/[0-9a-z]+\?slide=2&step={len(traces[2]['steps']) - 1}&present=1$"))
        # At the lesson's end Page Down stays.
        student.keyboard.press("PageDown")
        expect(slide_counter(student)).to_have_text("Slide 3 / 3")
        expect(step_text).to_have_text(traces[2]["steps"][-1]["text"])
        # Page Up back past slide 3's first step: slide 2 at its end.
        for _ in range(len(traces[2]["steps"])):
            student.keyboard.press("PageUp")
        expect(slide_counter(student)).to_have_text("Slide 2 / 3")
        expect(step_text).to_have_text(traces[1]["steps"][-1]["text"])
        # The browser's Back and Forward move between slides.
        student.go_back()
        expect(slide_counter(student)).to_have_text("Slide 3 / 3")
        expect(step_text).to_have_text(traces[2]["steps"][0]["text"])
        student.go_back()
        expect(slide_counter(student)).to_have_text("Slide 2 / 3")
        expect(step_text).to_have_text(traces[1]["steps"][-1]["text"])
        student.go_back()
        expect(slide_counter(student)).to_have_text("Slide 1 / 3")
        student.go_forward()
        expect(slide_counter(student)).to_have_text("Slide 2 / 3")
        # N hides the title and note; the counter stays.
        student.keyboard.press("n")
        expect(student.locator(".slide-title")).to_be_hidden()
        expect(slide_counter(student)).to_be_visible()
        student.keyboard.press("n")
        expect(student.locator(".slide-title")).to_be_visible()
        # Escape leaves presentation mode.
        student.keyboard.press("Escape")
        expect(student.locator("body")).not_to_have_class(re.compile(r"\bpresenting\b"))
        # The URL reopens the exact slide and step.
        student.goto(student.url)
        expect(slide_counter(student)).to_have_text("Slide 2 / 3")
        expect(step_text).to_have_text(traces[1]["steps"][-1]["text"])
    finally:
        context.close()


def decode_qr(page: Page, path: str) -> str:
    page.locator(".slide-qr-image svg").screenshot(path=path)
    found = zxingcpp.read_barcodes(Image.open(path))
    assert found, "no QR code could be read off the screen"
    return str(found[0].text)


def store(page: Page, base_url: str, lesson: dict[str, Any]) -> str:
    response = page.request.post(base_url + "/api/v1/lessons", data=lesson)
    assert response.status in (200, 201), response.text()
    return str(response.json()["id"])


def test_the_qr_code_reads_back_as_the_slides_short_link(page: Page, base_url: str, tmp_path: Any) -> None:
    lesson_id = store(
        page,
        base_url,
        {"version": 1, "title": "QR", "slides": [{"title": s["title"], "expression": s["expression"], "values": s["values"]} for s in SLIDES]},
    )
    for width, height in ((1920, 1080), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{base_url}/l/{lesson_id}?present=1")
        expect(slide_counter(page)).to_have_text("Slide 1 / 3")
        page.keyboard.press("q")
        qr = page.locator(".slide-qr")
        expect(qr).to_be_visible()
        assert decode_qr(page, str(tmp_path / f"qr-{width}.png")) == f"{base_url}/l/{lesson_id}"
        # Large enough to scan from the back of a hall: about half the screen's height.
        box = page.locator(".slide-qr-image svg").bounding_box()
        assert box is not None and box["height"] >= 0.4 * height
        page.keyboard.press("PageDown")
        page.keyboard.press("End")
        page.keyboard.press("PageDown")
        expect(slide_counter(page)).to_have_text("Slide 2 / 3")
        expect(qr.locator("figcaption")).to_have_text(re.compile(rf"/l/{lesson_id}\?slide=1$"))
        assert decode_qr(page, str(tmp_path / f"qr2-{width}.png")) == f"{base_url}/l/{lesson_id}?slide=1"
        page.keyboard.press("q")
        expect(qr).to_be_hidden()


def test_the_quiz_accepts_a_right_prediction_and_marks_a_wrong_one(page: Page, base_url: str) -> None:
    expression, values = "(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}
    trace = server_trace(page, base_url, expression, values)
    add = next(n["id"] for n in trace["nodes"] if n["op"] == "add")
    page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": 2, "quiz": 1}))
    quiz = page.get_by_role("region", name="Quiz")
    expect(quiz).to_contain_text("Predict the value")
    # The value to predict is not on the graph, nor in the step's text, nor in the panel.
    expect(page.locator(f'[data-node-id="{add}"] .node-value')).to_be_hidden()
    expect(page.locator("#step-text")).not_to_have_text(trace["steps"][2]["text"])
    expect(page.locator("#panel")).to_be_hidden()
    box = quiz.get_by_role("textbox")
    box.fill("3")
    quiz.get_by_role("button", name="Check").click()
    expect(quiz.locator(".quiz-item")).to_have_class(re.compile(r"\bis-right\b"))
    expect(quiz.locator(".quiz-mark")).to_have_text("✓ right")
    expect(quiz.locator(".quiz-score")).to_have_text("Score: 1 of 1 right")
    quiz.get_by_role("button", name="Reveal").click()
    expect(page.locator(f'[data-node-id="{add}"] .node-value')).to_be_visible()
    expect(page.locator("#step-text")).to_have_text(trace["steps"][2]["text"])
    expect(quiz.locator(".quiz-answer")).to_have_text("= 3")

    # A backward step: max(y, z) routes its upstream 3 to y and 0 to z.
    max_id = next(n["id"] for n in trace["nodes"] if n["op"] == "max")
    step = next(s for s in trace["steps"] if s["phase"] == "backward" and s["node"] == max_id)
    page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": step["index"], "quiz": 1}))
    expect(quiz).to_contain_text("Predict the gradients")
    for edge in step["edges"]:
        expect(page.locator(f'g.edge[data-edge-id="{edge}"]')).not_to_have_class(re.compile(r"\bhas-grad\b"))
    boxes = quiz.get_by_role("textbox")
    expect(boxes).to_have_count(2)
    boxes.nth(0).fill("1")  # wrong: max sends the whole 3 to the larger input
    boxes.nth(1).fill("0")
    boxes.nth(1).press("Enter")
    items = quiz.locator(".quiz-item")
    expect(items.nth(0)).to_have_class(re.compile(r"\bis-wrong\b"))
    expect(items.nth(0).locator(".quiz-mark")).to_have_text("✗ wrong")
    expect(items.nth(1)).to_have_class(re.compile(r"\bis-right\b"))
    expect(quiz.locator(".quiz-score")).to_have_text("Score: 1 of 2 right")
    # Page Down reveals first, then steps on.
    page.locator("#graph").focus()
    page.keyboard.press("PageDown")
    expect(items.nth(0).locator(".quiz-answer")).to_have_text("= 3")
    for edge in step["edges"]:
        expect(page.locator(f'g.edge[data-edge-id="{edge}"]')).to_have_class(re.compile(r"\bhas-grad\b"))
    page.keyboard.press("PageDown")
    expect(page).to_have_url(re.compile(rf"step={step['index'] + 1}"))


def test_a_slide_marked_as_a_quiz_quizzes_inside_a_lesson(page: Page, base_url: str) -> None:
    lesson_id = store(
        page,
        base_url,
        {
            "version": 1,
            "title": "Quiz slide",
            "slides": [
                {"title": "Plain", "expression": "x**3", "values": {"x": 4}},
                {"title": "Quiz", "expression": "x**3", "values": {"x": 2}, "step": 2, "quiz": True},
            ],
        },
    )
    page.goto(f"{base_url}/l/{lesson_id}")
    quiz = page.get_by_role("region", name="Quiz")
    expect(slide_counter(page)).to_have_text("Slide 1 / 2")
    expect(quiz).to_be_hidden()
    page.goto(f"{base_url}/l/{lesson_id}?slide=1")
    expect(slide_counter(page)).to_have_text("Slide 2 / 2")
    expect(quiz).to_contain_text("Predict the value")
    quiz.get_by_role("textbox").fill("8")
    quiz.get_by_role("button", name="Check").click()
    expect(quiz.locator(".quiz-mark")).to_have_text("✓ right")


def test_an_unknown_lesson_link_says_so(page: Page, base_url: str) -> None:
    response = page.goto(f"{base_url}/l/zzzzzzzz")
    assert response is not None and response.status == 404
    expect(lesson_editor(page).locator(".lesson-message")).to_contain_text("No lesson is stored under the id")


def test_a_lesson_file_opens_and_downloads_again(page: Page, base_url: str, tmp_path: Any) -> None:
    lesson = {
        "version": 1,
        "title": "From a file",
        "slides": [{"title": s["title"], "expression": s["expression"], "values": s["values"]} for s in SLIDES],
    }
    path = tmp_path / "lecture.lesson.json"
    path.write_text(json.dumps(lesson))
    page.goto(base_url + "/")
    page.get_by_role("button", name="Lesson").click()
    editor = lesson_editor(page)
    editor.locator('input[type="file"]').set_input_files(str(path))
    expect(editor.locator(".lesson-slide")).to_have_count(3)
    expect(slide_counter(page)).to_have_text("Slide 1 / 3")
    with page.expect_download() as info:
        editor.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename == "from-a-file.lesson.json"
    saved = json.loads(open(download.path()).read())
    assert [s["expression"] for s in saved["slides"]] == [s["expression"] for s in SLIDES]
    # A broken file is refused with the field it is about.
    bad = tmp_path / "bad.lesson.json"
    bad.write_text(json.dumps({**lesson, "version": 7}))
    editor.locator('input[type="file"]').set_input_files(str(bad))
    expect(editor.locator(".lesson-message")).to_contain_text("version")
    # The built-in examples become a lesson.
    editor.get_by_role("button", name="Examples as a lesson").click()
    examples = page.request.get(base_url + "/api/v1/examples").json()
    expect(editor.locator(".lesson-slide")).to_have_count(len(examples))


NEURAL_LAYER = (
    "z = W @ x + b\nh = sigmoid(z)\ns = u @ h",
    {"W": [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]], "x": [1.0, 2.0, 3.0], "b": [0.5, -0.5], "u": [1.0, -1.0]},
)


def panel_scroll(page: Page) -> dict[str, float]:
    return page.evaluate(
        "() => { const a = document.querySelector('aside.panel');"
        " return {top: a.scrollTop, height: a.clientHeight, full: a.scrollHeight}; }"
    )


def test_a_presented_panel_fits_or_pages_with_the_clicker(page: Page, base_url: str) -> None:
    expression, values = NEURAL_LAYER
    trace = server_trace(page, base_url, expression, values)
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": 0, "present": 1}))
        step_text = page.locator("#step-text")
        paged = 0
        for i, step in enumerate(trace["steps"]):
            expect(step_text).to_have_text(step["text"])
            # Page Down scrolls the panel a page at a time until all of it was on screen, then steps.
            pages = 0
            while True:
                seen = panel_scroll(page)
                assert seen["top"] == 0 or pages > 0
                if seen["top"] + seen["height"] >= seen["full"] - 2:
                    break
                page.keyboard.press("PageDown")
                pages += 1
                assert pages < 20
            paged += pages > 0
            if i + 1 < len(trace["steps"]):
                page.keyboard.press("PageDown")
        # The layer's Jacobian steps are longer than a projector's screen: they paged.
        assert paged > 0


def test_a_larger_network_is_presented_at_a_readable_size_and_followed(page: Page, base_url: str) -> None:
    expression = "z1 = W1 @ x + b1\nh1 = relu(z1)\nz2 = W2 @ h1 + b2\nh2 = sigmoid(z2)\ns = u @ h2"
    values = {
        "W1": [[0.5, -1, 0.25], [1, 0.5, -0.5], [0.2, 0.3, 0.1]],
        "x": [1, 2, 3],
        "b1": [0.5, -0.5, 0.1],
        "W2": [[1, -1, 0.5], [0.5, 0.5, -1]],
        "b2": [0.1, -0.2],
        "u": [1, -1],
    }
    trace = server_trace(page, base_url, expression, values)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": 0, "present": 1}))
    step_text = page.locator("#step-text")
    svg = page.locator("#graph").bounding_box()
    assert svg is not None
    for i in range(0, len(trace["steps"]), 5):
        page.goto(base_url + "/?" + urlencode({"expression": expression, "values": json.dumps(values), "step": i, "present": 1}))
        expect(step_text).to_have_text(trace["steps"][i]["text"])
        current = page.locator(f'[data-node-id="{trace["steps"][i]["node"]}"]')
        # The number type a hall reads: at least 20 px on a 1920-wide screen.
        size = current.locator("text").last.evaluate("t => t.getBoundingClientRect().height")
        assert size >= 20, size
        # And the current node is on screen.
        box = current.bounding_box()
        assert box is not None
        assert box["x"] >= svg["x"] - 1 and box["x"] + box["width"] <= svg["x"] + svg["width"] + 1
        assert box["y"] >= svg["y"] - 1 and box["y"] + box["height"] <= svg["y"] + svg["height"] + 1


def test_presented_values_and_gradients_are_told_apart_in_words(page: Page, base_url: str) -> None:
    expression, values = NEURAL_LAYER
    trace = server_trace(page, base_url, expression, values)
    b = next(n["id"] for n in trace["nodes"] if n.get("name") == "b")
    step = next(s for s in trace["steps"] if s["phase"] == "backward" and s["node"] == b)
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(base_url + "/?" + urlencode(
            {"expression": expression, "values": json.dumps(values), "step": step["index"], "present": 1}))
        expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
        expect(page.locator("#step-text")).to_have_text(step["text"])
        # A vector's numbers on a projector: its value and its gradient each under its word,
        # not by colour alone, and the words as large as the numbers.
        node = page.locator(f'[data-node-id="{b}"]')
        for part, word in (("value", "value"), ("grad", "grad")):
            head = node.locator(f"text.node-{part}", has_text=re.compile(rf"^{word}$", re.IGNORECASE))
            expect(head).to_be_visible()
            number = node.locator(f"text.node-{part}").last
            sizes = [t.evaluate("t => parseFloat(getComputedStyle(t).fontSize)") for t in (head, number)]
            assert sizes[0] >= sizes[1], sizes
        # And the legend says which is which on a wire.
        expect(page.locator(".legend")).to_contain_text("value above the wire")
        expect(page.locator(".legend")).to_contain_text("gradient below")


def test_the_editor_opens_a_lesson_from_its_link_or_id_and_presents_it(page: Page, base_url: str) -> None:
    lesson_id = store(
        page,
        base_url,
        {"version": 1, "title": "By link", "slides": [{"title": s["title"], "expression": s["expression"],
                                                       "values": s["values"]} for s in SLIDES]},
    )
    for typed in (f"{base_url}/l/{lesson_id}", lesson_id):
        page.goto(base_url + "/")
        page.get_by_role("button", name="Lesson").click()
        editor = lesson_editor(page)
        editor.get_by_role("textbox", name="Lesson link").fill(typed)
        editor.get_by_role("button", name="Open link").click()
        expect(editor.locator(".lesson-slide")).to_have_count(3)
        expect(slide_counter(page)).to_have_text("Slide 1 / 3")
        expect(editor.get_by_role("textbox", name="Lesson title")).to_have_value("By link")
    editor.get_by_role("button", name="Open slide 3").click()
    expect(slide_counter(page)).to_have_text("Slide 3 / 3")
    # Present runs it full screen from the slide open now: after Escape, the class goes on where it was.
    editor.get_by_role("button", name="Present").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
    expect(slide_counter(page)).to_have_text("Slide 3 / 3")
    expect(page.locator(".slide-title")).to_have_text(SLIDES[2]["title"])
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bpresenting\b"))


def test_back_after_picking_examples_returns_to_the_one_before_not_out_of_the_page(page: Page, base_url: str) -> None:
    examples = page.request.get(base_url + "/api/v1/examples").json()
    page.goto(base_url + "/")
    expression = page.get_by_role("textbox", name="Expression")
    expect(page.locator("#counter")).to_have_text(re.compile(r"^1 / "))
    page.wait_for_function("() => window.location.search !== '' || window.location.hash !== ''")
    start = expression.input_value()
    others = [e for e in examples if e["expression"] != start]
    first = others[0]
    second = next(e for e in others if e["expression"] != first["expression"])
    menu = page.get_by_role("combobox", name="Example")
    for example in (first, second):
        before = page.url
        menu.select_option(label=example["title"])
        expect(expression).to_have_value(example["expression"])
        # Shown, and its URL written (a person reads a trace before picking the next).
        page.wait_for_function("before => window.location.href !== before", arg=before)
    page.go_back()
    expect(expression).to_have_value(first["expression"])
    page.go_back()
    expect(expression).to_have_value(start)
    assert page.url.startswith(base_url)
    page.go_forward()
    expect(expression).to_have_value(first["expression"])


def test_presented_legend_and_view_buttons_do_not_overlap(page: Page, base_url: str) -> None:
    expression, values = "(x + y) * max(y, z)", {"x": 1, "y": 2, "z": 0}
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        for quiz in (0, 1):
            page.goto(base_url + "/?" + urlencode(
                {"expression": expression, "values": json.dumps(values), "step": 2, "quiz": quiz, "present": 1}))
            expect(page.locator("body")).to_have_class(re.compile(r"\bpresenting\b"))
            legend = page.locator(".legend").bounding_box()
            assert legend is not None
            for button in page.locator(".zoom > :visible").all():
                box = button.bounding_box()
                assert box is not None
                apart = (box["x"] >= legend["x"] + legend["width"] or box["x"] + box["width"] <= legend["x"]
                         or box["y"] >= legend["y"] + legend["height"] or box["y"] + box["height"] <= legend["y"])
                assert apart, (width, quiz, legend, box)
