"""The package build's one extra step: bundle the page into the wheel.

A wheel (and a wheel built from the sdist) carries gradtrace/_frontend: the
page bundled by esbuild (frontend/build.mjs) from the npm lockfile, dagre and
KaTeX with its fonts included, so that `pip install` then `gradtrace serve`
needs nothing else. The npm packages are installed with `npm ci` when they
are missing. Where there is no Node.js (a Python-only image), a page built
beforehand into frontend/dist is taken as it is. An editable install (a
clone's `make setup`) skips this: the clone serves frontend/ itself.

Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"


def build_page(out: Path) -> None:
    """Bundle the page into `out` (replaced whole)."""
    node = shutil.which("node")
    if node is None:
        prebuilt = FRONTEND / "dist"
        if not (prebuilt / "manifest.json").is_file():
            raise SystemExit(
                "building gradtrace needs Node.js and npm (to bundle the page), "
                "or a page built beforehand into frontend/dist (npm run build)"
            )
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(prebuilt, out)
        return
    if not (FRONTEND / "node_modules" / "esbuild").is_dir():
        npm = shutil.which("npm") or "npm"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True
        )
    subprocess.run([node, "build.mjs", "--out", str(out)], cwd=FRONTEND, check=True)


class BuildWithPage(build_py):
    """build_py, then the bundled page into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        build_page(Path(self.build_lib).resolve() / "gradtrace" / "_frontend")


setup(cmdclass={"build_py": BuildWithPage})
