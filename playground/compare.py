"""What differs between saved runs: flat config keys, readable layer stacks, table rows and curves.

Pure functions over config dicts (as `TrainConfig.to_dict` writes them) and `RunRecord`s. A
config is read as saved, never re-validated, so a run saved by an older version still compares.
This module knows nothing about SQLite, Streamlit or plotting; it only shapes data for a page.
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping, Sequence

from .datasets import DATASETS
from .layers import LAYERS
from .optim import OPTIMIZERS
from .runstore import CURVES_BY_AXIS, RunRecord

# Top-level config sections in the order a comparison table lists them; others come after.
ORDER = ("dataset", "layers", "loss", "optimizer", "schedule", "epochs", "batch_size", "seed", "device")
# The x axis each curve is plotted against, e.g. "test_loss" -> "eval_epochs".
X_AXIS = {y_name: x_name for x_name, y_names in CURVES_BY_AXIS.items() for y_name in y_names}
_SHORT = {"stride": "s", "padding": "p"}  # parameters shown only when not default, e.g. " s2"


def flatten(config: Mapping) -> dict[str, object]:
    """Dotted keys ("optimizer.lr"); the layer list becomes one string (see describe_layers)."""
    flat: dict[str, object] = {}
    for key, value in config.items():
        if key == "layers" and isinstance(value, (list, tuple)):
            flat[key] = describe_layers(value)
        elif isinstance(value, Mapping):
            flat.update({f"{key}.{inner}": item for inner, item in flatten(value).items()})
        else:
            flat[key] = value
    return flat


def describe_layers(layers: Sequence[Mapping]) -> str:
    """A compact stack, e.g. "Conv2d 32 3x3 p1 · ReLU · Flatten · Dropout 0.5 · Linear"."""
    return " · ".join(describe_layer(spec) for spec in layers)


def describe_layer(spec: Mapping) -> str:
    """One layer: its title, then its size; kernel as "3x3"; stride and padding only when not default."""
    kind = LAYERS.get(spec.get("type"))
    if kind is None:
        return str(spec.get("type", "?"))
    parts = [kind.title]
    for param in kind.params:
        value = spec.get(param.name, param.default)
        if value is None or param.name == "in":  # an inferred size says nothing about the run
            continue
        if param.name in _SHORT:
            if value != param.default:
                parts.append(f"{_SHORT[param.name]}{_number(value)}")
        elif param.name == "kernel":
            parts.append(f"{value}x{value}")
        else:
            parts.append(_number(value))
    return " ".join(parts)


def differences(configs: Sequence[Mapping]) -> list[tuple[str, list]]:
    """Flat keys whose values are not all equal, dataset first; a config lacking a key shows None."""
    flats = [flatten(config) for config in configs]
    keys = sorted(dict.fromkeys(key for flat in flats for key in flat), key=_section_rank)
    rows = [(key, [flat.get(key) for flat in flats]) for key in keys]
    return [(key, values) for key, values in rows if any(value != values[0] for value in values)]


def _section_rank(key: str) -> int:
    section = key.split(".", 1)[0]
    return ORDER.index(section) if section in ORDER else len(ORDER)


def summary(record: RunRecord) -> dict:
    """One row of the runs table."""
    config, final = record.config, record.final
    epochs = final.get("epochs")
    return {"run": record.id,
            "name": record.name or f"Run {record.id}",
            "dataset": _dataset_title(config.get("dataset", {})),
            "model": describe_layers(config.get("layers", [])),
            "optimizer": _optimizer_text(config.get("optimizer", {})),
            "epochs": epochs if epochs is not None else config.get("epochs"),
            "status": record.status,
            "test score": next((final[key] for key in ("test_accuracy", "test_r2")
                                if final.get(key) is not None), None),
            "saved": time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))}


def _dataset_title(dataset: Mapping) -> str:
    name = dataset.get("name", "?")
    return DATASETS[name].title if name in DATASETS else str(name)


def _optimizer_text(optimizer: Mapping) -> str:
    name = optimizer.get("name", "?")
    title = OPTIMIZERS[name].title if name in OPTIMIZERS else str(name)
    lr, momentum = optimizer.get("lr"), optimizer.get("momentum")
    text = f"{title} lr {_number(lr)}" if lr is not None else title
    if momentum:
        text += f" momentum {_number(momentum)}" + (" Nesterov" if optimizer.get("nesterov") else "")
    return text


def curve(record: RunRecord, metric: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(x, y) of one curve: train_loss against epochs, scores and test loss against eval_epochs.

    Both empty when the run has no such curve (test_loss of a dataset without a test split).
    """
    if metric not in X_AXIS:
        raise ValueError(f"unknown metric {metric!r}; expected one of: {', '.join(X_AXIS)}")
    x, y = getattr(record.history, X_AXIS[metric]), getattr(record.history, metric)
    n = min(len(x), len(y))
    return tuple(_float(v) for v in x[:n]), tuple(_float(v) for v in y[:n])


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
