"""Framing on a course site: a page of a second origin frames `/?...&embed=1` when allowed, never otherwise."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from gradtrace.api.settings import Settings
from tests.conftest import LiveServer

LECTURE = "(x + y) * max(y, z)"
LECTURE_VALUES = {"x": 1, "y": 2, "z": 0}


class CourseSite:
    """A second origin on 127.0.0.1 (another port): one page with an iframe of `frame_url`."""

    def __init__(self) -> None:
        self.frame_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                body = (
                    "<!doctype html><title>course</title><h1>Week 3</h1>"
                    f'<iframe id="player" src="{site.frame_url}" width="1000" height="600"></iframe>'
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def course_site() -> Iterator[CourseSite]:
    site = CourseSite()
    yield site
    site.stop()


def embed_url(server: LiveServer) -> str:
    query = urlencode({"expression": LECTURE, "values": json.dumps(LECTURE_VALUES), "embed": "1"})
    return f"{server.url}/?{query}"


def test_an_allowed_origin_frames_the_embed_view(page: Page, course_site: CourseSite) -> None:
    server = LiveServer(Settings(frame_ancestors=[course_site.url])).start()
    try:
        assert server.url != course_site.url
        course_site.frame_url = embed_url(server)
        page.goto(course_site.url + "/")
        frame = page.frame_locator("#player")
        expect(frame.locator("#counter")).to_have_text("1 / 12")
        # Little chrome: no editor, no export buttons; the steps and the panel stay.
        expect(frame.locator(".topbar")).to_be_hidden()
        expect(frame.locator("#export-svg")).to_be_hidden()
        frame.get_by_role("button", name="Next step").click()
        expect(frame.locator("#counter")).to_have_text("2 / 12")
        frame.locator("#graph").click()
        page.keyboard.press("End")
        expect(frame.locator("#counter")).to_have_text("12 / 12")
    finally:
        server.stop()


def test_an_origin_not_allowed_is_refused(page: Page, course_site: CourseSite) -> None:
    server = LiveServer().start()
    try:
        course_site.frame_url = embed_url(server)
        refused: list[str] = []
        page.on(
            "console",
            lambda message: refused.append(message.text) if "frame-ancestors" in message.text else None,
        )
        page.goto(course_site.url + "/")
        page.wait_for_load_state("load")
        frame = next(f for f in page.frames if f is not page.main_frame)
        # Chromium shows its own error page in place of the refused document.
        assert not frame.url.startswith(server.url)
        assert frame.locator("#counter").count() == 0
        assert refused, "Chromium did not report the refusal"
    finally:
        server.stop()
