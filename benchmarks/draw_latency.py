"""Draw-to-prediction latency: what the draw page computes after each stroke, timed.

    python -m benchmarks.draw_latency [--repeats 300] [--threads 1]

A 280x280 RGBA drawing (a loop, as the canvas sends it) goes through `drawing.mnist_digit` and
the default MNIST model's `predict`; the "going further" extras (occlusion map, first conv layer's
feature maps) are timed separately. Medians and 95th percentiles in milliseconds, printed and
written to benchmarks/results/draw_latency.json. Not timed: the browser, the websocket, PNG
decoding of the canvas image and Streamlit's rerun, which are the same for every page.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from playground.default_model import default_model
from playground.drawing import mnist_digit
from playground.explain import conv_activations, occlusion_map

RESULTS = Path(__file__).resolve().parent / "results" / "draw_latency.json"


def drawing() -> np.ndarray:
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((85, 55, 195, 225), outline=(255, 255, 255, 255), width=18)
    return np.asarray(image)


def timed(function, repeats: int) -> dict[str, float]:
    function()  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": float(np.median(samples)), "p95_ms": float(np.percentile(samples, 95))}


def timing_args(doc: str, repeats: int) -> argparse.Namespace:
    """--repeats and --threads, shared by the timing benchmarks; sets torch's thread count."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a page's run uses 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args


def main() -> None:
    args = timing_args(__doc__, 300)
    model, image = default_model(), drawing()
    digit = mnist_digit(image)
    best = int(model.predict(digit[None, None])[0].argmax())
    rows = {
        "preprocess (mnist_digit)": timed(lambda: mnist_digit(image), args.repeats),
        "predict (default CNN)": timed(lambda: model.predict(digit[None, None]), args.repeats),
        "draw to prediction (both)": timed(lambda: model.predict(mnist_digit(image)[None, None]), args.repeats),
        "occlusion map (144 patches)": timed(lambda: occlusion_map(model.predict, digit, best), args.repeats),
        "first conv feature maps": timed(lambda: conv_activations(model.model, digit), args.repeats),
    }
    print(f"{'step':<30}{'median ms':>11}{'p95 ms':>9}")
    for name, row in rows.items():
        print(f"{name:<30}{row['median_ms']:>11.2f}{row['p95_ms']:>9.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "repeats": args.repeats, "torch_threads": args.threads,
                                   "cpu_count": os.cpu_count(), "platform": platform.platform(),
                                   "torch": torch.__version__, "predicted": model.class_names[best]}, indent=2))
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
