"""Fixtures for the real-browser tests: a Streamlit server on a free port and headless Chromium.

The server is started once per session from the repository root, exactly as a user would
(`streamlit run app.py`); Chromium is Debian's (/usr/bin/chromium), because Playwright's own
browser download does not work on these machines (shared/NOTES.md, "Installing").
Every Playwright wait defaults to WAIT_S (harness.py), not Playwright's 5 s. Screenshots go
to a temporary folder, or to $PLAYGROUND_SCREENSHOTS (`python -m tests.e2e.refresh_docs` sets it to
docs/ to refresh the README's pictures): the tests never write into the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from harness import WAIT_S, Server, free_port, new_person  # this folder is on sys.path

expect.set_options(timeout=WAIT_S * 1000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_server: dict = {}  # the running Server, for failure reports


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of a fresh `streamlit run app.py` (the server is stopped after the session)."""
    server = Server(free_port(), dict(os.environ), tmp_path_factory.mktemp("streamlit") / "server.log")
    _server.update(server=server)
    try:
        yield server.start().url
    finally:
        _server.clear()
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, show whether the server is alive and the end of its log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _server:
        process, log_path = _server["server"].process, _server["server"].log
        state = "running" if process is not None and process.poll() is None else "not running"
        tail = log_path.read_text(errors="replace")[-4000:]
        report.sections.append(("streamlit server", f"{state}; log {log_path}:\n{tail}"))


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; skipped without it, except under CI, where that is a failure."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium) — browser tests need it"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so they must run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser context (its own Streamlit session) with a 1500x1100 viewport."""
    page = new_person(browser, app_url)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def person(browser, app_url, request):
    """A person with their own session, looking through a viewport of `request.param` (width, height):
    parametrize it indirectly with the sizes a test checks."""
    width, height = request.param
    page = new_person(browser, app_url, {"width": width, "height": height})
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the tests save their pictures: $PLAYGROUND_SCREENSHOTS, else a temporary folder."""
    folder = Path(os.environ.get("PLAYGROUND_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
