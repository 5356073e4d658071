"""A whole run configuration as URL query parameters, and back: the shareable link.

`to_query` flattens a `TrainConfig` into readable parameters (`dataset.name=spiral`,
`optimizer.lr=0.001`, `layers=linear(out=100),relu,linear`, ...), so a link reproduces the
setup, seeds included. `from_query` parses them back through `TrainConfig.from_dict`, so a bad or
hand-edited link raises the same `ConfigError` as a bad config file, naming the parameter. A
teacher's link may also carry `hide=` (controls the page hides from students) and `lesson=`.
This module knows nothing about Streamlit: the pages read and write `st.query_params` with it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from .checks import clip, read_int
from .config import ConfigError, TrainConfig
from .layers import MAX_LAYERS

# Controls a teacher can hide from a shared link: name -> what the student no longer sees.
HIDEABLE: dict[str, str] = {
    "data": "Dataset and its settings",
    "model": "Layer editor and presets",
    "loss": "Loss",
    "optimizer": "Optimizer, momentum and weight decay",
    "learning_rate": "Learning rate",
    "schedule": "Learning-rate schedule",
    "training": "Batch size, epochs, model seed, device and augmentation",
}
HIDE, LESSON, WORKSPACE = "hide", "lesson", "ws"  # parameters beside the config's own
STRING_KEYS = {"dataset.name", "dataset.file", "dataset.label", "dataset.task", "dataset.class", "loss",
               "optimizer.name", "schedule.name", "device"}  # values kept as text even when they look like numbers
NUMBER_LISTS = {"optimizer.betas", "schedule.milestones"}  # lists of numbers, written "0.9,0.999" (JSON read too)
_LAYER = re.compile(r"\s*([a-z_0-9]+)\s*(?:\(([^()]*)\))?\s*(?:,|$)")
MAX_QUERY_LENGTH = 8000  # characters: longer links are refused rather than parsed


@dataclass(frozen=True)
class SharedSetup:
    """What a link carries: the config, the controls hidden from students and the lesson, if any."""

    config: TrainConfig
    hidden: frozenset[str] = frozenset()
    lesson: str = ""


def to_query(config: TrainConfig, hidden: Iterable[str] = (), lesson: str = "") -> dict[str, str]:
    """Query parameters (name -> text) that reproduce `config`, in a stable order."""
    params = {key: ",".join(map(_text, value)) if key in NUMBER_LISTS else _text(value)
              for key, value in _flatten(config.to_dict()).items()}
    if hidden:
        params[HIDE] = ",".join(name for name in HIDEABLE if name in set(hidden))
    if lesson:
        params[LESSON] = lesson
    return params


def link(base_url: str, config: TrainConfig, hidden: Iterable[str] = (), lesson: str = "") -> str:
    """The full shareable address: `base_url` (the page's address without a query) plus the parameters."""
    return f"{base_url.split('?')[0]}?{urlencode(to_query(config, hidden, lesson), safe='(),=')}"


def has_config(params: Mapping[str, Any]) -> bool:
    """Whether the parameters set a config, or part of one (a bare page address does not).

    Any parameter besides `hide`, `lesson` and `ws` counts, so a hand-written `?epochs=abc` is
    checked (and refused naming `epochs`) rather than silently ignored. With `lesson=` only a
    dataset or layers count: the lesson supplies its own setup, which other parameters adjust.
    """
    if LESSON in params:
        return any(key == "layers" or key.startswith("dataset.") for key in params)
    return any(key not in (HIDE, WORKSPACE) for key in params)


def from_query(params: Mapping[str, Any], *, allow_paths: bool = False) -> SharedSetup:
    """The setup a link describes; ConfigError (naming the parameter) when it cannot be used.
    `allow_paths`: a csv dataset may name its table by path (the command line's choice, never the app's)."""
    params = {key: _single(value) for key, value in params.items() if key != WORKSPACE}
    if sum(len(k) + len(v) for k, v in params.items()) > MAX_QUERY_LENGTH:
        raise ConfigError("link", f"is longer than {MAX_QUERY_LENGTH:,} characters; share a config file instead")
    hidden = _hidden(params.pop(HIDE, ""))
    lesson = params.pop(LESSON, "")
    data: dict[str, Any] = {}
    for key, text in params.items():
        value = parse_layers(text) if key == "layers" else _value(key, text)
        _insert(data, key, value)
    return SharedSetup(TrainConfig.from_dict(data, allow_paths=allow_paths), hidden, lesson)


def layers_text(layers: Iterable[Mapping[str, Any]]) -> str:
    """A layer stack as one readable string: linear(out=100),relu,conv2d(out=8,kernel=3)."""
    parts = []
    for spec in layers:
        args = ",".join(f"{k}={_text(v)}" for k, v in spec.items() if k != "type")
        parts.append(f"{spec['type']}({args})" if args else str(spec["type"]))
    return ",".join(parts)


def parse_layers(text: str) -> list[dict]:
    """The inverse of `layers_text`; ConfigError naming the piece it cannot read."""
    layers, position = [], 0
    while position < len(text.strip()):
        match = _LAYER.match(text, position)
        if not match or match.end() == position:
            raise ConfigError("layers", f"cannot read the layer list at {text[position:position + 20]!r}; "
                                        "expected e.g. linear(out=100),relu,linear")
        if len(layers) == MAX_LAYERS:
            raise ConfigError("layers", f"holds more than {MAX_LAYERS} layers, the limit: use a shorter stack")
        layers.append(_layer(match.group(1), match.group(2) or ""))
        position = match.end()
    return layers


def _layer(kind: str, arguments: str) -> dict[str, Any]:
    """One layer from its name and "out=100,p=0.5": a parameter named twice or named `type` is refused."""
    layer: dict[str, Any] = {"type": kind}
    for item in filter(None, arguments.split(",")):
        name, _, value = (part.strip() for part in item.partition("="))
        if name in layer:
            what = "its type is the name before the brackets" if name == "type" else "it is given twice"
            raise ConfigError("layers", f"{kind}({clip(name)}=...): {what}; e.g. linear(out=100),relu")
        layer[name] = _number(value)
    return layer


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "layers" and not prefix:
            flat[key] = layers_text(value)
        elif isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _insert(data: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for name in parents:
        data = data.setdefault(name, {})
        if not isinstance(data, dict):
            raise ConfigError(dotted, "conflicts with another parameter of the link")
    data[last] = value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return str(value)


def _value(key: str, text: str) -> Any:
    if key in STRING_KEYS:
        return text
    if key in NUMBER_LISTS and not text.startswith("["):
        return [_number(part.strip()) for part in text.split(",")[:101]]  # the config refuses over 100
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(key, f"is not a readable list: {text[:40]!r}") from None
    if text in ("true", "false"):
        return text == "true"
    return _number(text)


def _number(text: str) -> Any:
    """int or float when the text is one; otherwise the text (the config check then names it)."""
    for kind in (read_int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _single(value: Any) -> str:
    """st.query_params gives strings; AppTest and lists may give repeats: the last one counts."""
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def _hidden(text: str) -> frozenset[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(HIDEABLE))
    if unknown:
        raise ConfigError(HIDE, f"{unknown[0]!r} is not a control that can be hidden; choose from: "
                                f"{', '.join(HIDEABLE)}")
    return frozenset(names)
