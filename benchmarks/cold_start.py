"""Cold start to first page: how long a freshly started `streamlit run app.py` takes to serve the app.

    python -m benchmarks.cold_start [--repeats 3] [--env KEY=VALUE ...] [--timeout 180]

Each repeat starts fresh servers as a user would (`python -m streamlit run app.py --server.headless
true ...` on a free loopback port, PLAYGROUND_OFFLINE=1, the data folder and the runs database in a
new temporary folder, plus any --env KEY=VALUE) and opens them in headless Chromium (Playwright
driving Debian's /usr/bin/chromium, a new browser context, so a new Streamlit session, per visit):
- bare Streamlit page (reference): a fresh server running a page of one title and one `st.info`
  (nothing of the app's), from the app's folder and so with its config: seconds from starting the
  process until that page is rendered by the home page's signal below. Streamlit's own floor on
  this machine, measured side by side with the home page in every repeat;
- health ok: seconds from starting the server process until GET /_stcore/health answers "ok";
- home rendered: seconds from starting the process until the Home page, opened as soon as the
  server is healthy, is fully rendered: connected, the script finished (no running indicator),
  the heading and the page's last element (the "Training runs on" box) shown. The home page imports
  no torch: on a fresh server that box first says PyTorch is starting in the background;
- home names the device: on the same page, seconds from starting the process until that box names
  the training device ("Training runs on **CPU ...**"), i.e. until the background warm-up, which the
  first page load starts, has imported and warmed up torch (the box checks every second);
- Playground, fresh server: a second fresh server whose first page is /Playground: seconds from
  starting the process until the page's Train button shows and is enabled (the page imports no torch:
  its plan and budget are arithmetic; torch warms up in the background);
- Playground, second visit: on that now-warm server, a new session opening /Playground: seconds
  from the navigation until the Train button shows; the third visit the same again, to show
  whether the second still paid one-off costs.
Medians over the repeats (every value kept), printed and written to
benchmarks/results/cold_start.json with the 1-minute load average at each repeat.

Not measured: launching Chromium (once, before any timing). "Cold" means a new server process,
not a cold machine: after the first start the OS's file cache is warm.
Whatever the server starts on its first page load (a pool of training workers, say, with
PLAYGROUND_WORKERS) is measured as it happens: it shares the CPU with the page being timed.
A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from benchmarks.local_server import ROOT, free_port, healthy, launch
from benchmarks.local_server import stop as stop_server

RESULTS = ROOT / "benchmarks" / "results" / "cold_start.json"
CHROMIUM = "/usr/bin/chromium"  # as tests/e2e/conftest.py: Playwright's own download fails here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1500, "height": 1100}
RENDERED = """([title, box]) =>
  document.querySelector("[data-testid='stApp'][data-test-connection-state='CONNECTED']") !== null
  && document.querySelector("[data-testid='stStatusWidgetRunningIcon']") === null
  && [...document.querySelectorAll("h1")].some(h => h.textContent.includes(title))
  && [...document.querySelectorAll("[data-testid='stAlertContentInfo']")]
       .some(info => info.textContent.includes(box))"""
HOME = ("Neural Playground", "Training runs on")  # the home page's heading and its last element
BARE = ("A bare page", "Nothing else here.")
BARE_PAGE = f"import streamlit as st\n\nst.title({BARE[0]!r})\nst.info({BARE[1]!r})\n"
DEVICE_NAMED = """() => [...document.querySelectorAll("[data-testid='stAlertContentInfo']")]
  .some(box => /Training runs on (CPU|CUDA|Apple MPS)/.test(box.textContent))"""
TRAIN_BUTTON = ".st-key-pg_train button:visible:enabled"  # Streamlit also renders a hidden copy for tooltips
ROWS = ("bare Streamlit page (fresh server, reference)", "health ok (fresh server)", "home rendered (fresh server)",
        "home names the device (fresh server)",
        "Playground Train button (fresh server)",
        "Playground Train button (second visit)", "Playground Train button (third visit)")


class Server:
    """A fresh `streamlit run app.py` in its own process group and temporary data folder (a context manager)."""

    def __init__(self, extra_env: dict[str, str], script: str | None = None):
        self.folder = tempfile.TemporaryDirectory(prefix="cold-start-")
        base = Path(self.folder.name)
        self.env = {**os.environ, "PLAYGROUND_OFFLINE": "1", "PLAYGROUND_DATA": str(base / "data"),
                    "PLAYGROUND_RUNS_DB": str(base / "runs.sqlite"), **extra_env}
        self.log, self.port = base / "server.log", free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.script = "app.py"
        if script is not None:  # a page of its own, outside the app (so without its pages)
            self.script = str(base / "bare.py")
            Path(self.script).write_text(script)

    def __enter__(self) -> "Server":
        self.started = time.perf_counter()
        self.process = launch(self.port, self.env, self.log, script=self.script)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.folder.cleanup()

    def since_start(self) -> float:
        return time.perf_counter() - self.started

    def wait_healthy(self, timeout: float) -> float:
        """Seconds from the process start until /_stcore/health says "ok"."""
        while not healthy(self.url):
            if self.process.poll() is not None or self.since_start() > timeout:
                raise SystemExit(f"streamlit did not become healthy on port {self.port}:\n{self.log_tail()}")
            time.sleep(0.05)
        return self.since_start()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    def stop(self) -> None:
        """SIGTERM the server's process group (workers included), SIGKILL it if it lingers."""
        stop_server(self.process)


def visit(browser, server: Server, path: str, timeout: float, signals: tuple = ((RENDERED, HOME), (DEVICE_NAMED, None))
          ) -> list[float]:
    """Open `path` in a new session; the perf_counter times of its signals (see the docstring): on
    a page at "/" each of `signals` ((script, argument) pairs: the home page's by default, rendered and
    naming the device), elsewhere when Train shows."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(server.url + path, timeout=timeout * 1000)
        if path != "/":
            page.locator(TRAIN_BUTTON).first.wait_for(state="visible", timeout=timeout * 1000)
            return [time.perf_counter()]
        times = []
        for signal_js, argument in signals:
            page.wait_for_function(signal_js, arg=argument, timeout=timeout * 1000)
            times.append(time.perf_counter())
        return times
    except Exception as error:  # Playwright's TimeoutError and friends: say what the server said
        raise SystemExit(f"{path} did not render: {error}\nserver log:\n{server.log_tail()}") from error
    finally:
        context.close()


def one_repeat(browser, extra_env: dict[str, str], timeout: float) -> dict[str, float]:
    """The figures of ROWS, from three fresh servers."""
    with Server(extra_env, BARE_PAGE) as server:
        server.wait_healthy(timeout)
        bare = visit(browser, server, "/", timeout, ((RENDERED, BARE),))[0] - server.started
    with Server(extra_env) as server:
        health = server.wait_healthy(timeout)
        home = [moment - server.started for moment in visit(browser, server, "/", timeout)]
    with Server(extra_env) as server:
        server.wait_healthy(timeout)
        cold = visit(browser, server, "/Playground", timeout)[0] - server.started
        warm = []
        for _ in range(2):  # second and third visits: did the second still pay one-off costs?
            opened = time.perf_counter()
            warm.append(visit(browser, server, "/Playground", timeout)[0] - opened)
    return dict(zip(ROWS, (bare, health, *home, cold, *warm)))


def measure(repeats: int, extra_env: dict[str, str], timeout: float) -> tuple[dict, list]:
    """({row: seconds per repeat}, the 1-minute load average after each repeat)."""
    from playwright.sync_api import sync_playwright

    seconds, loads = {row: [] for row in ROWS}, []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for number in range(repeats):
                for row, value in one_repeat(browser, extra_env, timeout).items():
                    seconds[row].append(value)
                loads.append(os.getloadavg()[0])
                print(f"  repeat {number + 1}/{repeats}: " + ", ".join(f"{v:.2f}" for v in
                      (values[-1] for values in seconds.values())) + f" s (load {loads[-1]:.1f})", flush=True)
        finally:
            browser.close()
    return seconds, loads


def env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh server starts per row; medians reported")
    parser.add_argument("--env", type=env_pair, action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the server (repeatable), e.g. PLAYGROUND_WORKERS=2")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for any one step")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the servers are stopped
    extra_env = dict(args.env)
    seconds, loads = measure(args.repeats, extra_env, args.timeout)
    rows = {row: {"median_seconds": statistics.median(values), "min_seconds": min(values),
                  "max_seconds": max(values), "all_seconds": values} for row, values in seconds.items()}
    print(f"{'step':<48}{'median s':>10}{'min s':>8}{'max s':>8}")
    for name, row in rows.items():
        print(f"{name:<48}{row['median_seconds']:>10.2f}{row['min_seconds']:>8.2f}{row['max_seconds']:>8.2f}")
    print(f"{args.repeats} repeat(s) on {os.cpu_count()} CPUs; 1-minute load average "
          + ", ".join(f"{load:.1f}" for load in loads) + (f"; server env {extra_env}" if extra_env else ""))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "repeats": args.repeats, "extra_env": extra_env,
                                   "load_average_1min": loads, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "python": platform.python_version(),
                                   "streamlit": version("streamlit")}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
