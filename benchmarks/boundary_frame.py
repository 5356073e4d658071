"""Cost of one live decision-boundary frame: grid evaluation, figure building and serialisation.

    python -m benchmarks.boundary_frame [--repeats 200] [--threads 1]

For the default spiral with the default 2-100-3 ReLU net (trained briefly), a frame is what the
runner computes (`frames.frame_for`: the model on the 100x100 grid, class and confidence as uint8)
plus what the page does with it (`plots.data_figure` with the train and test points, then the
figure's JSON as `st.plotly_chart` makes it, with Streamlit's Plotly template). Medians and 95th
percentiles in ms, and the JSON
size in KB, printed and written to benchmarks/results/boundary_frame.json. Issue 7's target: under
10 ms and 60 KB per frame.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import plotly.io
import streamlit  # noqa: F401  (sets Plotly's default template to Streamlit's, as on the page)
import torch

from benchmarks.draw_latency import timed, timing_args
from playground import plots
from playground.config import TrainConfig
from playground.engine import Engine
from playground.frames import frame_for

RESULTS = Path(__file__).resolve().parent / "results" / "boundary_frame.json"
TARGET_MS, TARGET_KB = 10.0, 60.0


def send(figure) -> str:
    """The figure's JSON as st.plotly_chart makes it (its `spec`)."""
    return plotly.io.to_json(figure, validate=False)


def measure(repeats: int) -> dict:
    engine = Engine(TrainConfig().replace(epochs=50, device="cpu"))
    list(engine.run())
    dataset = engine.dataset
    frame = frame_for(dataset, engine.predict, engine.epoch)
    figure_json = send(plots.data_figure(dataset, frame))
    rows = {
        "grid evaluation (frame_for)": timed(lambda: frame_for(dataset, engine.predict, engine.epoch), repeats),
        "figure + JSON": timed(lambda: send(plots.data_figure(dataset, frame)), repeats),
        "whole frame": timed(lambda: send(plots.data_figure(dataset, frame_for(dataset, engine.predict,
                                                                               engine.epoch))), repeats),
    }
    return {"rows": rows, "frame_kb": len(figure_json) / 1000, "points": int(len(dataset.x_all))}


def main() -> None:
    args = timing_args(__doc__, 200)
    result = measure(args.repeats)
    print(f"{'step':<30}{'median ms':>11}{'p95 ms':>9}")
    for name, row in result["rows"].items():
        print(f"{name:<30}{row['median_ms']:>11.2f}{row['p95_ms']:>9.2f}")
    whole = result["rows"]["whole frame"]["median_ms"]
    print(f"frame JSON: {result['frame_kb']:.1f} KB for {result['points']:,} points "
          f"(targets: < {TARGET_MS:g} ms: {'met' if whole < TARGET_MS else 'MISSED'}, "
          f"< {TARGET_KB:g} KB: {'met' if result['frame_kb'] < TARGET_KB else 'MISSED'})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "repeats": args.repeats, "torch_threads": args.threads,
                                   "targets": {"ms": TARGET_MS, "kb": TARGET_KB}, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "torch": torch.__version__}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
