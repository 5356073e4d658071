"""Fixtures for the real-browser tests: a Streamlit server on a free port and headless Chromium.

The server is started once per session from the repository root, exactly as a user would
(`streamlit run app.py`); Chromium is Debian's (/usr/bin/chromium), because Playwright's own
browser download does not work on these machines (shared/NOTES.md, "Installing").
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1500, "height": 1100}
HEALTH_TIMEOUT_S = 60
_server: dict = {}  # the running server's process and log file, for failure reports


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's whole process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of a fresh `streamlit run app.py` (the server is stopped after the session)."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],  # edits mid-run must not reload it
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    _server.update(process=process, log=log_path)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit was not healthy after {HEALTH_TIMEOUT_S} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield url
    finally:
        _server.clear()
        _stop(process)
        log.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, show whether the server is alive and the end of its log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _server:
        process, log_path = _server["process"], _server["log"]
        state = "running" if process.poll() is None else f"exited with {process.returncode}"
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
