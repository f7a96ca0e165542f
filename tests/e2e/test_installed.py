"""pip install of the built wheel into a fresh venv, then `gradtrace serve`: the whole page, no other step.

`python -m build` makes the sdist and then the wheel from the sdist, as a
package index would, so both are shown to carry and build the page. The venv
is new; pip installs the dependencies from the machine's index as a user's
would (while the wheel builds, so the test takes the longer of the two).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
# (The fixtures are per session: the browser tests run apart from the others, and a
# module's fixture would be built again for them.)
# Building twice (the sdist, then the wheel from it) and a fresh venv: minutes, not seconds.
pytestmark = pytest.mark.timeout(900)


class Installed:
    def __init__(self, dist: Path, venv: Path) -> None:
        self.wheel = next(dist.glob("gradtrace-*.whl"))
        self.sdist = next(dist.glob("gradtrace-*.tar.gz"))
        self.venv = venv
        self.bin = venv / "bin"


def _pip(venv: Path, *args: str) -> None:
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
        check=True,
        capture_output=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    dist, venv = work / "dist", work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    failures: list[BaseException] = []

    def install_dependencies() -> None:
        try:
            _pip(venv, *dependencies)
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    deps = threading.Thread(target=install_dependencies)
    deps.start()
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    deps.join()
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert not failures, failures
    found = Installed(dist, venv)
    _pip(venv, str(found.wheel))
    return found


def test_the_wheel_and_the_sdist_carry_what_the_page_needs(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    page = [n for n in names if n.startswith("gradtrace/_frontend/")]
    assert "gradtrace/_frontend/index.html" in page
    assert "gradtrace/_frontend/manifest.json" in page
    assert "gradtrace/_frontend/standalone.html" in page
    assert any(n.endswith(".js") and "/assets/main-" in n for n in page)
    assert any("KaTeX_Main-Regular" in n and n.endswith(".woff2") for n in page)
    # The sdist holds the sources and the lockfile to build them again, not the npm packages.
    with tarfile.open(installed.sdist) as sdist:
        members = sdist.getnames()
    assert any(m.endswith("frontend/package-lock.json") for m in members)
    assert any(m.endswith("frontend/build.mjs") for m in members)
    assert not any("node_modules" in m for m in members)


@pytest.fixture(scope="session")
def served(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADTRACE_")}
    # Started away from the clone, so nothing of it can be read; its log goes to a file.
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    log = (elsewhere / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(installed.bin / "gradtrace"), "serve", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    text = (elsewhere / "serve.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"gradtrace serve did not start: {text}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_the_installed_package_serves_the_whole_page(page: Page, served: str) -> None:
    loaded: list[str] = []
    failed: list[str] = []
    page.on("response", lambda r: (loaded if r.ok else failed).append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(served + "/")
    status = page.get_by_role("status")
    expect(page.locator("#counter")).to_have_text("1 / 12")
    page.locator("#graph").focus()
    page.keyboard.press("End")
    expect(page.locator("#counter")).to_have_text("12 / 12")
    expect(status).to_have_text("df/dx = 2")
    expect(page.locator("#panel .katex").first).to_be_visible()
    fonts = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts]"
        ".filter((f) => f.family.includes('KaTeX') && f.status === 'loaded').length)"
    )
    assert fonts > 0
    # The bundle: hashed files from /static/assets, nothing from the npm packages' mounts.
    assert any("/static/assets/main-" in url for url in loaded)
    assert not any("/vendor/" in url for url in loaded)
    assert failed == []
    # The OpenAPI page's Swagger UI came along too.
    page.goto(served + "/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()


def test_the_installed_command_exports_an_offline_file(installed: Installed, tmp_path: Path) -> None:
    out = tmp_path / "lesson.html"
    subprocess.run(
        [str(installed.bin / "gradtrace"), "export", "x**3", "--values", '{"x": 4}', "-o", str(out)],
        check=True,
        cwd=tmp_path,
        timeout=120,
    )
    html = out.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and '"expression":"x**3"' in html
