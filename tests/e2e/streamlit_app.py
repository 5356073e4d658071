"""Shared by the browser tests: a `streamlit run app.py` server that can be stopped and started
again, and locators for keyed Streamlit elements. Imported by conftest.py and the test files
(pytest puts this folder on sys.path).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
START_S = 60  # a cold server imports torch and warms it up on the first page load
WORKERS = "2"  # training worker processes of the browser tests' servers: they exercise the pool
# While a rerun replaces them, Streamlit keeps old elements for a moment with data-stale="true"
# (two status badges, say): look only at current ones.
FRESH = ".stElementContainer[data-stale='false']"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
EXCEPTION = "[data-testid='stException']"

# Remembers every Streamlit exception box that is ever added to the page, even one that a later
# rerun removes again, so the tests can say "no traceback at any time", not just "none now".
WATCH_EXCEPTIONS = """
window.__stExceptions = [];
new MutationObserver(records => {
  for (const record of records) for (const node of record.addedNodes) {
    if (!(node instanceof Element)) continue;
    const boxes = node.matches("[data-testid='stException']") ? [node]
      : [...node.querySelectorAll("[data-testid='stException']")];
    for (const box of boxes) window.__stExceptions.push(box.innerText || "(exception box)");
  }
}).observe(document, {childList: true, subtree: true});
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


class Server:
    """`streamlit run app.py` on a fixed port with its own environment; can be stopped and started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path):
        self.port, self.env, self.log = port, {**env, "PLAYGROUND_WORKERS": WORKERS}, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(self.port), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_S
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"streamlit did not start on port {self.port}:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.25)
        return self

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
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


# --- locators ----------------------------------------------------------------------------------

def keyed(page: Page, key: str) -> Locator:
    """The current element of the widget or chart with this key."""
    return page.locator(f"{FRESH}.st-key-{key}")


def button(page: Page, key: str) -> Locator:
    """The visible button of the keyed st.button (Streamlit also renders a hidden copy for tooltips)."""
    return keyed(page, key).get_by_role("button")


def badge(page: Page) -> Locator:
    """The coloured status badge of the run ("Running", "Completed", ...)."""
    return page.locator(f"{FRESH} .stMarkdownBadge")


def metric(page: Page, label: str) -> Locator:
    metrics = page.locator(f"{FRESH} [data-testid='stMetric']")
    return metrics.filter(has_text=label).locator("[data-testid='stMetricValue']")


def alert(page: Page, kind: str, text: str | re.Pattern) -> Locator:
    """A current st.success / st.warning / st.error / st.info box (kind: Success, Warning, ...) holding `text`."""
    return page.locator(f"[data-testid='stAlertContent{kind}']").filter(has_text=text)
