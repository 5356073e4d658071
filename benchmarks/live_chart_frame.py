"""Server cost of one live frame of the Playground, before and after issue 15: st.plotly_chart against the
live chart component (playground/ui/live_chart.py), side by side in one run.

    python -m benchmarks.live_chart_frame [--repeats 60] [--threads 1]

A live frame is what each poll of a running spiral run sends: the decision boundary (100x100 grid under
the 3,000 points), the loss curve and the accuracy curve, built from a snapshot of the default spiral at
epoch 500. The ways: st.plotly_chart; the live chart sending the whole figure every frame (as it did
before its static traces were split off, rebuilt here as `whole_payload`); the live chart's first frame
(the data points whole, with their key) and a following frame (the points as their key only), the
latter also with the component's whole script inlined in every element, as before issue 16 (now a tiny
loader imports the script, served as a file). Each way
is drawn inside a real Streamlit script run (AppTest, same process): server CPU per frame (figures built
and turned into Streamlit elements, `time.process_time`, median and p95 in ms) and bytes per frame (the
three elements' protobufs, what goes over the websocket before compression; of which "data KB" is the
figures' payloads, the rest the component's own script or loader, which Streamlit puts in every element).
Printed as a table and written to benchmarks/results/live_chart_frame.json. No target: a comparison.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from benchmarks.draw_latency import timing_args
from benchmarks.poll_cost import inline_component
from playground import plots
from playground.config import TrainConfig
from playground.runner import TrainingRunner

RESULTS = Path(__file__).resolve().parent / "results" / "live_chart_frame.json"
EPOCHS = 500
WAYS = ("st.plotly_chart", "live_chart, whole figure", "live_chart, first frame",
        "live_chart, next frame, script inline", "live_chart, next frame")
_state: dict = {}  # what the script runs read (the snapshot) and write (CPU samples); same process


def shared() -> dict:
    """`_state` of the importable module (under `python -m` this file also runs as __main__, a second copy)."""
    from benchmarks import live_chart_frame

    return live_chart_frame._state


def snapshot():
    """The default spiral's run at epoch EPOCHS, as a page polls it (frame, curves)."""
    run = TrainingRunner(TrainConfig().replace(epochs=EPOCHS, device="cpu")).start()
    run.join(300)
    return run.snapshot(touch=False), run.engine.dataset


def whole_payload(figure, key: str) -> bytes:
    """The live chart's payload before a frame's static traces were split off: the whole figure."""
    from plotly.io.json import to_json_plotly

    from playground.ui import live_chart

    spec = figure.to_plotly_json()
    layout = {**spec.get("layout", {}), "template": live_chart.LOOK, "uirevision": key}
    layout["height"] = layout.get("height") or 450
    return to_json_plotly({"data": spec.get("data", []), "layout": layout, "config": live_chart.CONFIG,
                           "key": key}).encode()


def drawer(way: str):
    """`draw(figure, key)` for `way`; the live chart's first and next frames differ in what the session
    remembers having sent (`live_chart.SENT`), which `prepare(key)` sets before each timed frame."""
    import streamlit as st

    from playground.ui import live_chart

    def whole(figure, key):
        live_chart._component()(key=key, data=whole_payload(figure, key), width="stretch", height="content")

    def inline(figure, key):  # before issue 16: the component's script in every element
        data, _ = live_chart.payload(figure, key, known=st.session_state[live_chart.SENT].get(key))
        inline_component()(key=key, data=data, width="stretch", height="content")

    return {"st.plotly_chart": lambda f, key: st.plotly_chart(f, key=key, width="stretch"),
            "live_chart, whole figure": whole,
            "live_chart, next frame, script inline": inline}.get(way, lambda f, key: live_chart.chart(f, key=key))


def prepare(way: str, keys: list[str], static_key: str | None) -> None:
    """Before a timed frame: the session has sent nothing (a first frame) or these charts' points (a next one)."""
    import streamlit as st

    from playground.ui import live_chart

    sent = st.session_state.setdefault(live_chart.SENT, {})
    for key in keys:
        sent[key] = static_key if way.startswith("live_chart, next frame") else None


def draw_frames(way: str, repeats: int) -> None:
    """Inside a script run: draw `repeats` live frames `way`, noting each one's CPU time."""
    from playground.ui import live_chart

    snap, dataset, samples, draw = _state["snap"], _state["dataset"], [], drawer(way)
    static_key = live_chart.payload(plots.data_figure(dataset, snap.frame), "k")[1]
    for i in range(repeats + 1):  # the first one warms up
        prepare(way, [f"pg_boundary_{i}"], static_key)
        started = time.process_time()
        draw(plots.data_figure(dataset, snap.frame), f"pg_boundary_{i}")
        draw(plots.loss_figure(snap.history, EPOCHS, "Loss (Cross-entropy)"), f"pg_loss_chart_{i}")
        draw(plots.score_figure(snap.history, EPOCHS, dataset.task), f"pg_score_chart_{i}")
        samples.append((time.process_time() - started) * 1000)
    _state[way] = samples[1:]


def _script(way: str, repeats: int) -> None:  # AppTest runs this function's body as the page's script
    from benchmarks import live_chart_frame

    live_chart_frame.draw_frames(way, repeats)


def measure(way: str, repeats: int) -> dict:
    app = AppTest.from_function(_script, args=(way, repeats), default_timeout=600).run()
    assert not app.exception, app.exception
    elements = app.get("plotly_chart") if way == "st.plotly_chart" else app.get("bidi_component")
    sizes = [len(e.proto.SerializeToString()) for e in elements]
    data = [len(e.proto.spec if way == "st.plotly_chart" else e.proto.bytes) for e in elements]
    samples = shared()[way]
    return {"cpu_median_ms": float(np.median(samples)), "cpu_p95_ms": float(np.percentile(samples, 95)),
            "frame_kb": _per_frame_kb(sizes), "data_kb": _per_frame_kb(data),
            "boundary_kb": float(np.median(sizes[0::3])) / 1000}


def _per_frame_kb(sizes: list[int]) -> float:
    """The median over frames of the three charts' sizes together, in KB."""
    return float(np.median([sum(sizes[i:i + 3]) for i in range(0, len(sizes), 3)])) / 1000


def main() -> None:
    args = timing_args(__doc__, 60)
    shared()["snap"], shared()["dataset"] = snapshot()
    print(f"load before: {_loadavg()}")
    rows = {way: measure(way, args.repeats) for way in WAYS}
    print(f"load after: {_loadavg()}")
    print(f"{'one live frame (3 charts)':<40}{'CPU median ms':>14}{'CPU p95 ms':>11}{'KB/frame':>10}"
          f"{'data KB':>9}{'boundary KB':>12}")
    for way, row in rows.items():
        print(f"{way:<40}{row['cpu_median_ms']:>14.2f}{row['cpu_p95_ms']:>11.2f}{row['frame_kb']:>10.1f}"
              f"{row['data_kb']:>9.1f}{row['boundary_kb']:>12.1f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "loadavg": _loadavg(), "repeats": args.repeats, "epoch": EPOCHS,
                                   "torch_threads": args.threads, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "torch": torch.__version__}, indent=2))
    print(f"wrote {RESULTS}")


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else ""


if __name__ == "__main__":
    main()
