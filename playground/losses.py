"""Loss registry: which losses suit which task, what model output each expects, and how to read it.

Every loss declares the kind of output it wants from the model's last layer (raw scores,
log-probabilities, probabilities, one logit, one probability, or a value). From that follow the
number of outputs, the checks on the last layer, the target tensor's form and how outputs turn
into class probabilities for accuracy and decision boundaries. Knows nothing about training loops;
torch is imported on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .lazy import lazy_module
from .tasks import CLASSIFICATION, REGRESSION

# Imported on first use, so the registry (and the config that checks against it) needs no torch.
torch, nn, F = lazy_module("torch"), lazy_module("torch.nn"), lazy_module("torch.nn.functional")

# What the model's output means, per loss.
SCORES, LOG_PROBS, PROBS, LOGIT, PROB, VALUE = "scores", "log_probs", "probs", "logit", "prob", "value"


@dataclass(frozen=True)
class LossSpec:
    name: str
    title: str
    task: str
    output: str  # one of the kinds above
    module: str  # the torch.nn loss class's name, e.g. "CrossEntropyLoss"
    binary_only: bool = False
    needs_last: str | None = None  # layer type the stack must end with
    warn_last: tuple[tuple[str, str], ...] = ()  # (last layer type, warning)

    @property
    def make(self) -> Callable[[], nn.Module]:
        """The torch.nn loss class (imports torch on first use)."""
        return getattr(nn, self.module)

    def n_outputs(self, n_classes: int) -> int:
        """How many values the model must output for this loss."""
        return n_classes if self.output in (SCORES, LOG_PROBS, PROBS) else 1

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """Targets in the form this loss takes: class ids (N,), or floats (N, 1)."""
        if self.output in (LOGIT, PROB):
            return y.to(torch.float32).reshape(-1, 1)
        return y


def class_probabilities(output_kind: str, out: torch.Tensor) -> torch.Tensor:
    """(N, C) class probabilities from model outputs of the given kind."""
    if output_kind == SCORES:
        return F.softmax(out, dim=1)
    if output_kind == LOG_PROBS:
        return out.exp()
    if output_kind == PROBS:
        return out
    p = torch.sigmoid(out) if output_kind == LOGIT else out.clamp(0, 1)
    return torch.cat([1 - p, p], dim=1)


def predicted_classes(output_kind: str, out: torch.Tensor) -> torch.Tensor:
    """(N,) predicted class ids, without computing probabilities where a threshold will do."""
    if output_kind == LOGIT:
        return (out[:, 0] > 0).long()
    if output_kind == PROB:
        return (out[:, 0] > 0.5).long()
    return out.argmax(dim=1)


_SOFTMAX_WARNING = ("ends with Softmax, but cross-entropy applies softmax itself: learning will be slow. "
                    "Remove the Softmax layer (or use LogSoftmax with NLL).")
_SIGMOID_WARNING = ("ends with Sigmoid, but BCE-with-logits applies sigmoid itself: remove the Sigmoid "
                    "layer or choose BCE.")

LOSSES: dict[str, LossSpec] = {spec.name: spec for spec in (
    LossSpec("cross_entropy", "Cross-entropy", CLASSIFICATION, SCORES, "CrossEntropyLoss",
             warn_last=(("softmax", _SOFTMAX_WARNING),)),
    LossSpec("nll", "NLL", CLASSIFICATION, LOG_PROBS, "NLLLoss", needs_last="log_softmax"),
    LossSpec("bce", "BCE", CLASSIFICATION, PROB, "BCELoss", binary_only=True,
             needs_last="sigmoid"),
    LossSpec("bce_with_logits", "BCE with logits", CLASSIFICATION, LOGIT, "BCEWithLogitsLoss",
             binary_only=True, warn_last=(("sigmoid", _SIGMOID_WARNING),)),
    LossSpec("mse", "MSE", REGRESSION, VALUE, "MSELoss"),
    LossSpec("l1", "L1 (MAE)", REGRESSION, VALUE, "L1Loss"),
    LossSpec("huber", "Huber", REGRESSION, VALUE, "HuberLoss"),
)}

DEFAULT_LOSS = {CLASSIFICATION: "cross_entropy", REGRESSION: "mse"}


def compatible_losses(task: str, n_classes: int) -> list[str]:
    """Names of the losses that can train this task (binary-only ones need exactly 2 classes)."""
    return [s.name for s in LOSSES.values() if s.task == task and (not s.binary_only or n_classes == 2)]


def task_problem(loss: LossSpec, task: str, n_classes: int) -> str | None:
    """Why `loss` cannot train this task, or None when it can."""
    if loss.task != task:
        return (f"{loss.title} is a {loss.task} loss but this dataset is {task}; "
                f"choose one of: {', '.join(compatible_losses(task, n_classes))}")
    if loss.binary_only and n_classes != 2:
        return (f"{loss.title} handles two classes but this dataset has {n_classes}; "
                f"use cross-entropy (or NLL with LogSoftmax)")
    return None
