"""Device resolution: "auto" picks the best device present, a missing one is a helpful ValueError."""
import pytest
import torch

from playground.devices import available_devices, describe_device, resolve_device


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_cpu_is_always_available_and_last():
    devices = available_devices()
    assert devices[-1] == "cpu" and devices.count("cpu") == 1


def test_auto_resolves_to_the_best_available_device():
    device = resolve_device("auto")
    assert isinstance(device, torch.device)
    assert device.type == available_devices()[0]


def test_auto_falls_back_to_cpu(cpu_only):
    assert available_devices() == ["cpu"]
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_prefers_cuda_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"


def test_cpu_resolves_to_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_unavailable_device_is_a_helpful_value_error(cpu_only, name):
    with pytest.raises(ValueError) as caught:
        resolve_device(name)
    message = str(caught.value)
    assert f"{name} is not available on this machine" in message
    assert "choose one of: auto, cpu" in message


def test_cpu_description_names_the_thread_count():
    assert describe_device(torch.device("cpu")) == f"CPU ({torch.get_num_threads()} threads)"


def test_mps_description():
    assert describe_device(torch.device("mps")) == "Apple MPS"
