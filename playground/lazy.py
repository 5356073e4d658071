"""A module that is imported on its first attribute access, so importing the registries costs no torch.

`nn = lazy_module("torch.nn")` at the top of a module reads like `from torch import nn`, but torch is
only imported when code first touches `nn.Linear` and the like. The config, the registries and the
home page then load without paying torch's start-up (seconds on a small server). Knows nothing about
what the module is used for.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for the module named `name`; every attribute read is forwarded to the imported module."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(self.load(), attribute)

    def load(self) -> ModuleType:
        """The real module, imported now if it was not yet (then cached by Python's sys.modules)."""
        return importlib.import_module(self._name)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> LazyModule:
    return LazyModule(name)
