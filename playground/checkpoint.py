"""Save and load trained models as one `.pt` file: the run's config JSON plus the state_dict.

Loading first reads the zip archive's directory (`torch.save` writes a zip of uncompressed
entries): a compressed entry, a legacy or foreign format, or more bytes than the largest allowed
model needs are refused before anything is unpacked, so a small file cannot expand into gigabytes.
Then `torch.load(weights_only=True)` reads it, so a file can hold only tensors and plain data and a
pickle that would run code is refused. A file that is not ours, is damaged, whose metadata (class
names, metrics) has the wrong types or sizes, or whose weights do not fit the architecture its
config describes raises `CheckpointError` with a readable message naming the field.
With `needs_table=False` a csv-trained model loads without its table (enough to predict): the
class count comes from the checkpoint. By default the table must still be readable, as training
the loaded model further (the Playground) needs it.
Knows nothing about training loops or the UI.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from .checks import clip
from .config import ConfigError, TrainConfig
from .layers import MAX_FEATURES, MAX_LAYERS, LayerError
from .losses import LOSSES, class_probabilities
from .model import MAX_PARAMETERS, build_model, plan_for
from .tasks import CLASSIFICATION

FORMAT = "neural-playground-checkpoint"
VERSION = 1
MIB = 2**20
# What the largest allowed model needs: float32 weights plus as many again for buffers (batch norm
# statistics, normalisation) and the records around them; the metadata pickle is small.
MAX_ARCHIVE_BYTES = 2 * 4 * MAX_PARAMETERS + 8 * MIB
MAX_PICKLE_BYTES = 4 * MIB
MAX_ENTRIES = 32 * MAX_LAYERS + 64  # a few tensors per layer and torch's own records
MAX_DIRECTORY_BYTES = 1024 * MAX_ENTRIES  # the zip's list of entries: names, sizes, alignment padding
MAX_NAME_CHARS = 1000  # one class name
MAX_METRICS = 64
TEXT_METRICS = frozenset({"source"})  # metrics that are words: where the default model's images came from
DAMAGED = "not a loadable checkpoint: the file is damaged or not a PyTorch .pt file"
PICKLED = ("refused: the file is a bare Python pickle (or an old-format PyTorch file), which could run code; "
           "it was not loaded")


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
    if config.start_path_allowed:  # the weights are in the file; a path on this machine means nothing elsewhere
        config = config.replace(start_from=None, start_path_allowed=False)
    torch.save({"format": FORMAT, "version": VERSION, "config": config.to_json(indent=None),
                "classes": config.dataset.n_classes, "class_names": list(class_names), "metrics": dict(metrics or {}),
                "state_dict": state}, target)


def checkpoint_bytes(config: TrainConfig, model: torch.nn.Module, class_names=(), metrics=None) -> bytes:
    buffer = io.BytesIO()
    save_checkpoint(buffer, config, model, class_names, metrics)
    return buffer.getvalue()


def load_checkpoint(source: str | Path | BinaryIO | bytes, needs_table: bool = True) -> LoadedModel:
    """Load a checkpoint, refusing anything that is not a well-formed Neural Playground model.

    `needs_table=False`: a csv-trained model's table is not read (it may be gone); such a model can
    predict but not be trained further.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if isinstance(source, (str, Path)):
        try:
            with open(source, "rb") as handle:
                return _load(handle, needs_table)
        except FileNotFoundError:
            raise CheckpointError(f"no such file: {source}") from None
        except OSError as error:
            raise CheckpointError(f"not a loadable checkpoint: cannot read {source} ({error.strerror})") from None
    return _load(source, needs_table)


def _load(handle: BinaryIO, needs_table: bool) -> LoadedModel:
    check_archive(handle)
    handle.seek(0)
    payload = _read(handle)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("not a Neural Playground checkpoint (no format marker)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {payload.get('version')!r} is not supported (expected {VERSION})")
    class_names = _class_names(payload.get("class_names", []))
    metrics = _metrics(payload.get("metrics", {}))
    try:
        if not isinstance(payload["config"], str) or not isinstance(payload["state_dict"], dict):
            raise TypeError("config or state_dict has the wrong type")
        stored = None if needs_table else _stored_classes(payload, class_names)
        config = TrainConfig.from_json(payload["config"], table_classes=stored)
        class_names = _checked_class_names(config, class_names)
        model = model_for_state(config, payload["state_dict"])
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"checkpoint is incomplete or damaged ({error})") from None
    except (ConfigError, LayerError) as error:
        raise CheckpointError(f"checkpoint config is invalid: {error}") from None
    return LoadedModel(config, model.eval(), class_names, metrics)


def _stored_classes(payload: dict, class_names: tuple[str, ...]) -> int | None:
    """The class count the checkpoint recorded (older files: its class names), so a csv table need not be read."""
    classes = payload.get("classes")
    if isinstance(classes, int) and not isinstance(classes, bool) and 0 <= classes <= MAX_FEATURES:
        return classes
    return len(class_names) or None


def check_archive(handle: BinaryIO) -> None:
    """Refuse, from the zip directory alone, what `torch.load` must not unpack.

    `torch.save` stores every entry uncompressed, so a compressed entry means a re-packed file (a
    zip bomb expands a few MB into GBs); the entries together may hold no more than the largest
    allowed model needs. A legacy (pre-zip) or foreign format is refused as not a checkpoint.
    """
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    end = zipfile._EndRecData(handle)  # the end record alone: the entry count before the directory is read
    if end is None or not zipfile.is_zipfile(handle):
        handle.seek(0)
        raise CheckpointError(PICKLED if handle.read(1) == pickle.PROTO else DAMAGED)
    count, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if count > MAX_ENTRIES or directory > MAX_DIRECTORY_BYTES:  # both read before the directory is
        raise CheckpointError(f"refused: the archive lists {count:,} entries in {directory:,} bytes; "
                              f"a model has at most {MAX_ENTRIES:,} entries")
    try:
        entries = zipfile.ZipFile(handle).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise CheckpointError(DAMAGED) from None
    for entry in entries:
        _check_entry(entry, size)
    total = sum(entry.file_size for entry in entries)
    if total > MAX_ARCHIVE_BYTES:
        raise CheckpointError(f"refused: the file would unpack to {total / MIB:,.0f} MB, more than the largest "
                              f"allowed model needs ({MAX_ARCHIVE_BYTES / MIB:,.0f} MB)")


def _check_entry(entry: zipfile.ZipInfo, archive_size: int) -> None:
    """One archive entry: stored (not compressed), inside the file, a metadata pickle of modest size."""
    name = clip(entry.filename)
    if entry.compress_type != zipfile.ZIP_STORED:
        raise CheckpointError(f"refused: the entry {name!r} is compressed; PyTorch writes models uncompressed, "
                              "so this file was re-packed (it may expand into far more memory than its size)")
    if entry.compress_size != entry.file_size or entry.header_offset + entry.file_size > archive_size:
        raise CheckpointError(f"not a loadable checkpoint: the entry {name!r} is damaged")
    if entry.filename.endswith(".pkl") and entry.file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(f"refused: the entry {name!r} holds {entry.file_size / MIB:,.0f} MB of metadata; "
                              f"a model's is under {MAX_PICKLE_BYTES // MIB} MB")


def _class_names(names: object) -> tuple[str, ...]:
    """The checkpoint's class names: a list of at most MAX_FEATURES strings of at most MAX_NAME_CHARS."""
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        raise CheckpointError("checkpoint field class_names must be a list of text labels")
    if len(names) > MAX_FEATURES or any(len(name) > MAX_NAME_CHARS for name in names):
        raise CheckpointError(f"checkpoint field class_names is too long: at most {MAX_FEATURES:,} names "
                              f"of at most {MAX_NAME_CHARS:,} characters")
    return tuple(names)


def _metrics(metrics: object) -> dict[str, float | int | str | None]:
    """The checkpoint's metrics: a small dict of names to numbers (or None, for not measured); only the
    TEXT_METRICS may hold a short text."""
    if not isinstance(metrics, dict) or len(metrics) > MAX_METRICS:
        raise CheckpointError(f"checkpoint field metrics must be a table of at most {MAX_METRICS} numbers")
    for key, value in metrics.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        text = key in TEXT_METRICS and isinstance(value, str) and len(value) <= MAX_NAME_CHARS
        if not isinstance(key, str) or len(key) > 100 or not (value is None or number or text):
            raise CheckpointError(f"checkpoint field metrics: {clip(str(key))!r} must name a number, "
                                  f"got {type(value).__name__}")
    return dict(metrics)


def _checked_class_names(config: TrainConfig, class_names: tuple[str, ...]) -> tuple[str, ...]:
    """A classifier's name for each class ("class 0", ... when the file has none); none for regression."""
    expected = config.dataset.n_classes if config.dataset.task == CLASSIFICATION else 0
    if not class_names:
        return tuple(f"class {i}" for i in range(expected))
    if len(class_names) != expected:
        raise CheckpointError(f"checkpoint field class_names has {len(class_names)} names but the model "
                              f"has {expected} classes")
    return class_names


def _read(source: BinaryIO) -> object:
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" in str(error):  # a class or function reference: possibly code, never run
            raise CheckpointError("refused: the file holds Python objects other than tensors and plain data, "
                                  "which could run code; it was not loaded") from None
        raise CheckpointError(DAMAGED) from None
    except Exception:  # noqa: BLE001 - torch raises KeyError, EOFError, RuntimeError, ... for damaged or foreign files
        raise CheckpointError(DAMAGED) from None


def _first_difference(torch_message: str) -> str:
    """The line of load_state_dict's error that names a weight ("size mismatch for 1.weight: ...")."""
    lines = [line.strip() for line in torch_message.splitlines() if line.strip()]
    detail = next((line for line in lines[1:] if "for " in line or "key" in line.lower()), lines[0] if lines else "")
    return detail[:200]


def model_for_state(config: TrainConfig, state: dict) -> torch.nn.Sequential:
    """The model `config` describes with the weights `state` (CPU, train mode); CheckpointError if they differ."""
    plan = plan_for(config)
    model = build_model(plan)
    if "0.mean" in state:  # normalisation first: image pixel statistics (scalars; per channel for colour) or
        n = () if plan.input_shape[:1] == (1,) else (plan.input_shape[0],)  # per-feature
        model = build_model(plan, torch.zeros(n), torch.ones(n))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError("weights do not match the architecture in the checkpoint's config: "
                              + _first_difference(str(error))) from None
    return model


def weights_fit(trained: TrainConfig, config: TrainConfig) -> bool:
    """Whether weights trained under `trained` can go on training as `config`: the same dataset, the same
    planned layers (sizes included) and the same loss. Both configs must plan (LayerError otherwise)."""
    return trained.dataset.name == config.dataset.name and plan_for(trained).layers == plan_for(config).layers \
        and trained.loss == config.loss
