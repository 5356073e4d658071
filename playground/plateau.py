"""The plateau schedule's state: torch's ReduceLROnPlateau decisions as a plain object.

`Plateau.step(loss)` takes one measured loss and cuts `scale` (a factor on the learning rate) by
`factor` once the loss has not improved for more than `patience` steps in a row, exactly as
`torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", factor, patience)` decides with its other
defaults (relative threshold 1e-4, no cooldown, min_lr 0; one difference: torch stops cutting once a
cut would change the rate by under 1e-8, this goes on). It keeps a factor, not a learning rate, so a
rate changed by hand mid-run stays in force with the cuts on top. What it steps on is the engine's
choice (the test loss of each evaluated epoch, see `engine`); its state is three numbers (`state`),
so a fork or a saved training state carries it. Knows nothing about torch, models or epochs.
"""
from __future__ import annotations

import math

THRESHOLD = 1e-4  # an improvement must beat the best loss by this share (torch's rel threshold)


class Plateau:
    """Cuts `scale` by `factor` when the loss has not improved for more than `patience` steps in a row."""

    def __init__(self, factor: float, patience: int, best: float = math.inf, bad_steps: int = 0,
                 scale: float = 1.0):
        self.factor, self.patience = factor, patience  # the schedule's settings
        self.best, self.bad_steps, self.scale = best, bad_steps, scale  # the state a fork carries

    def step(self, loss: float) -> None:
        """Take one measured loss (a NaN counts as no improvement, as in torch)."""
        if loss < self.best * (1 - THRESHOLD):
            self.best, self.bad_steps = loss, 0
        else:
            self.bad_steps += 1
        if self.bad_steps > self.patience:
            self.scale *= self.factor
            self.bad_steps = 0

    def state(self) -> dict:
        """Everything to rebuild it: `Plateau(**plateau.state())`."""
        return dict(vars(self))
