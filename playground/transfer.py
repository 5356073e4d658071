"""Transfer learning: where a run's starting weights come from, which layers keep them, what is frozen.

`"start_from"` names a saved model: "upload:<hash>" (a `.pt` uploaded to the server) or "run:<hash>"
(a finished run's weights), both kept in the server's store of starting models under the first 16
hex digits of the file's SHA-256, so an id names exact weights (the pool computes two runs with equal
configs once: two different files can never share an id); "torchvision:resnet18" (ImageNet weights
for the stack's ResNet-18 layers, see `pretrained`); "default:mnist" (the Draw page's MNIST model, the
same file for every run of a server, trained first by the run that needs it when this machine has none
yet: `default_model.prepare_start`); or, only where the config was read with
`allow_paths` (the command line), a `.pt` file's path. Files are read as `checkpoint` reads them
(bounded, `weights_only`). Layer i keeps the starting model's layer i when their weights have the
same shapes (`transfer_weights.start_weights`); the head, the last Linear, gets fresh weights when the
starting model was trained on another dataset or number of classes. `"freeze": N` stops the first N
layers learning. Checking an id needs no torch; loading one does. Knows nothing about the UI.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import data_root

if TYPE_CHECKING:
    from .config import TrainConfig
    from .model import ModelPlan

from .start_ids import DEFAULT_MNIST, ID_HELP, PRETRAINED, STORE_ID, check_start_from  # noqa: F401 (re-exported)


class TransferError(ValueError):
    """A start that cannot be used, with the reason in plain words."""


@dataclass(frozen=True)
class Start:
    name: str  # how to call it: 'the uploaded model "mnist.pt"'
    config: TrainConfig | None  # what it was trained as (None for a torchvision model)
    state: dict  # its state_dict, on the CPU; read-only


@dataclass(frozen=True)
class Report:
    """What a start did to a model: the layers (0-based) that kept the starting weights or got new ones."""

    name: str
    kept: tuple[int, ...]
    new: tuple[int, ...]
    head: int | None  # the head replaced because the classes differ

    def text(self, plan: ModelPlan) -> str:
        def listed(indexes):
            return ", ".join(f"{i + 1} ({plan.rows[i].title})" for i in indexes) or "none"
        fresh = f"; new weights for layers {listed(self.new)}" if self.new else ""
        why = f" (layer {self.head + 1} is a new head: the starting model learned other classes)" \
            if self.head is not None else ""
        return f"Starts from {self.name}: kept the weights of layers {listed(self.kept)}{fresh}{why}."


def trainable_parameters(plan: ModelPlan, freeze: int) -> int:
    """Parameters that learn when the first `freeze` layers are frozen."""
    return sum(row.parameters for row in plan.rows if row.index >= freeze)


def start_model(model, plan: ModelPlan, config: TrainConfig) -> Report:
    """Put `config.start_from`'s weights into the freshly built `model` where they fit; TransferError if
    the start cannot be read."""
    from .transfer_weights import start_weights

    start = load_start(config.start_from, config.start_path_allowed)
    head = head_index(plan, config, start)
    kept, new = start_weights(model, starting_state(start, plan), len(plan.layers), head)
    return Report(start.name, tuple(kept), tuple(new), head)


def preview(config: TrainConfig, plan: ModelPlan) -> Report:
    """What `start_model` would keep for `config`, without downloading or training anything: a built-in
    start (the MNIST model, a torchvision model) is judged by its shapes. TransferError as `start_model`."""
    return _preview(config.to_json(indent=None), config.start_path_allowed)


@functools.lru_cache(maxsize=32)
def _preview(config_json: str, allow_path: bool) -> Report:
    from .config import TrainConfig
    from .model import build_model, plan_for

    config = TrainConfig.from_json(config_json, allow_paths=allow_path)
    plan = plan_for(config)
    start = _shapes_only(config.start_from) or load_start(config.start_from, allow_path)
    model = build_model(plan, *_normalization(config, plan))
    kept, new = _start_weights()(model, starting_state(start, plan), len(plan.layers), head_index(plan, config, start))
    return Report(start.name, tuple(kept), tuple(new), head_index(plan, config, start))


def _shapes_only(start_from: str) -> Start | None:
    """A built-in start with its weights' shapes but not its values (untrained), or None for a file."""
    if start_from == DEFAULT_MNIST:
        from .default_start import DEFAULT_CONFIG
        from .model import build_model, plan_for

        plan = plan_for(DEFAULT_CONFIG)
        state = build_model(plan, *_normalization(DEFAULT_CONFIG, plan)).state_dict()
        return Start("the Draw page's MNIST model", DEFAULT_CONFIG, state)
    if start_from.startswith(PRETRAINED):
        from . import pretrained

        return Start(pretrained.pretrained_name(start_from), None, pretrained.resnet18_features().state_dict())
    return None


def _normalization(config: TrainConfig, plan: ModelPlan) -> tuple:
    """Stand-in normalisation statistics, where the engine's model has a normalisation, for a model built
    only to compare shapes (its layers' positions depend on it)."""
    import torch

    from .datasets import DATASETS

    spec = DATASETS[config.dataset.name]
    if not (spec.is_image or spec.standardize):
        return ()
    n = () if len(plan.input_shape) == 3 else (plan.input_shape[0],)
    return torch.zeros(n), torch.ones(n)


def _start_weights():
    from .transfer_weights import start_weights

    return start_weights


def head_index(plan: ModelPlan, config: TrainConfig, start: Start) -> int | None:
    """The last Linear's index when the starting model learned other classes (another dataset or count)."""
    linear = [i for i, spec in enumerate(plan.layers) if spec["type"] == "linear"]
    source = start.config
    same = source is not None and source.dataset.name == config.dataset.name \
        and source.dataset.n_classes == config.dataset.n_classes
    return None if same or not linear else linear[-1]


def starting_state(start: Start, plan: ModelPlan) -> dict:
    """The start's state_dict laid out as a stack's: a torchvision model's weights go to each of its layers."""
    if start.config is not None:
        return start.state
    from .pretrained import layer_state

    return layer_state(start.state, plan.layers)


def load_start(start_from: str, allow_path: bool = False) -> Start:
    """The saved model `start_from` names; TransferError saying why it cannot be used."""
    if start_from.startswith(PRETRAINED):
        from .pretrained import DownloadError, pretrained_name, pretrained_state

        try:
            return Start(pretrained_name(start_from), None, pretrained_state(start_from))
        except DownloadError as error:
            raise TransferError(str(error)) from None
    if start_from == DEFAULT_MNIST:
        return _default_start()
    if STORE_ID.fullmatch(start_from):
        return _stored_start(start_from)
    if not allow_path:
        raise TransferError(f"{start_from[:80]!r} is not a saved model's id: use {ID_HELP}")
    return _loaded(Path(start_from).expanduser(), f'the model file "{Path(start_from).name}"')


@functools.lru_cache(maxsize=1)
def _default_start() -> Start:
    """The Draw page's default MNIST model, read from its file (`default_model` trains it, not this: a run's
    runner, a race and the CLI call `default_model.prepare_start` before they build the engine)."""
    from . import default_start

    path = default_start.saved_default_model(default_start.DEFAULT_CONFIG)
    if path is None:
        raise TransferError("the Draw page's MNIST model is not trained yet on this machine: a run started from "
                            "the Playground, a lesson or the command line trains it first (about a minute)")
    return _loaded(path, "the Draw page's MNIST model")


@functools.lru_cache(maxsize=4)
def _stored_start(start_id: str) -> Start:
    """A stored start, read once per process: its id is its content, so it never changes."""
    kind, digest = STORE_ID.fullmatch(start_id).groups()
    path = starts_dir() / f"{digest}.pt"
    if not path.is_file():
        raise TransferError(f"the saved model {start_id} is no longer on the server (models nobody used for a "
                            "while are removed to make room): upload it again or train the run again")
    data = _bounded_bytes(path)
    if hashlib.sha256(data).hexdigest()[:16] != digest:
        raise TransferError(f"the saved model {start_id} was changed on the server: upload it again")
    return _loaded(data, _stored_name(digest, kind))


def _bounded_bytes(path: Path) -> bytes:
    from .checkpoint import MAX_ARCHIVE_BYTES, MIB

    size = path.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise TransferError(f"refused: the model file holds {size / MIB:,.0f} MB, more than the largest allowed "
                            f"model needs ({MAX_ARCHIVE_BYTES / MIB:,.0f} MB)")
    return path.read_bytes()


def _loaded(source: Path | bytes, name: str) -> Start:
    from .checkpoint import CheckpointError, load_checkpoint

    try:
        if isinstance(source, Path):
            source = _bounded_bytes(source) if source.is_file() else source
        loaded = load_checkpoint(source, needs_table=False)
    except CheckpointError as error:
        raise TransferError(f"{name} cannot be a start: {error}") from None
    except OSError as error:
        raise TransferError(f"{name} cannot be read: {error.strerror or error}") from None
    return Start(name, loaded.config, loaded.model.state_dict())


def start_bytes(start_from: str) -> bytes | None:
    """The file of a start the server keeps (stored, or the default model once trained), for download next to
    an exported script; None for other starts or a file that is gone."""
    from .default_start import saved_default_model

    found = STORE_ID.fullmatch(start_from)
    path = starts_dir() / f"{found.group(2)}.pt" if found else \
        saved_default_model() if start_from == DEFAULT_MNIST else None
    try:
        return _bounded_bytes(path) if path is not None and path.is_file() else None
    except (OSError, TransferError):
        return None


# --- the server's store of starting models ---------------------------------------------------------


def starts_dir() -> Path:
    return data_root() / "starts"


def save_start(data: bytes, kind: str, name: str) -> str:
    """Check `data` (a checkpoint's bytes) and store it; returns its id "<kind>:<hash>" (kind: upload or
    run). Uses the uploaded tables' storage limits; TransferError when the file is not a model or there
    is no room."""
    from . import diskquota
    from .tabular import storage_limits

    if kind not in ("upload", "run"):
        raise ValueError(f"kind must be upload or run, not {kind!r}")
    _loaded(data, f'"{Path(name).name[:200]}"')
    digest = hashlib.sha256(data).hexdigest()[:16]
    try:
        diskquota.store_once(starts_dir(), digest, ".pt", data, Path(name).name[:200] or "model.pt", storage_limits())
    except diskquota.NoRoom as error:
        raise TransferError(error.message) from None
    except OSError as error:
        raise TransferError(f"the server could not store the model: {error.strerror or error}") from None
    return f"{kind}:{digest}"


def _stored_name(digest: str, kind: str) -> str:
    try:
        name = str(json.loads((starts_dir() / f"{digest}.json").read_text("utf-8"))["name"])
    except (OSError, ValueError, TypeError, KeyError):
        name = f"{digest}.pt"
    return f'the finished run "{name}"' if kind == "run" else f'the uploaded model "{name}"'
