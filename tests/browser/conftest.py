"""A live server (uvicorn in its own process, demo city on SQLite) and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from core.settings import ROOT
from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing; .ci/run installs it")
    skip = pytest.mark.skip(reason="Debian's chromium is not installed")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_database_url(live_var: Path) -> str:
    """The live server's own SQLite database, for tests that set up data directly."""
    return f"sqlite:///{live_var}/live.db"


@pytest.fixture(scope="session")
def live_server(live_var: Path, live_database_url: str) -> Iterator[str]:
    var = live_var
    env = {**os.environ, "SHAAR_VAR_DIR": str(var), "DATABASE_URL": live_database_url,
           "SHAAR_ENV": "development", "PYTHONWARNINGS": "ignore"}
    for name in ("SMTP_HOST", "OIDC_PROVIDERS", "TEST_DATABASE_URL"):
        env.pop(name, None)
    shaar = [sys.executable, "-m", "core.cli"]
    subprocess.run([*shaar, "migrate"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*shaar, "seed-demo"], env=env, check=True, capture_output=True, cwd=ROOT)
    # LIVE_PORT pins the port (for machines where only some ports may be used).
    port = int(os.environ.get("LIVE_PORT") or free_port())
    env["BASE_URL"] = f"http://127.0.0.1:{port}"
    log = (var / "server.log").open("w")
    process = subprocess.Popen([*shaar, "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded machine starts slowly
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError((var / "server.log").read_text())
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread while it is open, which would break later tests that run their own loop."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# A loaded CI machine (two test workers, each with its own live server and Chromium) can take
# longer than Playwright's 5 s default to answer a form post and draw the new page.
expect.set_options(timeout=30_000)


class Watched:
    """A page whose console errors, CSP violations and requests are kept for assertions."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.foreign.append(r.url)
                if not r.url.startswith(base) and not r.url.startswith("data:") else None)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        # caret="hide" would leave empty style attributes on every input, which htmx copies
        # onto swapped-in elements and the CSP then refuses: the screenshot must not change
        # the page it shows.
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True,
                             caret="initial")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed and "watched" in getattr(item, "fixturenames", ()):
        watched = item.funcargs.get("watched")  # type: ignore[attr-defined]
        if isinstance(watched, Watched):
            # What the browser last showed, for a failure on a machine nobody can look at.
            report.sections.append(("page at failure", f"{watched.page.url}\n"
                                    f"{watched.page.locator('main').inner_text()[:2000]}"))
    return report


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def watched(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Watched]:
    context = browser.new_context(java_script_enabled=request.param, locale="ru",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield Watched(page, live_server)
    context.close()


@pytest.fixture(autouse=True, scope="session")
def _clean_artifacts() -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
