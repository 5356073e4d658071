"""Draw the home page's picture (docs/home.png): `python -m docs.home_picture` from the repository root.

Trains the default spiral with the ReLU net on the engine the Playground runs and draws its decision
boundary at three epochs side by side, so the picture shows a boundary forming. Needs torch and
matplotlib (to write the file, never at page load: the home page only shows the PNG). Deterministic:
the config's seeds fix the data and the weights. Knows nothing about Streamlit.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground.config import TrainConfig  # noqa: E402
from playground.engine import Engine, EpochEnd  # noqa: E402
from playground.frames import CONFIDENCE_LEVELS, BoundaryFrame, boundary_frame  # noqa: E402
from playground.plots import PALETTE  # noqa: E402
from playground.presets import RELU_NET  # noqa: E402

PICTURE = ROOT / "docs" / "home.png"
EPOCHS = (20, 150, 1000)  # the three moments shown, left to right
POINTS = 450  # training points drawn per panel (a sample: thousands would hide the shading)


def frames() -> tuple[Engine, list[BoundaryFrame]]:
    """The spiral's engine after training, and its boundary at each of EPOCHS."""
    engine = Engine(TrainConfig.from_dict({"layers": RELU_NET.stack(), "epochs": EPOCHS[-1]}))
    shots = []
    for event in engine.run():
        if isinstance(event, EpochEnd) and event.epoch in EPOCHS:
            shots.append(boundary_frame(engine.dataset, engine.predict, event.epoch))
    return engine, shots


def shading(frame: BoundaryFrame) -> np.ndarray:
    """(G, G, 3) RGB in [0, 1]: each cell its class colour, paler where the model is less sure."""
    colours = np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in PALETTE])
    alpha = (0.25 + 0.5 * frame.confidence / (CONFIDENCE_LEVELS - 1))[..., None]
    return 1.0 - alpha * (1.0 - colours[frame.classes % len(PALETTE)])


def draw(engine: Engine, shots: list[BoundaryFrame], path: Path = PICTURE) -> None:
    x, y = engine.dataset.x_train, engine.dataset.y_train
    pick = np.random.default_rng(0).choice(len(y), size=min(POINTS, len(y)), replace=False)
    figure, axes = plt.subplots(1, len(shots), figsize=(9, 3.2), dpi=100)
    for ax, frame in zip(axes, shots):
        extent = (frame.xs[0], frame.xs[-1], frame.ys[0], frame.ys[-1])
        ax.imshow(shading(frame), origin="lower", extent=extent, interpolation="bilinear")
        ax.scatter(x[pick, 0], x[pick, 1], c=[PALETTE[c] for c in y[pick]], s=9, linewidths=0.4, edgecolors="white")
        ax.set_title(f"epoch {frame.epoch}", fontsize=20, color="#31333f")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlim(extent[:2]), ax.set_ylim(extent[2:])
    figure.tight_layout(pad=0.4)
    figure.savefig(path, bbox_inches="tight", pad_inches=0.05)
    plt.close(figure)


def main() -> int:
    engine, shots = frames()
    draw(engine, shots)
    print(f"home_picture: wrote {PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
