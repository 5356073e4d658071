"""Save and load trained models as one `.pt` file: the run's config JSON plus the state_dict.

Loading uses `torch.load(weights_only=True)`, so a file can hold only tensors and plain data and
a pickle that would run code is refused. A file that is not ours, is damaged, or whose weights do
not fit the architecture its config describes raises `CheckpointError` with a readable message.
Knows nothing about training loops or the UI.
"""
from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from .config import ConfigError, TrainConfig
from .datasets import CLASSIFICATION
from .engine import plan_for
from .layers import LayerError
from .losses import LOSSES, class_probabilities
from .model import build_model

FORMAT = "neural-playground-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that cannot be loaded as a Neural Playground model, with the reason."""


@dataclass(frozen=True)
class LoadedModel:
    config: TrainConfig
    model: torch.nn.Sequential  # on the CPU, in eval mode
    class_names: tuple[str, ...]
    metrics: dict

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample input: (features,), or (C, H, W) raw 0-255 pixels for image models."""
        return plan_for(self.config).input_shape

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    @torch.inference_mode()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C) for classification, values (N, 1) for regression.

        Image models take raw pixels (N, C, H, W) on the 0-255 scale; they normalise themselves.
        """
        out = self.model(torch.as_tensor(np.asarray(x, dtype=np.float32)))
        if self.config.dataset.task == CLASSIFICATION:
            out = class_probabilities(LOSSES[self.config.loss].output, out)
        return out.numpy()


def save_checkpoint(target: str | Path | BinaryIO, config: TrainConfig, model: torch.nn.Module,
                    class_names: tuple[str, ...] = (), metrics: dict | None = None) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": FORMAT, "version": VERSION, "config": config.to_json(indent=None),
                "class_names": list(class_names), "metrics": dict(metrics or {}), "state_dict": state}, target)


def checkpoint_bytes(config: TrainConfig, model: torch.nn.Module, class_names=(), metrics=None) -> bytes:
    buffer = io.BytesIO()
    save_checkpoint(buffer, config, model, class_names, metrics)
    return buffer.getvalue()


def load_checkpoint(source: str | Path | BinaryIO | bytes) -> LoadedModel:
    """Load a checkpoint, refusing anything that is not a well-formed Neural Playground model."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    payload = _read(source)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("not a Neural Playground checkpoint (no format marker)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {payload.get('version')!r} is not supported (expected {VERSION})")
    try:
        config = TrainConfig.from_json(payload["config"])
        model = model_for_state(config, payload["state_dict"])
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"checkpoint is incomplete or damaged ({error})") from None
    except (ConfigError, LayerError) as error:
        raise CheckpointError(f"checkpoint config is invalid: {error}") from None
    return LoadedModel(config, model.eval(), tuple(payload.get("class_names", ())), dict(payload.get("metrics", {})))


def _read(source) -> object:
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no such file: {source}") from None
    except pickle.UnpicklingError as error:
        if "Unsupported global" in str(error):  # a class or function reference: possibly code, never run
            raise CheckpointError("refused: the file holds Python objects other than tensors and plain data, "
                                  "which could run code; it was not loaded") from None
        raise CheckpointError("not a loadable checkpoint: the file is damaged or not a PyTorch .pt file") from None
    except Exception:  # torch raises KeyError, EOFError, RuntimeError, ... for damaged or foreign files
        raise CheckpointError("not a loadable checkpoint: the file is damaged or not a PyTorch .pt file") from None


def _first_difference(torch_message: str) -> str:
    """The line of load_state_dict's error that names a weight ("size mismatch for 1.weight: ...")."""
    lines = [line.strip() for line in torch_message.splitlines() if line.strip()]
    detail = next((line for line in lines[1:] if "for " in line or "key" in line.lower()), lines[0] if lines else "")
    return detail[:200]


def model_for_state(config: TrainConfig, state: dict) -> torch.nn.Sequential:
    """The model `config` describes with the weights `state` (CPU, train mode); CheckpointError if they differ."""
    plan = plan_for(config)
    model = build_model(plan)
    if "0.mean" in state:  # normalisation first: image pixel statistics (scalars) or per-feature
        n = () if len(plan.input_shape) == 3 else (plan.input_shape[0],)
        model = build_model(plan, torch.zeros(n), torch.ones(n))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError("weights do not match the architecture in the checkpoint's config: "
                              + _first_difference(str(error))) from None
    return model
