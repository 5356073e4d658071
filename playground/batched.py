"""Same-shaped runs trained together: k runs as one stacked model (`torch.func` + `vmap`).

`StackedTrainer(configs)` builds each run's model exactly as `Engine` does (it builds an `Engine`
per run and takes its model, so the same seed gives the same initial weights), stacks the weights
(`torch.func.stack_module_state`) and trains all runs an epoch at a time with `functional_call` +
`vmap` and the functional optimizers of `functional_optim` (per-run learning rate, schedule, weight
decay, momentum). Each run keeps its own batch order (its seed's generator, a `randperm` per epoch
when an epoch has several batches), and `train_epoch()` gives each run an `EpochEnd` with the same
meaning as the Engine's, or a `Diverged` when its loss stops being finite (that run leaves the
stack, restored like the Engine restores; the others go on). Runs join (`add`, at epoch 0 or from a
`Snapshot`) and leave (`remove`) between epochs; a run that finished its epochs leaves on its own.

The rule (`why_not_batched`, `batch_key`, `can_batch`): runs batch when they have the same layer
stack, the same dataset settings (so identical data), the same loss, batch size, optimizer type and
device. Seeds, learning rate, schedule, weight decay, momentum, Nesterov, epochs and the caller's
pace may differ. Never batched: layers with running statistics (BatchNorm, the residual block) or
that draw random numbers per run (Dropout: its masks come from the global RNG, which vmap would
share between runs), the plateau schedule (its cuts follow each run's test loss, which a stack does
not measure per epoch), optimizer settings under "more" away from torch's defaults (the functional
optimizers use torch's betas, eps, alpha, rho and lr_decay), and image datasets (an image epoch is long
and already keeps the cores busy;
k stacked copies would multiply its memory for little gain).

Speed (benchmarks/batching.py, 2-core CPU, one torch thread): stacking pays when each run's batch
is small (default spiral with batch size 64: 1.7x-3.2x for k = 4-32) but loses on the full-batch
default spiral (0.35x-0.64x): k runs' activations (k x 2400 x 100 floats) outgrow the caches and
vmap's per-call overhead is not amortised. A scheduler should stack full-batch toy runs only on a GPU.

Knows nothing about threads, pacing, pools or Streamlit: the caller decides when to train an epoch.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from .config import TrainConfig
from .datasets import DATASETS, Dataset
from .devices import resolve_device
from .engine import MAX_TEST_POINTS, Diverged, Engine, EpochEnd, EpochEvent, Metrics, _batch_starts, load_dataset
from .functional_optim import FUNCTIONAL, hyperparameters
from .layers import RECURRENT_LAYERS
from .losses import LOSSES, class_probabilities, predicted_classes
from .optim import OPTIMIZER_DEFAULTS, OPTIMIZERS, scheduled_lr
from .tasks import CLASSIFICATION

# Layer types that cannot be stacked, and why (the rule, as data).
UNBATCHABLE_LAYERS: dict[str, str] = {
    "batchnorm1d": "BatchNorm keeps running statistics per run",
    "batchnorm2d": "BatchNorm keeps running statistics per run",
    "residual": "the residual block holds BatchNorm layers",
    "dropout": "Dropout draws its own random masks per run",
    "dropout2d": "Dropout draws its own random masks per run",
    **dict.fromkeys(RECURRENT_LAYERS, "vmap has no batching rule for torch's RNN, LSTM and GRU kernels"),
}


def why_not_batched(config: TrainConfig) -> str | None:
    """Why this run cannot train in a stack with others, or None when it can."""
    if config.augment is not None:
        return "augmented runs train alone (the stacked path does not augment its batches)"
    if DATASETS[config.dataset.name].is_image:
        return "image datasets train alone (their epochs already keep the cores busy)"
    for spec in config.layers:
        if spec["type"] in UNBATCHABLE_LAYERS:
            return UNBATCHABLE_LAYERS[spec["type"]]
    if config.schedule.name == "plateau":
        return "the plateau schedule follows each run's own test loss"
    changed = [key for key in OPTIMIZERS[config.optimizer.name].more
               if getattr(config.optimizer, key) != OPTIMIZER_DEFAULTS[key]]
    if changed:
        return f"the stacked optimizers use torch's default {changed[0]}"
    return None


def batch_key(config: TrainConfig) -> tuple | None:
    """Runs with equal keys can train in one stack; None for a run that trains alone."""
    if why_not_batched(config):
        return None
    layers = tuple(tuple(sorted(spec.items())) for spec in config.layers)
    return (config.dataset, layers, config.loss, config.optimizer.name, config.batch_size,
            str(resolve_device(config.device)))


def can_batch(configs: Sequence[TrainConfig]) -> bool:
    """Whether all these runs can train in one stack."""
    keys = {batch_key(c) for c in configs}
    return len(keys) == 1 and None not in keys


@dataclass
class Snapshot:
    """One run's whole training state, to save it, fork it or let it join a stack again."""

    config: TrainConfig
    model_state: dict[str, torch.Tensor]  # the model's state_dict
    optimizer_state: list[dict[str, torch.Tensor]] | None  # torch.optim's per-parameter state; None: fresh
    epoch: int
    seconds: float
    base_lr: float
    batch_order: torch.Tensor  # the state of the run's batch-order generator
    verified_state: dict[str, torch.Tensor] | None = None  # the weights last seen to give a finite loss
    verified_epoch: int | None = None  # ... and their epoch (None: the snapshot's own weights and epoch)
    augment_order: torch.Tensor | None = None  # the augmentation generator's state (a run that augments)
    plateau: dict | None = None  # the plateau schedule's state (a solo run's only: plateau runs never stack)

    @classmethod
    def of(cls, engine: Engine) -> "Snapshot":
        """A solo Engine's state between epochs, to let it join a stack (`StackedTrainer.add`)."""
        return cls(engine.config, **engine.training_state())

    def engine(self, dataset: Dataset | None = None, samples: int = 0) -> Engine:
        """A solo `Engine` that goes on from this state exactly as the run would have in its stack."""
        engine = Engine(self.config, dataset, initial_state=self.model_state)
        engine.set_learning_rate(self.base_lr)
        return engine.continue_from(self.optimizer_state, self.batch_order, self.epoch, self.seconds, samples,
                                    self.verified_state, self.verified_epoch, self.augment_order, self.plateau)


@dataclass(frozen=True)
class RunEvent:
    """How one run's epoch ended; `left` is its Snapshot when it left the stack (finished or diverged)."""

    run: int  # the run's id (what add() returned)
    event: EpochEvent
    left: Snapshot | None = None


@dataclass
class _Run:
    id: int
    config: TrainConfig
    base_lr: float
    epoch: int = 0
    seconds: float = 0.0
    verified_epoch: int = 0
    batch_order: torch.Generator = field(default_factory=torch.Generator)

    @property
    def lr(self) -> float:
        return scheduled_lr(self.base_lr, self.config.schedule, self.epoch, self.config.epochs,
                            self.config.optimizer.lr)

    @property
    def eval_every(self) -> int:
        return max(1, round(self.config.epochs / MAX_TEST_POINTS))

    def evaluate_now(self, epoch: int) -> bool:
        """The Engine's cadence: epoch 1, every eval_every epochs and the last."""
        return epoch % self.eval_every == 0 or epoch in (1, self.config.epochs)


class StackedTrainer:
    """Trains k batchable runs (see `can_batch`) as one stacked model. Drive it from one thread."""

    def __init__(self, configs: Sequence[TrainConfig], dataset: Dataset | None = None,
                 snapshots: Sequence[Snapshot | None] | None = None):
        """`snapshots`: where each run goes on from (None, or none given: its epoch 0)."""
        if not configs or not can_batch(configs):
            raise ValueError("these runs cannot train in one stack: " + _reasons(configs))
        self.key = batch_key(configs[0])
        first = configs[0]
        self.dataset = dataset if dataset is not None else load_dataset(first)
        self.device = resolve_device(first.device)
        self.loss_spec = LOSSES[first.loss]
        self._loss_fn = self.loss_spec.make()
        self._optimizer = FUNCTIONAL[first.optimizer.name]
        self._train = self._tensors(self.dataset.x_train, self.dataset.y_train)
        self._test = self._tensors(self.dataset.x_test, self.dataset.y_test)
        n = len(self._train[1])
        self._starts = _batch_starts(n, first.batch_size)
        self._ends = self._starts[1:] + [n]
        self._runs: list[_Run] = []
        # Gradients and (loss, outputs) of every run: on the shared data (None) or on each run's batch (0).
        self._steps = {dims: vmap(grad_and_value(self._loss, has_aux=True), in_dims=(0, 0, dims, dims))
                       for dims in (None, 0)}
        self._next_id = 0
        self._skeleton: torch.nn.Module | None = None
        self.params: dict[str, torch.Tensor] = {}
        self.buffers: dict[str, torch.Tensor] = {}
        self._state: dict[str, list[torch.Tensor]] = {}
        self._verified: list[torch.Tensor] = []
        for config, snapshot in zip(configs, snapshots or [None] * len(configs)):
            self.add(config, snapshot)

    # --- membership -----------------------------------------------------------------------------

    @property
    def run_ids(self) -> list[int]:
        return [run.id for run in self._runs]

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, config: TrainConfig, snapshot: Snapshot | None = None) -> int:
        """Let a run join the stack at its epoch 0, or from `snapshot`; returns its id."""
        if batch_key(config) != self.key:
            raise ValueError("this run cannot join the stack: " + (why_not_batched(config) or
                             "its layers, data, loss, batch size, optimizer type or device differ"))
        engine = Engine(config, self.dataset, initial_state=snapshot.model_state if snapshot else None)
        model = engine.model
        params, buffers = stack_module_state([model])
        params = {k: v.detach().to(self.device) for k, v in params.items()}
        state = (self._optimizer.from_torch_state([p[0] for p in params.values()], snapshot.optimizer_state)
                 if snapshot and snapshot.optimizer_state else self._optimizer.init_state(list(params.values())))
        run = _Run(self._next_id, config, snapshot.base_lr if snapshot else config.optimizer.lr)
        run.batch_order.manual_seed(config.seed)
        verified = params
        if snapshot:
            run.epoch = run.verified_epoch = snapshot.epoch
            run.seconds = snapshot.seconds
            run.batch_order.set_state(snapshot.batch_order)
            if snapshot.verified_state is not None:
                verified = {k: snapshot.verified_state[k].detach().to(self.device).unsqueeze(0) for k in params}
                run.verified_epoch = snapshot.verified_epoch
        if self._skeleton is None:
            self._skeleton = copy.deepcopy(model).to("meta")
        self._append(params, buffers, state, verified)
        self._runs.append(run)
        self._next_id += 1
        return run.id

    def remove(self, run_id: int) -> Snapshot:
        """Take a run out of the stack between epochs; its Snapshot continues it elsewhere."""
        snapshot = self.snapshot(run_id)
        self._keep([i for i, run in enumerate(self._runs) if run.id != run_id])
        return snapshot

    def snapshot(self, run_id: int) -> Snapshot:
        """Run `run_id`'s training state now (weights, optimizer state, epoch, batch order)."""
        i, run = self._find(run_id)
        options = {"momentum": run.config.optimizer.momentum}
        return Snapshot(run.config, self.state_dict(run_id), self._optimizer.torch_state(self._state, i, options),
                        run.epoch, run.seconds, run.base_lr, run.batch_order.get_state(), self._verified_state(i),
                        run.verified_epoch)

    def state_dict(self, run_id: int) -> dict[str, torch.Tensor]:
        """Run `run_id`'s model state_dict (copies), as its solo Engine's model would have it."""
        i, _ = self._find(run_id)
        return {name: self._stacked(name)[i].clone() for name in self._names}

    def set_learning_rate(self, run_id: int, lr: float) -> None:
        """Change a run's base learning rate; its schedule applies on top from the next epoch."""
        self._find(run_id)[1].base_lr = float(lr)

    def _find(self, run_id: int) -> tuple[int, _Run]:
        for i, run in enumerate(self._runs):
            if run.id == run_id:
                return i, run
        raise KeyError(f"run {run_id} is not in this stack")

    def _stacked(self, name: str) -> torch.Tensor:
        return self.params[name] if name in self.params else self.buffers[name]

    def _append(self, params: dict, buffers: dict, state: dict, verified: dict) -> None:
        if not self._runs:
            self._names = list(self._skeleton.state_dict().keys())
            self.params, self.buffers, self._state = params, dict(buffers), state
            self._verified = [verified[k].clone() for k in params]
            return
        self.params = {k: torch.cat([v, params[k]]) for k, v in self.params.items()}
        self.buffers = {k: torch.cat([v, buffers[k].to(self.device)]) for k, v in self.buffers.items()}
        self._state = {k: [torch.cat([a, b]) for a, b in zip(v, state[k])] for k, v in self._state.items()}
        self._verified = [torch.cat([a, verified[k]]) for a, k in zip(self._verified, params)]

    def _keep(self, indices: list[int]) -> None:
        """Keep only the runs at these positions."""
        index = torch.tensor(indices, dtype=torch.long, device=self.device)
        self.params = {k: v.index_select(0, index) for k, v in self.params.items()}
        self.buffers = {k: v.index_select(0, index) for k, v in self.buffers.items()}
        self._state = {k: [t.index_select(0, index) for t in v] for k, v in self._state.items()}
        self._verified = [t.index_select(0, index) for t in self._verified]
        self._runs = [self._runs[i] for i in indices]

    # --- training -------------------------------------------------------------------------------

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        targets = self.loss_spec.targets(torch.from_numpy(y))
        return torch.from_numpy(x).to(self.device), targets.to(self.device)

    def _loss(self, params: dict, buffers: dict, x: torch.Tensor, y: torch.Tensor):
        out = functional_call(self._skeleton, (params, buffers), (x,))
        return self._loss_fn(out, y), out

    def train_epoch(self) -> list[RunEvent]:
        """Train every run in the stack for one epoch; how each run's epoch ended."""
        if not self._runs:
            return []
        started = time.perf_counter()
        lrs = [run.lr for run in self._runs]
        hyper = hyperparameters([run.config.optimizer for run in self._runs], lrs, self.device)
        epoch_start = [p.clone() for p in self.params.values()]
        sums = _StackedSums(len(self._runs), self.device)
        for xb, yb, dims in self._batches():
            grads, (loss, out) = self._steps[dims](self.params, self.buffers, xb, yb)
            targets = yb if dims == 0 else yb.expand(len(out), *yb.shape)
            sums.add(loss, out, targets, self.loss_spec.output, self.dataset.task)
            self._optimizer.step(list(self.params.values()), list(grads.values()), self._state, hyper)
        return self._end_epoch(sums, lrs, epoch_start, started)

    def _batches(self):
        """(x, y, in_dim) per batch: the shared data (in_dim None) or each run's own batch (in_dim 0)."""
        x, y = self._train
        if len(self._starts) == 1:
            yield x, y, None
            return
        orders = torch.stack([torch.randperm(len(x), generator=run.batch_order) for run in self._runs]).to(self.device)
        for start, end in zip(self._starts, self._ends):
            index = orders[:, start:end]
            yield x[index], y[index], 0

    def _end_epoch(self, sums: _StackedSums, lrs: list[float], epoch_start: list[torch.Tensor],
                   started: float) -> list[RunEvent]:
        losses, hits, squared = sums.read()
        due = []
        for run in self._runs:
            run.epoch += 1
            due.append(run.evaluate_now(run.epoch))
        test = self._evaluate_all() if any(due) and len(self._test[0]) else None
        seconds = time.perf_counter() - started  # every run in the stack waited for the whole epoch
        events = []
        for i, run in enumerate(self._runs):
            if not math.isfinite(losses[i] / sums.count):
                events.append(self._diverge(i, lrs[i]))
                continue
            train = _metrics(losses[i], hits[i], squared[i], sums.count, self._train[1], self.dataset.task, due[i])
            run.seconds += seconds
            run.verified_epoch = run.epoch - 1
            events.append(RunEvent(run.id, EpochEnd(run.epoch, train, test[i] if test and due[i] else None,
                                                    lrs[i], run.seconds)))
        # The losses just measured belong to the weights the epoch started from (diverged runs leave below).
        self._verified = epoch_start
        return self._finish(events)

    def _diverge(self, i: int, lr: float) -> RunEvent:
        """Restore run i's latest weights whose loss was finite, with a fresh optimizer, as the Engine does."""
        run = self._runs[i]
        bad_epoch = run.epoch
        run.epoch = run.verified_epoch
        model_state = self._verified_state(i)
        left = Snapshot(run.config, model_state, None, run.epoch, run.seconds, run.base_lr, run.batch_order.get_state())
        message = (f"The loss became NaN or infinite in epoch {bad_epoch}, so training stopped and the model was "
                   f"restored to epoch {run.epoch}. Try a smaller learning rate (it was {lr:g}).")
        return RunEvent(run.id, Diverged(bad_epoch, message), left)

    def _verified_state(self, i: int) -> dict[str, torch.Tensor]:
        """The state_dict of run i's weights last seen to give a finite loss (copies)."""
        weights = {name: v[i].clone() for name, v in zip(self.params, self._verified)}
        return {name: weights[name] if name in weights else self.buffers[name][i].clone() for name in self._names}

    def _finish(self, events: list[RunEvent]) -> list[RunEvent]:
        """Runs that diverged or finished their epochs leave the stack (finished ones with a Snapshot)."""
        done = {e.run for e in events if isinstance(e.event, Diverged)}
        finished = {run.id for run in self._runs if run.epoch >= run.config.epochs and run.id not in done}
        events = [RunEvent(e.run, e.event, self.snapshot(e.run)) if e.run in finished else e for e in events]
        self._keep([i for i, run in enumerate(self._runs) if run.id not in done | finished])
        return sorted(events, key=lambda e: e.run)

    # --- evaluation -----------------------------------------------------------------------------

    @torch.inference_mode()
    def _outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Model outputs (k, N, ...) of every run for shared inputs x."""
        forward = vmap(lambda p, b: functional_call(self._skeleton, (p, b), (x,)))
        return forward(self.params, self.buffers)

    @torch.inference_mode()
    def _evaluate_all(self) -> list[Metrics]:
        """Every run's metrics on the test split."""
        x, y = self._test
        out = self._outputs(x)
        losses = vmap(self._loss_fn, in_dims=(0, None))(out, y)
        sums = _StackedSums(len(out), self.device)
        sums.add(losses, out, y.expand(len(out), *y.shape), self.loss_spec.output, self.dataset.task)
        loss, hits, squared = sums.read()
        return [_metrics(loss[i], hits[i], squared[i], sums.count, y, self.dataset.task, True) for i in range(len(out))]

    @torch.inference_mode()
    def predict(self, run_id: int, x: np.ndarray) -> np.ndarray:
        """Run `run_id`'s (N, C) class probabilities for classification, (N, 1) values for regression."""
        i, _ = self._find(run_id)
        x = torch.as_tensor(x, device=self.device).float()
        weights = ({k: v[i] for k, v in self.params.items()}, {k: v[i] for k, v in self.buffers.items()})
        out = functional_call(self._skeleton, weights, (x,))  # one run: no vmap (half the time for a frame)
        if self.dataset.task == CLASSIFICATION:
            out = class_probabilities(self.loss_spec.output, out)
        return out.float().cpu().numpy()


class _StackedSums:
    """Per-run float32 running sums over an epoch's batches (the Engine's `_Sums`, k at a time)."""

    def __init__(self, k: int, device: torch.device):
        self.loss = torch.zeros(k, device=device)
        self.hits = torch.zeros(k, dtype=torch.long, device=device)
        self.squared = torch.zeros(k, device=device)
        self.count = 0

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor, output_kind: str, task: str) -> None:
        """`loss` (k,), `out` (k, B, ...) and `y` (k, B, ...): each run's batch and its targets."""
        n = out.shape[1]
        self.loss += loss.detach() * n
        self.count += n
        out = out.detach()
        if task == CLASSIFICATION:
            labels = y if y.dim() == out.dim() - 1 else y[..., 0].long()
            predicted = predicted_classes(output_kind, out.flatten(0, 1)).view(labels.shape)
            self.hits += (predicted == labels).sum(dim=-1)
        else:
            self.squared += ((out - y) ** 2).flatten(1).sum(dim=1)

    def read(self) -> tuple[list[float], list[int], list[float]]:
        return self.loss.tolist(), self.hits.tolist(), self.squared.tolist()


def _metrics(loss: float, hits: int, squared: float, count: int, targets: torch.Tensor, task: str,
             scores: bool) -> Metrics:
    """The Engine's Metrics from one run's sums; accuracy or R^2 only when `scores`."""
    if not scores:
        return Metrics(loss / count)
    if task == CLASSIFICATION:
        return Metrics(loss / count, accuracy=hits / count)
    mse = squared / count
    variance = float(targets.float().var(unbiased=False))
    return Metrics(loss / count, r2=1.0 - mse / variance if variance > 0 else float("nan"), mse=mse)


def _reasons(configs: Sequence[TrainConfig]) -> str:
    if not configs:
        return "no runs given"
    problems = [why_not_batched(c) for c in configs if why_not_batched(c)]
    return problems[0] if problems else "their layers, data, loss, batch size, optimizer type or device differ"
