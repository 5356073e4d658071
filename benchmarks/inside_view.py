"""What the Playground's "see inside" view and link/export panels cost per refresh, timed and sized.

    python -m benchmarks.inside_view [--repeats 200] [--threads 1]

For MLPs on the spiral (2-16-3, the default 2-100-3 and 2-100-100-3) it times rebuilding the
model from the run's weight snapshot, the network diagram and the neuron maps (figures built and
serialised as Streamlit sends them) and reports each figure's JSON size, which the page re-sends
every 2 s while training. It also times the share link and the exported script (first build and
cached). Medians and 95th percentiles in ms, printed and written to
benchmarks/results/inside_view.json.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

from benchmarks.draw_latency import timed, timing_args
from playground import export, network, share
from playground.checkpoint import model_for_state
from playground.config import TrainConfig
from playground.engine import Engine
from playground.frames import axis_ranges

RESULTS = Path(__file__).resolve().parent / "results" / "inside_view.json"
MODELS = {"2-16-3": [16], "2-100-3 (default)": [100], "2-100-100-3": [100, 100]}


def config_for(hidden: list[int]) -> TrainConfig:
    layers = [layer for width in hidden for layer in ({"type": "linear", "out": width}, {"type": "relu"})]
    return TrainConfig.from_dict({"layers": [*layers, {"type": "linear"}], "epochs": 20, "device": "cpu"})


def measure(config: TrainConfig, repeats: int) -> dict:
    engine = Engine(config)
    list(engine.run())
    weights = {k: v.detach().clone() for k, v in engine.model.state_dict().items()}
    model = model_for_state(config, weights)
    ranges, names = axis_ranges(engine.dataset), engine.dataset.feature_names
    outputs = engine.dataset.class_names
    diagram_json = network.network_figure(network.diagram(model), names, outputs).to_json()
    neurons_json = network.neuron_figure(network.neuron_maps(model, ranges)).to_json()
    return {
        "rebuild model from snapshot": timed(lambda: model_for_state(config, weights), repeats),
        "network diagram + JSON": timed(
            lambda: network.network_figure(network.diagram(model), names, outputs).to_json(), repeats),
        "neuron maps + JSON": timed(
            lambda: network.neuron_figure(network.neuron_maps(model, ranges)).to_json(), repeats),
        "diagram_kb": len(diagram_json) / 1000, "neurons_kb": len(neurons_json) / 1000,
    }


def panels(repeats: int) -> dict:
    config = TrainConfig()
    fresh = [config.replace(seed=seed) for seed in range(repeats + 1)]  # new configs miss the cache
    return {"share link": timed(lambda: share.link("http://localhost:8501/Playground", config), repeats),
            "export script (first time)": timed(lambda: export.export_script(fresh.pop()), repeats),
            "export script (cached)": timed(lambda: export.export_script(config), repeats)}


def main() -> None:
    args = timing_args(__doc__, 200)
    results = {name: measure(config_for(hidden), args.repeats) for name, hidden in MODELS.items()}
    steps = [key for key in next(iter(results.values())) if not key.endswith("_kb")]
    print(f"{'model':<20}" + "".join(f"{step[:24]:>26}" for step in steps) + f"{'diagram KB':>12}{'neurons KB':>12}")
    for name, row in results.items():
        print(f"{name:<20}" + "".join(f"{row[s]['median_ms']:>17.2f} ms (p95 {row[s]['p95_ms']:.1f})"[-26:]
                                      for s in steps) + f"{row['diagram_kb']:>12.1f}{row['neurons_kb']:>12.1f}")
    panel = panels(args.repeats)
    for name, row in panel.items():
        print(f"{name:<30}{row['median_ms']:>9.3f} ms  (p95 {row['p95_ms']:.3f})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"models": results, "panels": panel, "repeats": args.repeats,
                                   "torch_threads": args.threads, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform(), "torch": torch.__version__}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
