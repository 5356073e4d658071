"""Decision-boundary frames drawn per second in Chromium while the default spiral trains at the Watch pace.

    python -m benchmarks.live_frames [--runs 3] [--timeout 300]

A fresh `streamlit run app.py` (as benchmarks/cold_start.py starts it) and Debian's headless Chromium at
1280x720 open the Playground and press Train on the defaults (Watch: 1,000 epochs in about 10 s), `--runs`
times. A sampler inside the page looks at the boundary every 50 ms: whether its plot is there with the
heatmap drawn, and the epoch in its title. Per run: distinct epochs drawn, the seconds from the first to
the last, distinct frames per second, the longest wait for a new frame, and the samples in which the
drawn boundary was missing or empty (issue 15: none, and >= 4 frames/s), and the KB the page's websocket
received per distinct frame drawn (every message of the run, as Playwright sees it: decompressed), the
messages that redraw the boundary and their mean KB, and how many of them carried the data points whole
(the live chart sends them once, then by key).
Printed as a table and written to benchmarks/results/live_frames.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from benchmarks.cold_start import CHROMIUM, CHROMIUM_ARGS, TRAIN_BUTTON, Server
from benchmarks.local_server import ROOT

RESULTS = ROOT / "benchmarks" / "results" / "live_frames.json"
VIEWPORT = {"width": 1280, "height": 720}
START_SAMPLING = """() => {
  window.__samples = [];
  clearInterval(window.__sampler);
  window.__sampler = setInterval(() => {
    const box = document.querySelector(".st-key-pg_boundary");
    const svg = box && box.querySelector(".main-svg");
    const image = box && box.querySelector(".heatmaplayer image");
    const title = box && box.querySelector(".gtitle");
    const m = title && title.textContent.match(/epoch (\\d+)/);
    const badge = document.querySelector(".stElementContainer[data-stale='false'] .stMarkdownBadge");
    const line = badge && badge.parentElement.innerText.match(/epoch\\s+([\\d,.]+)\\s*\\//);
    window.__samples.push({status: line ? line[1] : null, t: performance.now(),
                           shown: !!svg && svg.getBoundingClientRect().height > 100,
                           heat: !!image && (image.getAttribute("href") || "").length > 100,
                           epoch: m ? Number(m[1]) : null});
  }, 50);
}"""
COMPLETED = """() => [...document.querySelectorAll(".stElementContainer[data-stale='false'] .stMarkdownBadge")]
  .some(b => b.textContent.includes("Completed"))"""


def summary(samples: list[dict]) -> dict:
    """One run's figures from the sampler's list (see the module docstring)."""
    first_seen: dict[int, float] = {}
    statuses = {s["status"] for s in samples if s["status"]}
    for s in samples:
        if s["epoch"] and s["heat"]:
            first_seen.setdefault(s["epoch"], s["t"])
    times = sorted(first_seen.values())
    drawn = next((i for i, s in enumerate(samples)  # this run's first frame (a run before it ended at 1000)
                  if s["shown"] and s["heat"] and s["epoch"] is not None and s["epoch"] < 1000), len(samples))
    span = (times[-1] - times[0]) / 1000 if len(times) > 1 else 0.0
    return {"distinct_epochs": len(first_seen), "seconds": round(span, 2),
            "frames_per_second": round((len(times) - 1) / span, 2) if span else 0.0,
            "longest_gap_s": round(max((b - a for a, b in zip(times, times[1:])), default=0) / 1000, 2),
            "status_per_second": round(len(statuses) / span, 2) if span else 0.0,
            "blank_samples": sum(not (s["shown"] and s["heat"]) for s in samples[drawn:]),
            "samples": len(samples)}


def one_run(page, timeout: float, received: list[int]) -> dict:
    received.clear()
    page.evaluate(START_SAMPLING)
    page.locator(TRAIN_BUTTON).first.click()
    page.wait_for_function("() => window.__samples.some(s => s.epoch !== null && s.epoch < 1000)",
                           timeout=timeout * 1000)  # the new run's first frame (the last run's says 1000)
    page.wait_for_function("() => window.__samples.some(s => s.epoch === 1000)", timeout=timeout * 1000)
    page.wait_for_function(COMPLETED, timeout=timeout * 1000)
    page.wait_for_timeout(1000)  # the rerun after the end: the boundary must stay drawn through it
    row = summary(page.evaluate("() => { clearInterval(window.__sampler); return window.__samples; }"))
    row["ws_kb_per_frame"] = round(sum(size for size, _, _ in received) / 1000 / max(row["distinct_epochs"], 1), 1)
    boundary = [size for size, is_boundary, _ in received if is_boundary]
    row["boundary_messages"] = len(boundary)
    row["boundary_kb"] = round(sum(boundary) / 1000 / max(len(boundary), 1), 1)
    row["points_sent"] = sum(whole for _, _, whole in received)
    return row


def message(payload) -> tuple[int, bool, bool]:
    """A websocket message as (bytes, whether it redraws the boundary, whether it carries the points whole)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return len(data), b'"key":"pg_boundary"' in data, b'"static_traces":' in data


def measure(runs: int, timeout: float) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with Server({}) as server, sync_playwright() as playwright:
        server.wait_healthy(timeout)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page, received = browser.new_context(viewport=VIEWPORT).new_page(), []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(message(payload))))
            page.goto(server.url + "/Playground", timeout=timeout * 1000)
            page.locator(TRAIN_BUTTON).first.wait_for(state="visible", timeout=timeout * 1000)
            page.locator(".st-key-pg_boundary .gtitle").first.wait_for(timeout=timeout * 1000)
            results = []
            for _ in range(runs):
                results.append(one_run(page, timeout, received))
                page.wait_for_timeout(500)  # Train again only after the repeated-click guard's 0.3 s
            return results
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else ""
    print(f"load before: {load}")
    results = measure(args.runs, args.timeout)
    columns = ("distinct_epochs", "seconds", "frames_per_second", "status_per_second", "longest_gap_s",
               "blank_samples", "samples", "ws_kb_per_frame", "boundary_messages", "boundary_kb", "points_sent")
    print(f"{'run':<5}" + "".join(f"{c:>18}" for c in columns))
    for i, row in enumerate(results, 1):
        print(f"{i:<5}" + "".join(f"{row[c]:>18}" for c in columns))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": results, "viewport": VIEWPORT, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "loadavg_before": load}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
