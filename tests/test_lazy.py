"""playground.lazy and the torch-free core: a lazy module imports on first attribute access, and the
config, the registries and the run store load and check a setup without importing torch (so the home
page, which needs them, starts fast), while the registries still hand out torch's classes when asked."""
import subprocess
import sys
from pathlib import Path

import torch

from playground.lazy import lazy_module
from playground.losses import LOSSES
from playground.optim import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[1]

CHECK_A_SETUP = """
import sys
from playground.config import TrainConfig
from playground import runstore, share, lessons
config = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "layers": [{"type": "conv2d"}, {"type": "residual"},
    {"type": "flatten"}, {"type": "linear"}], "loss": "cross_entropy", "optimizer": {"name": "sgd"}})
assert TrainConfig.from_json(config.to_json()) == config
print(sorted(name for name in sys.modules if name == "torch" or name.startswith("torch.")))
"""


def test_checking_a_setup_imports_no_torch():
    result = subprocess.run([sys.executable, "-c", CHECK_A_SETUP], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_lazy_module_imports_on_first_use_and_forwards_attributes():
    json_module = lazy_module("json")
    assert json_module.dumps([1]) == "[1]" and json_module.load() is sys.modules["json"]
    assert "lazy module 'json'" in repr(json_module)


def test_the_registries_hand_out_torch_classes():
    assert LOSSES["cross_entropy"].make is torch.nn.CrossEntropyLoss
    assert OPTIMIZERS["adamw"].cls is torch.optim.AdamW
    assert all(issubclass(spec.make, torch.nn.Module) for spec in LOSSES.values())
    assert all(issubclass(kind.cls, torch.optim.Optimizer) for kind in OPTIMIZERS.values())
