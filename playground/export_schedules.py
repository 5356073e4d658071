"""Export code for the schedules and optimizer settings issue 17 added (`export` merges them in).

`MORE_SCHEDULE_CODE`: for each new schedule, its constants (a format string over the ScheduleConfig's
fields) and its `learning_rate(epoch, epochs)` function, the same arithmetic as `optim`'s, so the script's
rates equal the engine's. Plateau has no such function: its script keeps a `Plateau` (the engine's own
class, copied by `inspect`), sets each epoch's rate from it and steps it on the test loss of the epochs
the playground evaluates (`PLATEAU_*`). `optimizer_constants` / `optimizer_arguments` write the "more"
settings (betas, eps, alpha, rho, lr_decay) when they differ from torch's defaults. Only writes text.
"""
from __future__ import annotations

import inspect

from . import plateau
from .optim import OPTIMIZER_DEFAULTS, OPTIMIZERS

MORE_SCHEDULE_CODE = {
    "multistep": ("LR_MILESTONES = {milestones!r}  # the epochs at which the learning rate decays\n"
                  "LR_GAMMA = {gamma!r}  # the learning rate is multiplied by this at each milestone",
                  '''def learning_rate(epoch, epochs):
    """Multi-step schedule (torch's MultiStepLR): LEARNING_RATE, times LR_GAMMA per milestone passed."""
    return LEARNING_RATE * LR_GAMMA ** sum(1 for milestone in LR_MILESTONES if milestone <= epoch)'''),
    "exponential": ("LR_GAMMA = {gamma!r}  # the learning rate is multiplied by this every epoch",
                    '''def learning_rate(epoch, epochs):
    """Exponential schedule (torch's ExponentialLR): LEARNING_RATE times LR_GAMMA once per epoch."""
    return LEARNING_RATE * LR_GAMMA ** epoch'''),
    "onecycle": ("MAX_LR = {max_lr!r}  # one cycle: the peak learning rate (LEARNING_RATE is not used)",
                 '''def learning_rate(epoch, epochs):
    """One cycle (torch's OneCycleLR stepped once an epoch, momentum not cycled): up from MAX_LR / 25 to
    MAX_LR over the first 30% of the run, then down to MAX_LR / 25 / 10000, along half cosine waves."""
    start, low = MAX_LR / 25, MAX_LR / 25 / 1e4
    warm_end = 0.3 * epochs - 1
    epoch = min(epoch, epochs - 1)
    if epoch <= warm_end:
        a, b, pct = start, MAX_LR, epoch / warm_end
    else:
        a, b, pct = MAX_LR, low, (epoch - warm_end) / (epochs - 1 - warm_end)
    return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)'''),
    "plateau": ("LR_FACTOR = {factor!r}  # the learning rate is multiplied by this when the test loss stalls\n"
                "LR_PATIENCE = {patience!r}  # evaluations without improvement before a cut",
                f"THRESHOLD = {plateau.THRESHOLD!r}  # an improvement must beat the best loss by this share\n\n\n"
                + inspect.getsource(plateau.Plateau).rstrip()),
}
PLATEAU_START = ("plateau = Plateau(LR_FACTOR, LR_PATIENCE)  # the state of torch's ReduceLROnPlateau\n"
                 "test_every = max(1, round(epochs / 250))  # the playground tests on at most ~250 epochs of a run")
PLATEAU_SET_LR = '''for group in optimizer.param_groups:
    group["lr"] = LEARNING_RATE * plateau.scale  # cut each time the test loss stalls'''
PLATEAU_STEP = '''if epoch + 1 in (1, epochs) or (epoch + 1) % test_every == 0:  # plateau steps on the test loss
    plateau.step(evaluate(model, loss_fn, x_test, y_test)[0] if len(y_test) else loss)'''

MORE_NAMES = {"betas": ("BETAS", "how slowly the averages of gradients and of their squares forget"),
              "eps": ("EPS", "added to the denominator, for numerical stability"),
              "alpha": ("ALPHA", "how slowly the average of squared gradients forgets"),
              "rho": ("RHO", "how slowly the averages of squared gradients and steps forget"),
              "lr_decay": ("LR_DECAY", "the rate is divided by 1 + steps taken x LR_DECAY")}


def _changed(optimizer) -> list[str]:
    return [key for key in OPTIMIZERS[optimizer.name].more if getattr(optimizer, key) != OPTIMIZER_DEFAULTS[key]]


def optimizer_constants(optimizer) -> list[str]:
    """The settings lines for the optimizer's changed "more" settings."""
    return [f"{MORE_NAMES[key][0]} = {getattr(optimizer, key)!r}  # {MORE_NAMES[key][1]}"
            for key in _changed(optimizer)]


def optimizer_arguments(optimizer) -> list[str]:
    """The optimizer's constructor arguments for them, e.g. "betas=BETAS"."""
    return [f"{key}={MORE_NAMES[key][0]}" for key in _changed(optimizer)]
