"""What a student changed in the setup their run started from, in a few words ("ReLU → Tanh, lr 0.001 → 0.03").

`config_changes(base, config)` lists the differences between two config dicts (as `TrainConfig.to_dict`
writes them): the layer stack layer by layer (a changed layer, "+ Tanh" for an added one, "− ReLU" for a
removed one), then every other setting as "label old → new" in `compare`'s order (dataset first);
`summary` shortens the list for a tile: at most MOST_SHOWN changes, then "+N more". Names of datasets,
optimizers and losses show as their titles. Every change is at most MAX_CHANGE characters.
Knows nothing about runs, the class store or markup: a page escapes the text it shows.
"""
from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any, Mapping, Sequence

from .compare import describe_layer, differences
from .datasets import DATASETS
from .losses import LOSSES
from .optim import OPTIMIZERS

MOST_SHOWN = 3  # changes a tile shows before "+N more"
MAX_CHANGE = 60  # characters of one change
AS_HANDED_OUT = "as handed out"
OWN_SETUP = "own setup"
ARROW = " → "
LABELS = {"optimizer.lr": "lr", "batch_size": "batch", "dataset.n_per_class": "points per class",
          "dataset.test_fraction": "test share", "schedule.name": "schedule"}  # others: the key's last part
TITLED = {"dataset.name": DATASETS, "optimizer.name": OPTIMIZERS, "loss": LOSSES}  # values shown by title, no label


def config_changes(base: Mapping, config: Mapping) -> tuple[str, ...]:
    """Every difference from `base` to `config`, the layers first, each a short text."""
    changes = list(layer_changes(_list(base.get("layers")), _list(config.get("layers"))))
    for key, (old, new) in differences([base, config]):
        if key != "layers":
            changes.append(_setting_change(key, old, new))
    return tuple(_shortened(change) for change in changes)


def layer_changes(old: Sequence[Mapping], new: Sequence[Mapping]) -> list[str]:
    """The stack's edits: "ReLU → Tanh" for a changed layer, "+ Tanh" for an added one, "− ReLU" for a removed one."""
    before = [describe_layer(spec) if isinstance(spec, Mapping) else "?" for spec in old]
    after = [describe_layer(spec) if isinstance(spec, Mapping) else "?" for spec in new]
    changes = []
    for edit, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if edit != "equal":  # a replaced run of layers: changed pairs, then the ones added or removed
            paired = min(i2 - i1, j2 - j1)
            changes += [f"{a}{ARROW}{b}" for a, b in zip(before[i1:i1 + paired], after[j1:j1 + paired])]
            changes += [f"+ {b}" for b in after[j1 + paired:j2]] + [f"− {a}" for a in before[i1 + paired:i2]]
    return changes


def summary(changes: Sequence[str] | None, most: int = MOST_SHOWN) -> str:
    """A tile's line: up to `most` changes, then "+N more"; AS_HANDED_OUT for none, OWN_SETUP for no hand-out (None)."""
    if changes is None:
        return OWN_SETUP
    if not changes:
        return AS_HANDED_OUT
    more = len(changes) - most
    return ", ".join(changes[:most]) + (f" +{more} more" if more > 0 else "")


def _setting_change(key: str, old: Any, new: Any) -> str:
    titles = TITLED.get(key)
    if titles is not None:
        return f"{_title(titles, old)}{ARROW}{_title(titles, new)}"
    label = LABELS.get(key, key.rsplit(".", 1)[-1].replace("_", " "))
    return f"{label} {_value(old)}{ARROW}{_value(new)}"


def _title(titles: Mapping, name: Any) -> str:
    known = titles.get(name) if isinstance(name, str) else None
    return known.title if known is not None else _value(name)


def _value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(item) for item in value)
    return str(value)


def _list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_CHANGE else text[:MAX_CHANGE - 1] + "…"
