"""Server CPU of one live poll of the Playground, before and after issue 16 item 4, side by side in one run.

    python -m benchmarks.poll_cost [--repeats 150] [--threads 1]

A poll is what the live fragment reruns while a run trains at the watch pace: `live_view.render_live`, i.e.
the status line, the metrics, the decision boundary, the loss and the accuracy charts of the default spiral
at about epoch 500. Each poll is a real Streamlit script run (AppTest, same process) whose page holds a
stand-in run handing out prepared snapshots; the time is `time.process_time` around `render_live` (figures
built, serialised and turned into Streamlit elements; not AppTest's own machinery), median and p95 in ms,
and the KB of the three charts' elements per poll (their protobufs, before compression).

The ways:
- "before": graph_objects figures built and serialised per poll (`plots.*_figure`, `to_plotly_json`,
  plotly's JSON encoder), the component's script inlined in every element: the path before this change,
  rebuilt by patching the live view (`legacy`);
- "after, new snapshot each poll": plain specs, prepared once per frame / history; every poll sees a new
  snapshot (new frame object, one more epoch), as one viewer of a watched run does;
- "after, a viewer of a shared snapshot": another page polled each snapshot just before (another viewer of the
  same computation, as a class on one lesson is), so the prepared figures are reused.
Printed as a table and written to benchmarks/results/poll_cost.json; target: <= 3 ms per poll (issue 16).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from benchmarks.draw_latency import timing_args
from playground import plots
from playground.config import TrainConfig
from playground.pace import WATCH
from playground.progress import History
from playground.runner import TrainingRunner

RESULTS = Path(__file__).resolve().parent / "results" / "poll_cost.json"
EPOCHS = 500
TARGET_MS = 3.0
WAYS = ("before", "after, new snapshot each poll", "after, a viewer of a shared snapshot")
_state: dict = {}  # what the script runs read (the run) and write (CPU samples); same process


def shared() -> dict:
    """`_state` of the importable module (under `python -m` this file also runs as __main__, a second copy)."""
    from benchmarks import poll_cost

    return poll_cost._state


class StandIn:
    """A running run as the live view sees it, handing out the next prepared snapshot at each poll."""

    def __init__(self, config: TrainConfig, snapshots: list):
        self.config, self.snapshots, self.polls, self.pace, self.active = config, snapshots, 0, WATCH, True

    def snapshot(self, touch: bool = True):
        snap = self.snapshots[self.polls % len(self.snapshots)]
        self.polls += 1
        return snap

    def stop(self) -> None:
        self.active = False


def snapshots(count: int) -> tuple[TrainConfig, list]:
    """`count` snapshots of the default spiral trained to EPOCHS at epochs EPOCHS - count + 1 ... EPOCHS, each
    with its own frame object and history, as a watched run's successive polls find them."""
    config = TrainConfig().replace(epochs=EPOCHS, device="cpu")
    run = TrainingRunner(config).start()
    run.join(300)
    snap = dataclasses.replace(run.snapshot(touch=False), status="running", final=None, message="")
    return config, [_at(snap, EPOCHS - count + 1 + i) for i in range(count)]


def _at(snap, epoch: int):
    h = snap.history
    evaluated = sum(1 for e in h.eval_epochs if e <= epoch)
    history = History(epochs=h.epochs[:epoch], train_loss=h.train_loss[:epoch], eval_epochs=h.eval_epochs[:evaluated],
                      train_score=h.train_score[:evaluated], test_loss=h.test_loss[:evaluated],
                      test_score=h.test_score[:evaluated])
    return dataclasses.replace(snap, epoch=epoch, history=history, frame=dataclasses.replace(snap.frame, epoch=epoch))


@contextlib.contextmanager
def legacy():
    """The live view as it was: graph_objects figures per poll, plotly's encoder, the script in every element."""
    from plotly.io.json import to_json_plotly

    from playground import chart_payload
    from playground.ui import live_chart, live_view

    inline = inline_component()
    patches = {(live_view, "data_chart"): plots.data_figure, (live_view, "loss_chart"): plots.loss_figure,
               (live_view, "score_chart"): plots.score_figure, (chart_payload, "dumps"): to_json_plotly,
               (live_chart, "_component"): lambda: inline}
    saved = {target: getattr(*target) for target in patches}
    for (module, name), value in patches.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def inline_component():
    """The live chart as it was mounted before: its whole script inlined in every element."""
    import streamlit as st

    from playground.ui import live_chart

    plotly = 'const PLOTLY = "component/plotly_js/plotly.min.js"; let plotlyUrl = null;'
    js = (live_chart.JS_FILE.read_text().replace("let plotlyUrl = null;", plotly)
          .replace("(component, plotly) {", "(component, plotly = PLOTLY) {"))
    return st.components.v2.component("pg_live_chart_inline", js=js, isolate_styles=False)


def poll() -> None:
    """Inside a script run: one poll of the live view, its CPU time noted."""

    from playground.ui import live_view

    state = shared()
    started = time.process_time()
    live_view.render_live(None)
    if state["record"]:
        state["samples"].append((time.process_time() - started) * 1000)


def _script() -> None:  # AppTest runs this function's body as the page's script
    from benchmarks import poll_cost

    poll_cost.poll()


def measure(way: str, config: TrainConfig, snaps: list, repeats: int) -> dict:
    state = shared()
    state["samples"], state["record"] = [], True
    app, warm = _app(StandIn(config, snaps)), None
    if way.startswith("after, a viewer"):  # another viewer polls each snapshot just before this one does
        warm = _app(StandIn(config, snaps))
    sizes = []
    with legacy() if way == "before" else contextlib.nullcontext():
        for _ in range(repeats + 1):  # the first poll sends the points whole and warms up
            if warm is not None:
                state["record"] = False
                warm.run()
                state["record"] = True
            app.run()
            assert not app.exception, app.exception
            sizes.append(sum(len(e.proto.SerializeToString()) for e in app.get("bidi_component")))
    samples = state["samples"][-repeats:]
    return {"cpu_median_ms": float(np.median(samples)), "cpu_p95_ms": float(np.percentile(samples, 95)),
            "kb_per_poll": float(np.median(sizes[1:])) / 1000, "polls": repeats}


def _app(run: StandIn) -> AppTest:
    """A page (an AppTest session) whose live view polls `run`."""
    state = shared()
    state["run"] = run
    app = AppTest.from_function(_script, default_timeout=600)
    app.session_state["pg_run"] = run
    return app


def main() -> None:
    args = timing_args(__doc__, 150)
    config, snaps = snapshots(args.repeats + 1)
    print(f"load before: {_loadavg()}")
    rows = {way: measure(way, config, snaps, args.repeats) for way in WAYS}
    print(f"load after: {_loadavg()}")
    print(f"{'one live poll (default spiral, epoch ~500)':<44}{'CPU median ms':>14}{'CPU p95 ms':>11}{'KB/poll':>9}")
    for way, row in rows.items():
        print(f"{way:<44}{row['cpu_median_ms']:>14.2f}{row['cpu_p95_ms']:>11.2f}{row['kb_per_poll']:>9.1f}")
    print(f"target: <= {TARGET_MS} ms per poll")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "target_ms": TARGET_MS, "loadavg": _loadavg(), "epoch": EPOCHS,
                                   "torch_threads": args.threads, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "torch": torch.__version__}, indent=2))
    print(f"wrote {RESULTS}")


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else ""


if __name__ == "__main__":
    main()
