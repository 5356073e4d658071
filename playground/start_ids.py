"""The names a config's "start_from" may take, checked without torch or files (config.py asks here).

"upload:<hash>" and "run:<hash>" name a `.pt` in the server's store of starting models by the first 16
hex digits of its SHA-256 (see `transfer`), "default:mnist" the Draw page's MNIST model, and
"torchvision:resnet18" ImageNet's ResNet-18 (see `pretrained`); only a config read with `allow_paths`
(the command line) may name a file by its path. Knows nothing about loading them.
"""
from __future__ import annotations

import re
from pathlib import Path

from .pretrained import PRETRAINED_MODELS, check_pretrained

STORE_ID = re.compile(r"(upload|run):([0-9a-f]{16})")
PRETRAINED = "torchvision:"  # the prefix of a torchvision start: "torchvision:resnet18"
DEFAULT_MNIST = "default:mnist"  # the Draw page's MNIST model (`default_model`), one file per server
MAX_START_CHARS = 1000
ID_HELP = ("an uploaded model or a finished run (the Playground's Start from), default:mnist or "
           f"{', '.join(PRETRAINED_MODELS)}; the app does not read file paths")


def check_start_from(value: object, allow_paths: bool) -> str:
    """`value` if it names a start this config may use; ValueError saying why not."""
    if not isinstance(value, str) or not value or len(value) > MAX_START_CHARS:
        raise ValueError(f"must name a saved model: {ID_HELP}")
    if value.startswith(PRETRAINED):
        check_pretrained(value)
        return value
    if STORE_ID.fullmatch(value) or value == DEFAULT_MNIST:
        return value
    if not allow_paths:
        raise ValueError(f"{value[:80]!r} is not a saved model's id: use {ID_HELP}")
    if not Path(value).expanduser().is_file():
        raise ValueError(f"there is no model file {value[:200]!r}")
    return value
