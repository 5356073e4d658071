"""Which torch device to train on: resolves "auto" to CUDA, then Apple MPS, then the CPU."""
from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """Device names usable on this machine, best first, "cpu" always last."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def resolve_device(name: str) -> torch.device:
    """The torch device for a config's device name; ValueError if that device is missing here."""
    available = available_devices()
    if name == "auto":
        return torch.device(available[0])
    if name not in available:
        raise ValueError(f"{name} is not available on this machine; choose one of: auto, {', '.join(available)}")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """A human-readable name, e.g. "CUDA (NVIDIA H100)" or "CPU (2 threads)"."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
