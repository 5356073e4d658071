"""Fixtures for the real-browser tests: a Streamlit server on a free port and headless Chromium.

The server is started once per session from the repository root, exactly as a user would
(`streamlit run app.py`); Chromium is Debian's (/usr/bin/chromium), because Playwright's own
browser download does not work on these machines (shared/NOTES.md, "Installing").
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit_app import Server, free_port  # this folder is on sys.path (pytest's rootdir-less import)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1500, "height": 1100}
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
    context = browser.new_context(viewport=VIEWPORT, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
