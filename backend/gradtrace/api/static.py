"""The files the server serves: the page's own modules and styles, and the few library files it loads.

This is the one list of them. Each mount serves only the paths that match its
patterns; anything else in the directory (the page's jinja2 template, npm's
package.json and lockfile, KaTeX's and Swagger UI's own pages and build logs)
is a 404, as if it were not there. A new file the page loads is one pattern
here; the tests read these patterns too.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Per URL prefix: the directory under the frontend directory, and the patterns of what it serves.
SERVED: dict[str, tuple[str, tuple[str, ...]]] = {
    # The page's modules and styles, or the built bundle's (assets/, with KaTeX's fonts).
    "/static": (
        ".",
        ("js/*.js", "css/*.css", "assets/*.js", "assets/*.css", "assets/*.woff2", "assets/*.woff", "assets/*.ttf"),
    ),
    "/vendor/katex": (
        "node_modules/katex/dist",
        ("katex.mjs", "katex.min.css", "fonts/*.woff2", "fonts/*.woff", "fonts/*.ttf"),
    ),
    "/vendor/dagre": ("node_modules/@dagrejs/dagre/dist", ("dagre.esm.js",)),
    "/vendor/qrcode": ("node_modules/qrcode-generator/dist", ("qrcode.mjs",)),
    "/vendor/uplot": ("node_modules/uplot/dist", ("uPlot.esm.js", "uPlot.min.css")),
    "/vendor/swagger-ui": (
        "node_modules/swagger-ui-dist",
        ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"),
    ),
}


class ListedFiles(StaticFiles):
    """StaticFiles that answers only for paths matching its patterns (404 for any other)."""

    def __init__(self, *, directory: Path, patterns: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(directory=directory, **kwargs)
        self.patterns = patterns

    def listed(self, path: str) -> bool:
        """Whether `path` (relative, as the URL gives it) is one of the served files."""
        normal = os.path.normpath(path).replace(os.sep, "/")
        if normal.startswith("..") or normal.startswith("/"):
            return False
        return any(fnmatch.fnmatchcase(normal, pattern) for pattern in self.patterns)

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self.listed(path):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def listed(directory: Path, prefix: str) -> StaticFiles:
    """The files of `directory` served under `prefix`: only its listed ones, when it has a list."""
    if prefix not in SERVED:
        return StaticFiles(directory=directory)
    return ListedFiles(directory=directory, patterns=SERVED[prefix][1])


def mounts(frontend: Path) -> list[tuple[str, str, ListedFiles]]:
    """(prefix, name, app) for every served directory that exists."""
    found = []
    for prefix, (directory, patterns) in SERVED.items():
        where = (frontend / directory).resolve()
        if where.is_dir():
            found.append((prefix, prefix.strip("/").replace("/", "-"), ListedFiles(directory=where, patterns=patterns)))
    return found
