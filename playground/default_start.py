"""Where the Draw page's default MNIST model is saved, known below the engine: its config and its file.

`default_model` trains the model (with the engine) and saves it at `model_path`; a run that starts from
it ("start_from": "default:mnist", see `transfer`) reads that file through `saved_default_model`,
which trains nothing. The file name carries a hash of the config and the data source, so a machine
that later gets the full MNIST has a new file. Knows nothing about training.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .config import TrainConfig
from .datasets import make_dataset
from .presets import ONE_CONV_CNN
from .settings import data_root

DEFAULT_CONFIG = TrainConfig.from_dict({  # the one-conv CNN with its cross-entropy and Adam 1e-3
    "dataset": {"name": "mnist"}, "layers": ONE_CONV_CNN.stack(), **ONE_CONV_CNN.training,
    "epochs": 8, "batch_size": 64, "seed": 0, "device": "cpu",
})


def model_path(config: TrainConfig, source: str) -> Path:
    digest = hashlib.sha256((config.to_json(indent=None) + source).encode()).hexdigest()[:12]
    return data_root() / "models" / f"default-mnist-{digest}.pt"


def saved_default_model(config: TrainConfig = DEFAULT_CONFIG) -> Path | None:
    """The saved default model's file for the MNIST this machine reads, or None before it is trained."""
    d = config.dataset
    path = model_path(config, make_dataset(d.name, d.values, d.test_fraction, d.seed, d.table, d.classroom).source)
    return path if path.is_file() else None
