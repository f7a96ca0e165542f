"""Assemble the FastAPI application: routers, the page, static files and headers."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gradtrace import __version__
from gradtrace.api.routes import router
from gradtrace.api.settings import Settings


def _page_context(settings: Settings) -> dict[str, str]:
    """The data the page shell carries so that its first view needs no extra round trip."""
    data = {"version": __version__, "examples": [], "limits": {}}
    # Embedded in a <script type="application/json">: escape what could close the tag.
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return {"page_data": text, "version": __version__}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one gradtrace application from its settings."""
    settings = settings or Settings()
    app = FastAPI(title="gradtrace", version=__version__)
    app.state.settings = settings
    app.include_router(router)

    frontend: Path = settings.frontend_dir
    templates = Environment(
        loader=FileSystemLoader(str(frontend)), autoescape=select_autoescape(["html"])
    )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def get_page(request: Request) -> HTMLResponse:
        """The page shell, with the examples and limits embedded as JSON data."""
        html = templates.get_template("index.html").render(**_page_context(settings))
        return HTMLResponse(html)

    app.mount("/static", StaticFiles(directory=frontend), name="static")
    modules = frontend / "node_modules"
    if (modules / "katex").is_dir():
        app.mount("/vendor/katex", StaticFiles(directory=modules / "katex" / "dist"), name="katex")
    if (modules / "@dagrejs" / "dagre").is_dir():
        app.mount(
            "/vendor/dagre",
            StaticFiles(directory=modules / "@dagrejs" / "dagre" / "dist"),
            name="dagre",
        )
    return app
