"""Training engine: one model, one dataset, one epoch at a time, reporting small frozen events.

`Engine(config)` generates the data, builds the model, loss and optimizer; `run()` is a generator
yielding a `BatchEnd` after every batch of a multi-batch epoch (every few batches a `BatchProgress`
with the loss of those batches), an `EpochEnd` per epoch and a final `Diverged` if the loss stops
being finite. Callers control pace by how they pull from it: between any two events they may wait
(pause), change the learning rate (it applies from the next epoch) or cut the epoch short. Events
are plain picklable dataclasses. The engine knows nothing about threads, Streamlit or Plotly.
"""
from __future__ import annotations

import contextlib
import copy
import math
import struct
import threading
import time
from dataclasses import dataclass
from typing import Generator, Iterator

import numpy as np
import torch

from .augment import augment
from .config import ConfigError, TrainConfig
from .datasets import Dataset, make_dataset
from .devices import resolve_device
from .layers import RANDOM_LAYERS
from .losses import LOSSES, class_probabilities, predicted_classes
from .model import batch_problem, build_model, plan_for
from .optim import make_optimizer, scheduled_lr, set_learning_rate
from .plateau import Plateau
from .tasks import CLASSIFICATION
from .transfer_weights import freeze_layers, hold_frozen_norms

_GLOBAL_RNG_LOCK = threading.Lock()  # torch's global RNG is shared by threads: use it under this lock
MAX_TEST_POINTS = 250  # test metrics are evaluated on at most about this many epochs of a run
# Bytes of layer outputs per evaluation chunk: small enough to stay in the CPU's caches (the README's
# Fashion-MNIST benchmark says what that saves), while a toy MLP's whole test set is still one chunk.
EVAL_MEMORY = 16 * 2**20
REPORTS_PER_EPOCH = 25  # BatchProgress reports per epoch when an epoch has many batches
_NO_CONTEXT = contextlib.nullcontext()


@dataclass(frozen=True)
class Metrics:
    """Loss and the task's score on one split: accuracy (classification) or R^2 and MSE (regression)."""

    loss: float
    accuracy: float | None = None
    r2: float | None = None
    mse: float | None = None

    @property
    def score(self) -> float | None:
        return self.accuracy if self.accuracy is not None else self.r2


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # epochs completed so far (1-based)
    train: Metrics  # averaged over the epoch's batches before each step; score only on evaluated epochs
    test: Metrics | None  # evaluated every few epochs (see eval_every); None otherwise
    lr: float  # learning rate used in this epoch
    seconds: float  # training time so far, evaluation included


@dataclass(frozen=True)
class BatchEnd:
    """A batch of a multi-batch epoch was trained (not the epoch's last): the caller may pause here,
    or cut the epoch short. It carries nothing, so every one is the same object, `BATCH_END`."""


@dataclass(frozen=True)
class BatchProgress(BatchEnd):
    """The BatchEnd of every few batches of a long epoch (about REPORTS_PER_EPOCH per epoch, when it
    has ten batches or more): the train loss of the batches since the previous report."""

    epoch: float  # fractional epochs completed, e.g. 2.4
    loss: float  # mean train loss over the batches since the previous report
    samples: int  # training samples processed by this engine so far


@dataclass(frozen=True)
class Diverged:
    epoch: int  # the epoch whose loss was not finite
    message: str


BATCH_END = BatchEnd()
EpochEvent = EpochEnd | Diverged  # how an epoch ends
Event = BatchEnd | EpochEnd | Diverged  # BatchProgress is a BatchEnd


def warm_up() -> None:
    """Pay torch's one-off costs in this process (optimizer imports, first kernels) on a tiny run."""
    Engine(TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 8}, "epochs": 1})).train_epoch()


def _start(model: torch.nn.Sequential, plan, config: TrainConfig):
    """`transfer.start_model`, its problems as the config's start_from's."""
    from .transfer import TransferError, start_model

    try:
        return start_model(model, plan, config)
    except TransferError as error:
        raise ConfigError("start_from", str(error)) from None


def load_dataset(config: TrainConfig) -> Dataset:
    d = config.dataset
    return make_dataset(d.name, d.values, d.test_fraction, d.seed, d.table, d.classroom)


class Engine:
    """Trains the model a TrainConfig describes. Not thread-safe: drive it from one thread."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, initial_state: dict | None = None,
                 trained: bool = False):
        """`initial_state`: a state_dict (from a checkpoint) to continue training from. `trained`: the
        engine of a finished model, to evaluate and predict only: `initial_state`'s tensors become its
        weights as they are (not copied) and nothing is kept for training."""
        self.config = config
        self.dataset = dataset if dataset is not None else load_dataset(config)
        self.device = resolve_device(config.device)
        self.plan = plan_for(config)
        problem = batch_problem(self.plan, config.batch_size, len(self.dataset.y_train))
        if problem:
            raise ConfigError("batch_size", problem)
        self.loss_spec = LOSSES[config.loss]
        self.loss_fn = self.loss_spec.make()
        self.model = self._build_model()
        self.start_report = None  # what starting from `config.start_from` kept (`transfer.Report`)
        if initial_state is not None:
            self.model.load_state_dict(initial_state, assign=trained)
        elif config.start_from:
            self.start_report = _start(self.model, self.plan, config)
        freeze_layers(self.model, config.freeze)
        self.model.to(self.device)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters())
        self.base_lr = config.optimizer.lr
        # The plateau schedule's cuts: it steps on each evaluated epoch's test loss (the training loss when
        # there is no test split), so its patience counts evaluations: epochs up to MAX_TEST_POINTS epochs.
        self.plateau = (Plateau(config.schedule.factor, config.schedule.patience)
                        if config.schedule.name == "plateau" else None)
        self.epoch = 0
        self.seconds = 0.0
        self.samples = 0  # training samples processed, for images/s
        self.test_predictions: tuple[np.ndarray, np.ndarray] | None = None  # latest (labels, confidence)
        # Only image classifiers are inspected per test image; toy runs skip the cost on every evaluation.
        self._keep_predictions = self.dataset.is_image and self.dataset.task == CLASSIFICATION
        self._eval_chunk = max(1, EVAL_MEMORY // (4 * self.plan.activations_per_sample))
        self.eval_every = max(1, round(config.epochs / MAX_TEST_POINTS))
        self._batch_order = torch.Generator().manual_seed(config.seed)
        self._augment_order = augment_generator(config)  # None when the run does not augment
        self._train = self._tensors(self.dataset.x_train, self.dataset.y_train)
        self._test = self._tensors(self.dataset.x_test, self.dataset.y_test)
        self._n_batches = self._batch_count()  # per epoch, fixed for the run
        self._sums_on_device = self.device.type != "cpu"  # where _Sums keeps its running sums
        self._state = list(self.model.state_dict().values())  # live views of every weight and buffer
        # Weights whose loss was seen to be finite (restored on divergence) and the current epoch's start.
        self._verified = None if trained else [t.detach().clone() for t in self._state]
        self._epoch_start = None if trained else [t.detach().clone() for t in self._state]
        self._verified_epoch = 0
        self._rng_state = self._seeded_rng_state()
        self._cut_short = False  # cut_epoch_short() was called during the epoch in progress

    def fork(self) -> "Engine":
        """A twin of this engine between epochs: the same data (shared), weights, optimizer state, batch
        order, RNG state, schedule position and counters, so it trains on exactly as this one would.
        Call it from the thread that drives this engine, never in the middle of an epoch."""
        twin = Engine(self.config, dataset=self.dataset, initial_state=self.model.state_dict())
        twin.start_report = self.start_report
        with torch.no_grad():
            torch._foreach_copy_(twin._state, self._state)
        twin.optimizer.load_state_dict(copy.deepcopy(self.optimizer.state_dict()))
        twin._batch_order.set_state(self._batch_order.get_state())
        if self._augment_order is not None:
            twin._augment_order.set_state(self._augment_order.get_state())
        twin._rng_state = None if self._rng_state is None else self._rng_state.clone()
        twin.base_lr, twin.epoch, twin.seconds, twin.samples = self.base_lr, self.epoch, self.seconds, self.samples
        twin.test_predictions = self.test_predictions
        twin._verified = [t.detach().clone() for t in self._verified]
        twin._verified_epoch = self._verified_epoch
        twin.plateau = self.plateau and Plateau(**self.plateau.state())
        return twin

    def training_state(self) -> dict:
        """Copies of what training goes on from, between epochs (the inverse of `continue_from`, whose
        weights come as `initial_state`): model_state, optimizer_state (torch.optim's state of each
        parameter, in order), epoch, seconds, base_lr, batch_order, verified_state, verified_epoch, plateau
        (the plateau schedule's state, or None), and augment_order (the augmentation generator's state)
        when the run augments its images."""
        names = list(self.model.state_dict())
        per_param, n_params = self.optimizer.state_dict()["state"], len(self.optimizer.param_groups[0]["params"])
        return {"model_state": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
                "optimizer_state": [copy.deepcopy(per_param.get(i, {})) for i in range(n_params)],
                "epoch": self.epoch, "seconds": self.seconds, "base_lr": self.base_lr,
                "batch_order": self._batch_order.get_state(),
                "verified_state": dict(zip(names, (t.clone() for t in self._verified))),
                "verified_epoch": self._verified_epoch, "plateau": self.plateau and self.plateau.state(),
                **({"augment_order": self._augment_order.get_state()} if self._augment_order is not None else {})}

    def continue_from(self, optimizer_state: list[dict] | None, batch_order: torch.Tensor, epoch: int,
                      seconds: float, samples: int = 0, verified: dict | None = None,
                      verified_epoch: int | None = None, augment_order: torch.Tensor | None = None,
                      plateau: dict | None = None) -> "Engine":
        """Go on from a training state kept elsewhere (a stacked run's `batched.Snapshot`, whose weights
        came as `initial_state`): torch.optim's per-parameter state (None or empty dicts: fresh), the
        batch-order generator's state, the epochs, seconds and samples trained so far, and the weights last
        seen to give a finite loss with their epoch (restored if the next epoch diverges; default: the
        current weights at `epoch`), the augmentation generator's state (None: from the seed) and the
        plateau schedule's state (None: fresh). Call it before training; returns self."""
        if optimizer_state and any(optimizer_state):
            saved = self.optimizer.state_dict()
            saved["state"] = {i: state for i, state in enumerate(optimizer_state) if state}
            self.optimizer.load_state_dict(saved)
        self._batch_order.set_state(batch_order)
        if augment_order is not None:
            self._augment_order.set_state(augment_order)
        self.epoch, self.seconds, self.samples = epoch, seconds, samples
        if verified is not None:
            self._verified = [verified[name].detach().to(self.device, copy=True) for name in self.model.state_dict()]
        self._verified_epoch = epoch if verified_epoch is None else verified_epoch
        if plateau is not None and self.plateau is not None:
            self.plateau = Plateau(**plateau)
        return self

    def release_training(self) -> None:
        """Free what only training needs (the optimizer's state, the weight copies that undo a
        diverged epoch) once training is over: the engine can still evaluate and predict, not train."""
        self.optimizer.state.clear()
        self._verified = self._epoch_start = None

    # --- set-up -----------------------------------------------------------------------------

    def _build_model(self) -> torch.nn.Sequential:
        mean = std = None
        if self.dataset.normalization is not None:
            mean, std = (torch.tensor(v) for v in self.dataset.normalization)
        elif self.dataset.standardize:
            x = torch.from_numpy(self.dataset.x_train)
            mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
        with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            return build_model(self.plan, mean, std)

    def _seeded_rng_state(self) -> torch.Tensor | None:
        """This run's own CPU RNG state for Dropout masks, or None when no layer draws random numbers."""
        if not any(spec["type"] in RANDOM_LAYERS for spec in self.plan.layers):
            return None
        with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 1)
            return torch.get_rng_state()

    def _own_rng(self) -> contextlib.AbstractContextManager:
        """Run the block with this run's RNG state, so Dropout masks depend only on the seed.

        (On CUDA, Dropout uses the device's generator, which this does not isolate.)
        """
        return _NO_CONTEXT if self._rng_state is None else self._with_own_rng_state()

    @contextlib.contextmanager
    def _with_own_rng_state(self) -> Iterator[None]:
        """Swap this run's RNG state in and out (as fork_rng does, a little faster: it runs every batch)."""
        with _GLOBAL_RNG_LOCK:
            global_state = torch.get_rng_state()
            torch.set_rng_state(self._rng_state)
            try:
                yield
                self._rng_state = torch.get_rng_state()
            finally:
                torch.set_rng_state(global_state)

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        targets = self.loss_spec.targets(torch.from_numpy(y))
        return torch.from_numpy(x).to(self.device), targets.to(self.device)

    # --- training -----------------------------------------------------------------------------

    def run(self) -> Iterator[Event]:
        """Yield the events of every remaining epoch; stops after `config.epochs` or at divergence."""
        while self.epoch < self.config.epochs:
            for event in self.epoch_events():
                yield event
            if isinstance(event, Diverged):
                return

    def train_epoch(self) -> EpochEvent:
        """Train one epoch and return how it ended, passing over its batch events."""
        for event in self.epoch_events():
            pass
        return event

    def set_learning_rate(self, lr: float) -> None:
        """Change the base learning rate; the schedule applies on top from the next epoch."""
        self.base_lr = float(lr)

    @property
    def lr(self) -> float:
        """This epoch's rate: the schedule's for the base rate (set by hand or configured), plateau's cuts on top."""
        lr = scheduled_lr(self.base_lr, self.config.schedule, self.epoch, self.config.epochs, self.config.optimizer.lr)
        return lr if self.plateau is None else lr * self.plateau.scale

    def cut_epoch_short(self) -> None:
        """End the epoch in progress with the batch just trained: call it on a BatchEnd, before pulling
        the next event, which is then that epoch's EpochEnd (or Diverged) over the batches trained."""
        self._cut_short = True

    def epoch_events(self) -> Iterator[Event]:
        """One pass over the training data: a BatchEnd after every batch but the last, then an EpochEnd
        (or Diverged). Time the caller holds a BatchEnd (a pause) does not count as training time."""
        started = time.perf_counter()
        lr = self.lr
        set_learning_rate(self.optimizer, lr)
        if not self.model.training:  # evaluate() and predict() leave it in eval mode
            self.model.train()
            hold_frozen_norms(self.model, self.config.freeze)  # frozen layers' BatchNorm keeps its averages
        evaluate = self._evaluate_now(self.epoch + 1)
        sums = self._sums(scores=evaluate)
        # The state_dict's tensors are detached views, so this copy records no autograd graph.
        torch._foreach_copy_(self._epoch_start, self._state)
        held = yield from self._train_batches(sums)
        self.epoch += 1
        train = sums.metrics(self._train[1])
        if not math.isfinite(train.loss):
            yield self._diverged()
            return
        # The loss just measured belongs to the weights this epoch started from: they are verified.
        self._verified, self._epoch_start = self._epoch_start, self._verified
        self._verified_epoch = self.epoch - 1
        test = self.evaluate("test") if evaluate and len(self._test[0]) else None
        if self.plateau is not None and evaluate:
            self.plateau.step((train if test is None else test).loss)
        self.seconds += time.perf_counter() - started - held
        yield EpochEnd(self.epoch, train, test, lr, self.seconds)

    def _train_batches(self, sums: _Sums) -> Generator[BatchEnd, None, float]:
        """Train on each batch of the epoch, adding it to `sums`, and yield a BatchEnd after each but
        the last (a BatchProgress every few). Returns the seconds the caller held those events."""
        n_batches, held, self._cut_short = self._n_batches, 0.0, False
        report_every = max(1, n_batches // REPORTS_PER_EPOCH) if n_batches >= 10 else 0
        window = self._sums(scores=False)  # the batches since the previous BatchProgress
        for number, (xb, yb) in enumerate(self._batches(), 1):
            loss, out = self._train_step(xb, yb)
            sums.add(loss, out, yb)
            self.samples += len(yb)
            if report_every:
                window.add(loss, out, yb)  # summed on the device: one sync per report
            if number == n_batches:
                break
            event = BATCH_END
            if report_every and number % report_every == 0:
                event = BatchProgress(self.epoch + number / n_batches, window.metrics(yb).loss, self.samples)
                window = self._sums(scores=False)
            handed_out = time.perf_counter()
            yield event
            held += time.perf_counter() - handed_out
            if self._cut_short:
                break
        return held

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on a batch; its mean loss and its outputs, without autograd history.

        Its own RNG is taken and given back around each step, never held while the caller has an event."""
        with self._own_rng():
            out = self.model(xb)
            loss = self.loss_fn(out, yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return loss.detach(), out.detach()

    def _evaluate_now(self, epoch: int) -> bool:
        """Scores are measured on epoch 1, every eval_every epochs and the last epoch."""
        return epoch % self.eval_every == 0 or epoch in (1, self.config.epochs)

    def _batch_count(self) -> int:
        return len(_batch_starts(len(self._train[1]), self.config.batch_size))

    def _sums(self, scores: bool = True) -> _Sums:
        return _Sums(self.loss_spec.output, self.dataset.task, scores, on_device=self._sums_on_device)

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The epoch's training batches, in a fresh random order, each augmented when the run augments."""
        x, y = self._train
        if self._n_batches == 1:
            yield self._augmented(x), y
            return
        n = len(x)
        starts = _batch_starts(n, self.config.batch_size)
        order = torch.randperm(n, generator=self._batch_order).to(self.device)
        for start, end in zip(starts, starts[1:] + [n]):
            index = order[start:end]
            yield self._augmented(x[index]), y[index]

    def _augmented(self, xb: torch.Tensor) -> torch.Tensor:
        settings = self.config.augment
        if settings is None:
            return xb
        return augment(xb, self._augment_order, settings.crop, settings.flip, settings.rotate)

    def _diverged(self) -> Diverged:
        """Restore the latest weights whose loss was seen finite; a fresh optimizer drops NaN moments."""
        bad_epoch, lr = self.epoch, self.lr
        self.epoch = self._verified_epoch
        with torch.no_grad():
            torch._foreach_copy_(self._state, self._verified)
        self.optimizer = make_optimizer(self.config.optimizer, self.model.parameters())
        return Diverged(bad_epoch, f"The loss became NaN or infinite in epoch {bad_epoch}, so training stopped "
                                   f"and the model was restored to epoch {self.epoch}. Try a smaller learning "
                                   f"rate (it was {lr:g}).")

    # --- evaluation ---------------------------------------------------------------------------

    @torch.inference_mode()
    def evaluate(self, split: str = "test") -> Metrics | None:
        """Metrics on the whole "train" or "test" split in eval mode; None if the split is empty."""
        x, y = self._train if split == "train" else self._test
        if len(x) == 0:
            return None
        self.model.eval()
        sums = self._sums()
        labels, confidence = [], []
        for start in range(0, len(x), self._eval_chunk):
            xb, yb = x[start:start + self._eval_chunk], y[start:start + self._eval_chunk]
            out = self.model(xb)
            sums.add(self.loss_fn(out, yb), out, yb)
            if split == "test" and self._keep_predictions:
                top = class_probabilities(self.loss_spec.output, out).max(dim=1)
                labels.append(top.indices.to(torch.int16))
                confidence.append(top.values.float())
        if labels:
            self.test_predictions = (torch.cat(labels).cpu().numpy(), torch.cat(confidence).cpu().numpy())
        return sums.metrics(y)

    @torch.inference_mode()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """(N, C) class probabilities for classification, (N, 1) values for regression."""
        self.model.eval()
        x = torch.as_tensor(x, device=self.device)
        x = x if x.dtype == torch.uint8 else x.float()
        chunks = []
        for start in range(0, len(x), self._eval_chunk):
            out = self.model(x[start:start + self._eval_chunk])
            if self.dataset.task == CLASSIFICATION:
                out = class_probabilities(self.loss_spec.output, out)
            chunks.append(out.float().cpu())
        return torch.cat(chunks).numpy() if chunks else np.zeros((0, 1), np.float32)

    def first_conv_filters(self) -> np.ndarray | None:
        """A copy of the first Conv2d's weights (out, in, k, k), or None when the model has none."""
        conv = next((m for m in self.model.modules() if isinstance(m, torch.nn.Conv2d)), None)
        return None if conv is None else conv.weight.detach().float().cpu().numpy().copy()

    def final_metrics(self) -> dict[str, float | int | None]:
        """The CLI's summary: epochs and train/test loss and accuracy (or R^2 and MSE)."""
        result: dict[str, float | int | None] = {"epochs": self.epoch}
        for split in ("train", "test"):
            metrics = self.evaluate(split)
            result[f"{split}_loss"] = metrics.loss if metrics else None
            if self.dataset.task == CLASSIFICATION:
                result[f"{split}_accuracy"] = metrics.accuracy if metrics else None
            else:
                result[f"{split}_r2"] = metrics.r2 if metrics else None
                result[f"{split}_mse"] = metrics.mse if metrics else None
        if self.dataset.task != CLASSIFICATION:
            result["r2"] = result["test_r2"] if result["test_r2"] is not None else result["train_r2"]
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.items()}


def augment_generator(config: TrainConfig) -> torch.Generator | None:
    """The generator of a run's augmentation draws, seeded from its seed; None when it does not augment."""
    return torch.Generator().manual_seed(config.seed + 2) if config.augment else None  # +1: Dropout's


def _batch_starts(n: int, size: int) -> list[int]:
    """Start index of each batch of an epoch; a last batch of one sample (it breaks BatchNorm) is merged."""
    if size == 0 or size >= n:
        return [0]
    starts = list(range(0, n, size))
    if n - starts[-1] == 1 and len(starts) > 1:
        starts.pop()
    return starts


class _Sums:
    """Running float32 sums over batches: loss x batch size, correct predictions or squared errors.

    On an accelerator they stay tensors, so the device is synchronised once per epoch. On the CPU,
    where reading a number costs nothing, they are Python floats rounded to float32 at each step:
    the same bits as the tensors, without a tensor operation or two per batch.
    """

    def __init__(self, output_kind: str, task: str, scores: bool = True, on_device: bool = False):
        self.output_kind, self.task, self.scores = output_kind, task, scores  # scores: accuracy / R^2 too
        self.on_device = on_device
        self.loss = self.squared_error = 0.0
        self.hits = 0
        self.count = 0

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor) -> None:
        """`loss`: the batch's mean loss and `out` its outputs, both without autograd history."""
        n = len(y)
        if self.on_device:
            self.loss = self.loss + loss * n
        else:
            self.loss = _float32(self.loss + _float32(loss.item() * n))
        self.count += n
        if not self.scores:
            return
        if self.task == CLASSIFICATION:
            labels = y if y.dim() == 1 else y[:, 0].long()
            hits = (predicted_classes(self.output_kind, out) == labels).sum()
            self.hits = self.hits + (hits if self.on_device else hits.item())
        else:
            squared_error = ((out - y) ** 2).sum()
            if self.on_device:
                self.squared_error = self.squared_error + squared_error
            else:
                self.squared_error = _float32(self.squared_error + squared_error.item())

    def metrics(self, all_targets: torch.Tensor) -> Metrics:
        loss = float(self.loss) / self.count
        if not self.scores:
            return Metrics(loss)
        if self.task == CLASSIFICATION:
            return Metrics(loss, accuracy=float(self.hits) / self.count)
        mse = float(self.squared_error) / self.count
        variance = float(all_targets.float().var(unbiased=False))
        r2 = 1.0 - mse / variance if variance > 0 else float("nan")
        return Metrics(loss, r2=r2, mse=mse)


_FLOAT32 = struct.Struct("f")


def _float32(x: float) -> float:
    """x rounded to the nearest float32, as torch rounds a float32 result (inf beyond its range).

    A product or sum of two float32 values is exact or correctly rounded in a Python float (53 bits
    >= 2 x 24 + 2), so rounding it once more to float32 gives the float32 operation's result.
    """
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(x))[0]
    except OverflowError:  # finite, but rounds to infinity in float32
        return math.copysign(math.inf, x)
