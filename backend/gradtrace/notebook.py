"""The player in a notebook: a Trace or a lesson shows as the interactive player, and `show()` shows one anywhere.

The output is the offline file of gradtrace.standalone in an iframe of its
own (`srcdoc`, sandboxed to scripts and downloads), returned as text/html:

- it works offline and with no kernel: the output holds everything it needs,
  so a saved notebook, its HTML export and a static viewer that keeps iframes
  play it as the live notebook did;
- it needs no extension in the front end: JupyterLab, Notebook, VS Code and
  Colab all show an HTML output, while a widget needs a widget manager in the
  front end and a live kernel to show anything at all;
- each player is a document of its own, so two players in one notebook do not
  share ids, keys or state, and the notebook's own shortcuts do not see the
  keys pressed inside one (click it first).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gradtrace.standalone import lesson_html, standalone_html
from gradtrace.trace import Trace

#: Tall enough for the graph, the step controls and the step's panel.
DEFAULT_HEIGHT = 640
#: A lesson's player adds the slide's counter, title and note above the graph.
LESSON_HEIGHT = 760


def _framed(document: str, height: int) -> str:
    """An offline file as a notebook output: in a sandboxed iframe of its own."""
    return (
        f'<iframe class="gradtrace-player" title="gradtrace player" srcdoc="{html.escape(document)}" '
        f'sandbox="allow-scripts allow-downloads" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ccc;"></iframe>'
    )


def player_html(trace: Trace | Mapping[str, Any], height: int = DEFAULT_HEIGHT) -> str:
    """The notebook output for `trace`: the offline player in a sandboxed iframe."""
    return _framed(standalone_html(trace), height)


class Lesson:
    """A lesson (docs/lessons.md), checked and with every slide traced; in a notebook, its player.

    The player runs it as the page does: Page Down past a slide's last step
    opens the next slide.
    """

    def __init__(self, lesson: Mapping[str, Any], height: int = LESSON_HEIGHT) -> None:
        # Made now, so that a lesson that is not one, or a slide that cannot be
        # traced, fails where the lesson is made rather than when it shows.
        self.document = lesson_html(lesson)
        self.data = dict(lesson)
        self.height = height

    @property
    def title(self) -> str:
        return str(self.data["title"])

    def to_dict(self) -> dict[str, Any]:
        """The lesson as it was given (the file's JSON)."""
        return dict(self.data)

    def _repr_html_(self) -> str:
        return _framed(self.document, self.height)


def load_lesson(source: Mapping[str, Any] | str | Path, height: int = LESSON_HEIGHT) -> Lesson:
    """A lesson from its JSON form, or from the path of a lesson file (`NAME.lesson.json`)."""
    if isinstance(source, Mapping):
        return Lesson(source, height)
    return Lesson(json.loads(Path(source).read_text(encoding="utf-8")), height)


class Player:
    """What `show` displays: an object whose HTML form (`_repr_html_`) is the player."""

    def __init__(self, trace: Trace | Mapping[str, Any], height: int = DEFAULT_HEIGHT) -> None:
        self.trace = trace
        self.height = height

    def _repr_html_(self) -> str:
        return player_html(self.trace, self.height)


def show(
    trace: Trace | Lesson | Mapping[str, Any] | str,
    values: Mapping[str, Any] | None = None,
    check: bool = False,
    height: int = DEFAULT_HEIGHT,
) -> None:
    """Show the player for a Trace, a Lesson (or an expression and its values) in the notebook's output.

    It shows where it is called: in a loop, in the middle of a cell. (It
    returns nothing, so that as a cell's last line it does not show twice.)
    """
    from IPython.display import display

    if isinstance(trace, Lesson):
        display(trace)  # type: ignore[no-untyped-call]
        return
    if isinstance(trace, str):
        import gradtrace

        trace = gradtrace.trace(trace, values or {}, check=check)
    display(Player(trace, height))  # type: ignore[no-untyped-call]
