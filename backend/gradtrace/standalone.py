"""The standalone player: one offline HTML file that holds a trace and the page's own player.

The file (of a trace, or of a lesson and the trace of each of its slides) is
made with jinja2 from the template that the frontend build
(frontend/build.mjs) derives from the page's index.html: the page's modules
bundled into one inlined script, its style sheet with KaTeX's fonts inlined,
the trace and the ops embedded as JSON data, and a Content-Security-Policy of
its own that allows nothing from the network. It opens from file://, from a
course website, and inside a notebook's output.

The built files come with the installed package (gradtrace/_frontend); in a
clone of the repository, `make setup` builds them into frontend/dist.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

import gradtrace
from gradtrace.api.settings import PACKAGED_PAGE, REPO_FRONTEND
from gradtrace.errors import limit_exceeded
from gradtrace.jsonform import script_json
from gradtrace.limits import Limits
from gradtrace.ops import describe_constants, describe_ops
from gradtrace.trace import Trace

#: Where `make setup` (frontend/build.mjs) builds the page in a clone.
REPO_PAGE = REPO_FRONTEND / "dist"

#: The file may run its own inlined script, styles and fonts and open blob
#: workers and downloads; nothing else, and nothing from the network.
_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'sha256-{script_sha256}'",
        # KaTeX sets style attributes; the style sheet is inline.
        "style-src 'unsafe-inline'",
        "font-src data:",
        "img-src data: blob:",
        "worker-src blob:",
        "connect-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)

_TITLE_LENGTH = 60


class PlayerNotBuilt(RuntimeError):
    """The bundled player is missing: a clone of the repository that has not been built."""


@dataclass(frozen=True)
class _Player:
    template: Any
    script: str
    style: str
    csp: str


def built_page() -> Path:
    """The directory of the built page: the package's own, else a clone's frontend/dist."""
    for directory in (PACKAGED_PAGE, REPO_PAGE):
        if (directory / "manifest.json").is_file():
            return directory
    raise PlayerNotBuilt(
        "the bundled player is not built: in a clone of gradtrace, run `make setup` "
        "(or `npm run build` in frontend/)"
    )


@functools.cache
def _player(directory: Path) -> _Player:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    parts = manifest["standalone"]
    env = Environment(loader=FileSystemLoader(str(directory)), autoescape=select_autoescape(["html"]))
    return _Player(
        template=env.get_template(parts["template"]),
        script=(directory / parts["script"]).read_text(encoding="utf-8"),
        style=(directory / parts["style"]).read_text(encoding="utf-8"),
        csp=_CSP.format(script_sha256=parts["script_sha256"]),
    )


def _title(expression: str) -> str:
    line = " ".join(expression.split())
    if len(line) > _TITLE_LENGTH:
        line = line[: _TITLE_LENGTH - 1] + "…"
    return f"gradtrace: {line}"


def _carried(trace: Trace | Mapping[str, Any]) -> dict[str, Any]:
    """A trace with the request the page makes for it: its expression, its inputs' values, its check, its constants.

    The page asks for a trace with the values of its input boxes, which it
    fills from the trace's input nodes: the request is written from the same.
    """
    body = trace.to_dict() if isinstance(trace, Trace) else dict(trace)
    values = {n["name"]: n["value"] for n in body.get("nodes", []) if n.get("kind") == "input"}
    request = {"expression": body.get("expression", ""), "values": values, "check": bool(body.get("check"))}
    # The inputs traced as data: the page ticks them and asks with them, as it does online.
    constants = [n["name"] for n in body.get("nodes", []) if n.get("kind") == "input" and n.get("constant")]
    if constants:
        request["constants"] = constants
    return {"request": request, "trace": body}


def _render(data: dict[str, Any], title: str) -> str:
    player = _player(built_page())
    page = {
        "standalone": True, "ops": describe_ops(), "constants": describe_constants(),
        "examples": [], "limits": {}, **data,
    }
    return str(
        player.template.render(
            csp=player.csp,
            title=title,
            page_data=script_json(page),
            style=player.style,
            script=player.script,
        )
    )


def standalone_html(trace: Trace | Mapping[str, Any], title: str | None = None) -> str:
    """One HTML file that plays `trace` (a Trace, or its JSON form) with no server and no network."""
    carried = _carried(trace)
    return _render(
        {"traces": [carried]}, title or _title(str(carried["request"]["expression"]))
    )


def lesson_html(
    lesson: Mapping[str, Any], title: str | None = None, limits: Limits | None = None
) -> str:
    """One HTML file that runs a lesson (docs/lessons.md) offline: its slides and each one's trace.

    Raises ValueError for a file that is not a lesson, and the TraceError of
    the first slide that cannot be traced (its `slide` attribute says which).
    With `limits`, every slide is priced before any is traced, and the whole
    file is held to one trace's max_response_bytes.
    """
    from gradtrace.api.lessons import Lesson

    valid = Lesson.model_validate(lesson).model_dump()
    plans = []
    for i, slide in enumerate(valid["slides"]):
        try:
            plans.append(
                gradtrace.plan(
                    slide["expression"], slide["values"], slide["check"], limits, slide["constants"]
                )
            )
        except gradtrace.TraceError as error:
            error.slide = i  # type: ignore[attr-defined]
            raise
    total = sum(p.cost.response_bytes for p in plans)
    if limits is not None and limits.max_response_bytes is not None and total > limits.max_response_bytes:
        raise limit_exceeded(
            "max_response_bytes",
            f"the traces of the lesson's {len(plans)} slides together",
            f"{total} bytes at most",
            limits.max_response_bytes,
        )
    traces = []
    for i, planned in enumerate(plans):
        try:
            result = planned.run()
        except gradtrace.TraceError as error:
            error.slide = i  # type: ignore[attr-defined]
            raise
        traces.append(_carried(result))
    return _render({"lesson": valid, "traces": traces}, title or f"gradtrace: {valid['title']}")
