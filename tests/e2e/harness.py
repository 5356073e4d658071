"""Shared by the browser tests: a `streamlit run app.py` server that can be stopped and started
again, and locators for keyed Streamlit elements. Imported by conftest.py and the test files
(pytest puts this folder on sys.path). Starting and stopping the server is benchmarks/local_server.py's.
"""
from __future__ import annotations

import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from benchmarks import local_server

ROOT, free_port, healthy = local_server.ROOT, local_server.free_port, local_server.healthy  # the tests' names

# Every wait is on the app's own signal, with a limit that a passing run on a busy 2-core machine
# (load 8-10, where everything takes 5-10 times longer) never reaches: slow is not wrong, and a
# generous limit costs nothing when the signal comes. conftest.py makes WAIT_S Playwright's default.
START_S = 180  # a cold server imports torch and warms it up on the first page load
WAIT_S = 60  # one step a person waits for: a rerun, a page switch, "Running" after Train, a table
TRAIN_S = 180  # every run the tests choose trains in seconds on an idle machine
TEST_S = 900  # pytest-timeout of one browser test (the suite's default 300 s is for unit tests)
VIEWPORT = {"width": 1500, "height": 1100}
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


class Server:
    """`streamlit run app.py` on a fixed port with its own environment; can be stopped and started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path, workers: str = WORKERS):
        self.port, self.env, self.log = port, {**env, "PLAYGROUND_WORKERS": workers}, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.process = local_server.launch(self.port, self.env, self.log)
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
        if process is not None:
            local_server.stop(process)


# --- locators ----------------------------------------------------------------------------------

def keyed(page: Page, key: str) -> Locator:
    """The current element of the widget or chart with this key."""
    return page.locator(f"{FRESH}.st-key-{key}")


def open_data(page: Page) -> None:
    """Unfold the sidebar's Data section unless it is open (folded, a toy dataset's settings are not drawn)."""
    expect(page.locator(".st-key-pg_data_box details")).to_be_attached(timeout=START_S * 1000)
    if page.locator(".st-key-pg_data_box details").get_attribute("open") is None:
        page.locator(".st-key-pg_data_box summary").click()
    expect(keyed(page, "pg_dataset")).to_be_visible(timeout=START_S * 1000)


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
    """A current st.success / st.warning / st.error / st.info box (kind: Success, Warning, ...) holding `text`.

    The first such box: a setup that cannot train shows its reason under Model and again beside Train."""
    return page.locator(f"[data-testid='stAlertContent{kind}']").filter(has_text=text).first


def runs_table_of(page: Page) -> Locator:
    """The Runs page's table of runs: its first dataframe (st.dataframe's key is not put on the page as a class)."""
    return page.locator(f"{FRESH} [data-testid='stDataFrame']").first


def column(table: Locator, name: str) -> Locator:
    """The cells of a dataframe's column `name`, top to bottom (from the grid's accessible table).

    Glide's accessible table is visually hidden, so it is found by CSS, not by get_by_role."""
    expect(table.locator("th[role='columnheader']").first).to_be_attached()
    headers = table.locator("th[role='columnheader']").all_inner_texts()
    assert name in headers, f"no column {name!r} in {headers}"
    return table.locator(f"td[role='gridcell'][aria-colindex='{headers.index(name) + 1}']")


# --- what a person does --------------------------------------------------------------------------

def query(page: Page) -> dict[str, str]:
    """The address bar's query parameters (the last value of each)."""
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def connect(page: Page, path: str, heading: str) -> None:
    """Open `path` and wait until the page is connected and its title is shown."""
    page.add_init_script(WATCH_EXCEPTIONS)
    page.goto(path)
    expect(page.locator(CONNECTED)).to_be_attached(timeout=START_S * 1000)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=START_S * 1000)


def open_playground(page: Page, path: str = "/Playground") -> None:
    """Open a Playground address and wait until Train can be pressed."""
    connect(page, path, "Playground")
    expect(button(page, "pg_train")).to_be_enabled(timeout=START_S * 1000)


def train_to_completion(page: Page, timeout_s: float = TRAIN_S) -> None:
    button(page, "pg_train").click()
    expect(badge(page)).to_have_text("Completed", timeout=timeout_s * 1000)


def unfold(target: Locator) -> None:
    """Open the folded expander that holds `target` (the Playground's Data settings), as a person would."""
    folded = target.locator("xpath=ancestor::details[not(@open)]")
    if folded.count():
        folded.first.locator("summary").first.click()
    expect(target).to_be_visible()


def click_option(page: Page, box: Locator, option: str) -> None:
    """Open the select box `box` (unfolding the expander it sits in) and click its `option`, again if a rerun
    replaced the list meanwhile (on a busy machine the dropdown can be redrawn under the pointer until the
    click times out)."""
    unfold(box)
    deadline = time.monotonic() + WAIT_S
    while True:
        if box.get_attribute("aria-expanded") != "true":
            box.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            box.press("Escape")


def open_popover(page: Page, name: str | re.Pattern, inside: str) -> None:
    """Click the popover button `name` until its content (the text `inside`) shows.

    On a busy machine a click can land just as a rerun replaces the button, and the popover then
    stays shut: click again rather than wait for what will not come."""
    content = page.get_by_text(inside)
    deadline = time.monotonic() + WAIT_S
    while True:
        page.get_by_role("button", name=name).click()
        try:
            expect(content).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def assert_no_exception(page: Page) -> None:
    """No Streamlit traceback box now, nor at any moment since the page was opened."""
    expect(page.locator(EXCEPTION)).to_have_count(0)
    seen = page.evaluate("window.__stExceptions")
    assert not seen, "the app showed an exception:\n" + "\n---\n".join(seen)


def new_person(browser: Browser, base_url: str, viewport: dict | None = None) -> Page:
    """A page in a new browser context (a person with their own Streamlit session), through `viewport`
    (VIEWPORT unless given); close its `.context` when done. Its actions wait up to WAIT_S."""
    page = browser.new_context(viewport=viewport or VIEWPORT, base_url=base_url).new_page()
    page.set_default_timeout(WAIT_S * 1000)
    return page


@contextmanager
def fresh_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """Another browser context: a second person (or a reopened browser), with its own Streamlit session."""
    page = new_person(browser, base_url)
    try:
        yield page
    finally:
        page.context.close()


def save_full_page(page: Page, path: Path, last: Locator) -> None:
    """Screenshot the whole main area at 1500 px wide; `last` is the page's last chart.

    Streamlit scrolls inside the app (not the document), so Playwright's `full_page` only sees the
    viewport: grow the viewport to the height of the main area for the shot, then restore it.
    """
    viewport = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        "[data-testid='stMain'], [data-testid='stMain'] *")].map(e => e.scrollHeight))""")
    page.mouse.move(viewport["width"] - 10, viewport["height"] // 2)  # empty margin: no tooltip, no hover
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], min(height, 2400))})
    expect(last).to_be_visible()  # Plotly redraws charts on resize: wait until the last one has its plot again
    page.wait_for_timeout(500)  # let the redraw settle so the picture is not half-drawn
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size(viewport)
    assert path.stat().st_size > 50_000, f"{path} looks empty"


WORKSPACE_COOKIE = "neural_playground_workspace"  # playground.ui.workspace.COOKIE


def workspace_of(page: Page) -> str:
    """The browser's workspace token: the cookie the page stores (it is never in the address)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        tokens = [c["value"] for c in page.context.cookies() if c["name"] == WORKSPACE_COOKIE]
        if tokens or time.monotonic() > deadline:
            assert tokens, f"the page stored no workspace cookie: {page.context.cookies()}"
            return tokens[0]
        time.sleep(0.1)


def wait_for_saved_runs(store, workspace: str, count: int, timeout_s: float = WAIT_S) -> list:
    """The workspace's saved runs once there are `count`: a run is saved just after its page says it ended."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = store.runs(workspace) if store.path.exists() else []
        if len(runs) >= count or time.monotonic() > deadline:
            return runs
        time.sleep(0.1)


# --- the Playground's layer row ----------------------------------------------------------------------

def chips(page: Page) -> Locator:
    """The layer chips' labels, input to output."""
    return page.locator("[data-testid='stLayoutWrapper'][class*='st-key-pg_chip_'] button:visible p")


def plus(page: Page, slot: int) -> Locator:
    """The "+" that inserts a layer at place `slot` (0: before the first layer)."""
    return page.locator(f".st-key-pg_insert_{slot} button:visible")


def in_popover(page: Page) -> Locator:
    """The open popover's content."""
    return page.locator("[data-testid='stPopoverBody']")


def click_until(page: Page, target: Locator, shows: Locator) -> None:
    """Click a chip or a "+" until its popover shows `shows` (a click can land on a button a rerun replaces)."""
    for _ in range(5):
        target.click()
        try:
            expect(shows).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    expect(shows).to_be_visible()


# --- the Draw page's canvas -------------------------------------------------------------------------

def canvas(page: Page, version: int) -> Locator:
    """The canvas of the given version: Clear (or giving a drawing away) swaps in a new one (a new key)."""
    return page.locator(f".st-key-dr_canvas_{version} canvas.upper-canvas")


def stroke(page: Page, points: list[tuple[float, float]], version: int = 0) -> None:
    """Press, move through `points` (canvas pixels), release: one pen stroke."""
    expect(canvas(page, version)).to_be_visible()
    box = canvas(page, version).bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()
