"""The one run configuration: frozen dataclasses with a strict JSON round trip.

The page edits a `TrainConfig`, the CLI reads one from a file and checkpoints store one, so each
always means the same run. `TrainConfig.from_dict` fills defaults and rejects bad values with a
`ConfigError` naming the key ("optimizer.lr: must be > 0"). This module checks values and
names only; whether a layer stack fits the data is the model builder's job.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .checks import check_number, clip, quote, read_int
from .datasets import CLASS_DIGITS, CSV, DATASETS, ClassChoice, TableChoice
from .layers import MAX_LAYERS, LayerError, check_spec
from .losses import DEFAULT_LOSS, LOSSES, task_problem
from .optim import OPTIMIZER_DEFAULTS, OPTIMIZERS, SCHEDULES
from .tasks import CLASSIFICATION, TASKS

DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_EPOCHS = 100_000
MAX_CONFIG_CHARS = 1_000_000  # a config file is a few KB; a longer text is refused before it is parsed
BOM = "\ufeff"  # some editors start UTF-8 files with it; it is not part of the JSON


class ConfigError(ValueError):
    """A bad config value; `key` is its dotted path, e.g. "optimizer.lr" or "layers[2].out"."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class DatasetConfig:
    name: str = "spiral"
    params: tuple[tuple[str, float], ...] = (("classes", 3), ("n_per_class", 1000), ("noise", 0.2))
    test_fraction: float = 0.2
    seed: int = 12345  # data generation and the train/test split
    table: TableChoice | None = None  # the "csv" dataset: which uploaded table, label, features, task
    # The table's class count as a checkpoint recorded it: a saved model loads without its table.
    stored_classes: int | None = field(default=None, compare=False)
    classroom: ClassChoice | None = None  # the "class_digits" dataset: whose drawings (the class's code)

    @property
    def values(self) -> dict[str, float]:
        return dict(self.params)

    @property
    def task(self) -> str:
        return self.table.task if self.table else DATASETS[self.name].task

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample input shape: (features,) or (C, H, W)."""
        return (len(self.table.features),) if self.table else DATASETS[self.name].shape_for(self.values)

    @property
    def n_classes(self) -> int:
        """Number of classes this dataset will have (0 for regression); a table's are counted in the file."""
        spec = DATASETS[self.name]
        if self.task != CLASSIFICATION:
            return 0
        if self.table:
            return self.stored_classes if self.stored_classes is not None else _table_classes(self.table)
        return int(self.values.get("classes", len(spec.class_names) or 2))

    def to_dict(self) -> dict:
        table = self.table.to_dict() if self.table else self.classroom.to_dict() if self.classroom else {}
        return {"name": self.name, **self.values, **table, "test_fraction": self.test_fraction, "seed": self.seed}

    @property
    def data_version(self) -> tuple | None:
        """Which drawings a class's dataset was pinned to (not in `to_dict`): runs on other ones differ."""
        return (self.classroom.upto, self.classroom.count) if self.classroom else None


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0  # sgd, rmsprop
    nesterov: bool = False  # sgd, needs momentum > 0
    betas: tuple[float, float] = OPTIMIZER_DEFAULTS["betas"]  # adam, adamw: averaging of gradients, squares
    eps: float = OPTIMIZER_DEFAULTS["eps"]  # adam, adamw: added to the denominator
    alpha: float = OPTIMIZER_DEFAULTS["alpha"]  # rmsprop: averaging of squared gradients
    rho: float = OPTIMIZER_DEFAULTS["rho"]  # adadelta: averaging of squared gradients and steps
    lr_decay: float = OPTIMIZER_DEFAULTS["lr_decay"]  # adagrad: lr / (1 + (step - 1) * lr_decay)

    def to_dict(self) -> dict:
        extra = {key: getattr(self, key) for key in OPTIMIZERS[self.name].options}
        more = {key: _plain(getattr(self, key)) for key in OPTIMIZERS[self.name].more
                if getattr(self, key) != OPTIMIZER_DEFAULTS[key]}  # only changed ones: old configs stay as they were
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay, **extra, **more}


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "none"  # none | step | cosine | multistep | exponential | onecycle | plateau
    step_size: int = 100  # step: epochs between decays
    gamma: float = 0.5  # step, multistep, exponential: factor per decay
    milestones: tuple[int, ...] = (50, 75)  # multistep: the epochs at which the rate decays
    factor: float = 0.1  # plateau: the factor per cut
    patience: int = 10  # plateau: evaluations without improvement that a cut waits for
    max_lr: float = 0.01  # onecycle: the peak rate (the configured one is not used)

    def to_dict(self) -> dict:
        return {"name": self.name, **{key: _plain(getattr(self, key)) for key in SCHEDULES[self.name].keys}}


@dataclass(frozen=True)
class AugmentConfig:
    """Random changes to every training batch of images (`augment.py`); test images are never changed."""

    crop: int = 0  # pixels of zero padding before a random crop back to the image's size; 0: no crop
    flip: bool = False  # mirror each image left to right with probability 1/2
    rotate: float = 0.0  # turn each image by a random angle in [-rotate, rotate] degrees; 0: no turn

    def to_dict(self) -> dict:
        return {"crop": self.crop, "flip": self.flip, "rotate": self.rotate}


@dataclass(frozen=True)
class TrainConfig:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    layers: tuple[dict, ...] = ({"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"})
    loss: str = "cross_entropy"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    epochs: int = 1000
    batch_size: int = 0  # 0 = full batch
    seed: int = 12345  # model initialisation and batch order
    device: str = "auto"  # auto | cpu | cuda | mps
    augment: AugmentConfig | None = None  # image datasets: random crop, flip, rotation of training batches
    start_from: str | None = None  # a saved model to start from (see `transfer`); None: fresh weights
    freeze: int = 0  # the first `freeze` layers do not learn
    # Whether start_from may be a file's path: the command line's choice, never written out (`to_dict`).
    start_path_allowed: bool = field(default=False, compare=False)

    def to_dict(self) -> dict:
        augment = {"augment": self.augment.to_dict()} if self.augment else {}  # absent when off
        return {"dataset": self.dataset.to_dict(), "layers": [dict(s) for s in self.layers],
                "loss": self.loss, "optimizer": self.optimizer.to_dict(), "schedule": self.schedule.to_dict(),
                "epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed, "device": self.device,
                **augment, **_transfer_dict(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def replace(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)

    @classmethod
    def from_json(cls, text: str, table_classes: int | None = None, *, allow_paths: bool = False) -> "TrainConfig":
        """The config in JSON `text` (a leading BOM is ignored); ConfigError when it is not one.

        `table_classes`: a csv dataset's class count known from elsewhere (a checkpoint), so its
        table is not read. `allow_paths`: a csv dataset may name its table by a file's path (the
        command line's choice; the app never allows it).
        """
        return cls.from_dict(_parse_json(text), table_classes, allow_paths=allow_paths)

    @classmethod
    def from_dict(cls, data: Any, table_classes: int | None = None, *, allow_paths: bool = False) -> "TrainConfig":
        """The config in JSON-like `data`; ConfigError naming the key when it is not one (see `from_json`)."""
        _expect_object("config", data)
        _reject_unknown("", data, {"dataset", "layers", "loss", "optimizer", "schedule", "epochs",
                                   "batch_size", "seed", "device", "augment", "start_from", "freeze"})
        dataset = _dataset(data.get("dataset", {"name": "spiral"}), table_classes, allow_paths)
        default_loss = DEFAULT_LOSS[dataset.task]
        layers = _layers(data.get("layers", list(cls.layers)))
        return cls(dataset=dataset,
                   layers=layers,
                   loss=_loss(data.get("loss", default_loss), dataset),
                   optimizer=_optimizer(data.get("optimizer", {})),
                   schedule=_schedule(data.get("schedule", {})),
                   epochs=_number("epochs", data.get("epochs", 1000), int, 1, MAX_EPOCHS),
                   batch_size=_number("batch_size", data.get("batch_size", default_batch(dataset.name)),
                                      int, 0, 1_000_000),
                   seed=_number("seed", data.get("seed", 12345), int, 0, 2**32 - 1),
                   device=_choice("device", data.get("device", "auto"), DEVICES),
                   augment=_augment(data.get("augment"), dataset),
                   **_transfer(data, layers, allow_paths))


def _parse_json(text: str) -> Any:
    """JSON text as Python data; ConfigError for text that is too long, too deep or not JSON."""
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError("config", f"is {len(text):,} characters long; a config is at most "
                                    f"{MAX_CONFIG_CHARS:,} (the page's Download config gives a few thousand)")
    try:
        return json.loads(text.removeprefix(BOM), parse_int=read_int)
    except json.JSONDecodeError as error:
        raise ConfigError("config", f"not valid JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        raise ConfigError("config", "is nested too deeply to read (lists or objects inside each other "
                                    "hundreds of levels deep); a config is at most a few levels deep") from None


def default_batch(dataset: str) -> int:
    """Full batch (0) for the small toy sets, mini-batches of 64 for images."""
    return 64 if DATASETS[dataset].is_image else 0


def _dataset(data: Any, table_classes: int | None, allow_paths: bool) -> DatasetConfig:
    _expect_object("dataset", data)
    name = _choice("dataset.name", data.get("name", "spiral"), tuple(DATASETS))
    spec = DATASETS[name]
    table_keys = {"file", "label", "features", "task"} if name == CSV else {"class"} if name == CLASS_DIGITS else set()
    _reject_unknown("dataset.", data, {"name", "test_fraction", "seed", *table_keys, *(p.name for p in spec.params)},
                    f"'{name}'")
    params = tuple((p.name, _number(f"dataset.{p.name}", data.get(p.name, p.default),
                                    int if p.integer else float, p.low, p.high)) for p in spec.params)
    return DatasetConfig(name=name, params=params,
                         test_fraction=_number("dataset.test_fraction", data.get("test_fraction", spec.test_fraction),
                                               float, 0.0, 0.9),
                         seed=_number("dataset.seed", data.get("seed", 12345), int, 0, 2**32 - 1),
                         table=_table(data, table_classes, allow_paths) if name == CSV else None,
                         stored_classes=table_classes if name == CSV else None,
                         classroom=_classroom(data) if name == CLASS_DIGITS else None)


def _classroom(data: Mapping) -> ClassChoice:
    """The class whose drawings the class_digits dataset holds, by its join code."""
    from .class_names import check_code

    try:
        return ClassChoice(check_code(data.get("class")))
    except ValueError as error:
        raise ConfigError("dataset.class", f"the class_digits dataset needs its class's code: {error}") from None


def _table(data: Mapping, table_classes: int | None, allow_paths: bool) -> TableChoice:
    """The csv dataset's table choice; unless its class count is known (`table_classes`), the file is
    read to check the columns and count the classes. `allow_paths`: the file may be a CSV file's path."""
    for key in ("file", "label"):
        if not isinstance(data.get(key), str) or not data.get(key):
            raise ConfigError(f"dataset.{key}", "the csv dataset needs a file (an uploaded table's id or a .csv path) "
                                                "and a label column name")
    features = data.get("features")
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise ConfigError("dataset.features", "must be a non-empty list of column names")
    task = _choice("dataset.task", data.get("task"), TASKS)
    choice = TableChoice(data["file"], data["label"], tuple(features), task, allow_path=allow_paths)
    if table_classes is None:
        _table_classes(choice)
    return choice


def _table_classes(table: TableChoice) -> int:
    """Number of classes in the table's label column (0 for regression); ConfigError if it cannot be read."""
    from .datasets import table_columns
    from .tabular import TableError

    try:
        return len(table_columns(table).class_names)
    except TableError as error:
        raise ConfigError(_table_key(table, error.message), error.message) from None


def _table_key(table: TableChoice, message: str) -> str:
    """Which setting a table problem belongs to: the label column, a feature column, or the file."""
    if f'"{table.label}"' in message:
        return "dataset.label"
    if any(f'"{name}"' in message for name in table.features):
        return "dataset.features"
    return "dataset.file"


def _layers(data: Any) -> tuple[dict, ...]:
    if not isinstance(data, list):
        raise ConfigError("layers", "must be a list of layer objects, e.g. [{\"type\": \"linear\"}]")
    if len(data) > MAX_LAYERS:
        raise ConfigError("layers", f"{len(data):,} layers is over the limit of {MAX_LAYERS}: use a shorter stack")
    clean = []
    for i, spec in enumerate(data):
        try:
            clean.append(check_spec(i, spec))
        except LayerError as error:
            raise ConfigError(f"layers[{i}]" + (f".{error.param}" if error.param else ""), error.message) from None
    return tuple(clean)


def _loss(name: Any, dataset: DatasetConfig) -> str:
    name = _choice("loss", name, tuple(LOSSES))
    problem = task_problem(LOSSES[name], dataset.task, dataset.n_classes)
    if problem:
        raise ConfigError("loss", problem)
    return name


def _optimizer(data: Any) -> OptimizerConfig:
    _expect_object("optimizer", data)
    name = _choice("optimizer.name", data.get("name", "adam"), tuple(OPTIMIZERS))
    options, more = OPTIMIZERS[name].options, OPTIMIZERS[name].more
    _reject_unknown("optimizer.", data, {"name", "lr", "weight_decay", *options, *more}, f"'{name}'")
    momentum = _number("optimizer.momentum", data.get("momentum", 0.0), float, 0.0, 0.999)
    nesterov = data.get("nesterov", False)
    if not isinstance(nesterov, bool):
        raise ConfigError("optimizer.nesterov", f"must be true or false, got {nesterov!r}")
    if nesterov and momentum <= 0:
        raise ConfigError("optimizer.nesterov", "Nesterov needs momentum > 0: set optimizer.momentum, e.g. 0.9")
    lr = _number("optimizer.lr", data.get("lr", 1e-3), float, 0.0, 10.0)
    if lr <= 0:
        raise ConfigError("optimizer.lr", "must be greater than 0")
    return OptimizerConfig(name=name, lr=lr, momentum=momentum, nesterov=nesterov,
                           weight_decay=_number("optimizer.weight_decay", data.get("weight_decay", 0.0),
                                                float, 0.0, 1.0), **_optimizer_more(data, more))


def _schedule(data: Any) -> ScheduleConfig:
    if isinstance(data, str):
        data = {"name": data}
    _expect_object("schedule", data)
    name = _choice("schedule.name", data.get("name", "none"), tuple(SCHEDULES))
    _reject_unknown("schedule.", data, {"name", *SCHEDULES[name].keys}, f"'{name}'")
    gamma = data.get("gamma", 0.99 if name == "exponential" else 0.1 if name == "multistep" else 0.5)
    return ScheduleConfig(name=name,
                          step_size=_number("schedule.step_size", data.get("step_size", 100), int, 1, MAX_EPOCHS),
                          gamma=_number("schedule.gamma", gamma, float, 0.001, 1.0),
                          milestones=_milestones(data.get("milestones", list(ScheduleConfig.milestones))),
                          factor=_number("schedule.factor", data.get("factor", 0.1), float, 0.001, 0.999),
                          patience=_number("schedule.patience", data.get("patience", 10), int, 0, MAX_EPOCHS),
                          max_lr=_positive("schedule.max_lr", data.get("max_lr", 0.01), 10.0))


def _milestones(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= 100:
        raise ConfigError("schedule.milestones",
                          f"must be a list of 1 to 100 epochs, e.g. [30, 60]; got {quote(value)}")
    epochs = tuple(_number(f"schedule.milestones[{i}]", v, int, 1, MAX_EPOCHS) for i, v in enumerate(value))
    if any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise ConfigError("schedule.milestones",
                          f"must rise from one epoch to the next, e.g. [30, 60]; got {list(epochs)}")
    return epochs


def _optimizer_more(data: Mapping, allowed: tuple[str, ...]) -> dict:
    """The "more" settings `data` gives (betas, eps, alpha, rho, lr_decay), checked; torch's defaults for the rest."""
    more = {}
    for key in (key for key in allowed if key in data):
        if key == "betas":
            more[key] = _betas(data[key])
        elif key == "eps":
            more[key] = _positive("optimizer.eps", data[key], 1.0)
        else:
            more[key] = _number(f"optimizer.{key}", data[key], float, 0.0, 1.0 if key != "alpha" else 0.9999)
    return more


def _betas(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError("optimizer.betas", f"must be a list of two numbers, e.g. [0.9, 0.999]; got {quote(value)}")
    return tuple(_number(f"optimizer.betas[{i}]", v, float, 0.0, 0.9999) for i, v in enumerate(value))


def _positive(key: str, value: Any, high: float) -> float:
    number = _number(key, value, float, 0.0, high)
    if number <= 0:
        raise ConfigError(key, "must be greater than 0")
    return number


def _plain(value: Any) -> Any:
    """A config value as JSON has it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


MAX_CROP, MAX_ROTATE = 8, 30  # pixels of padding, degrees: beyond them a digit stops looking like one


def _augment(data: Any, dataset: DatasetConfig) -> AugmentConfig | None:
    """The augmentation settings; None when absent or all off (so the config equals one without them)."""
    if data is None:
        return None
    _expect_object("augment", data)
    _reject_unknown("augment.", data, {"crop", "flip", "rotate"})
    flip = data.get("flip", False)
    if not isinstance(flip, bool):
        raise ConfigError("augment.flip", f"must be true or false, got {quote(flip)}")
    augment = AugmentConfig(crop=_number("augment.crop", data.get("crop", 0), int, 0, MAX_CROP), flip=flip,
                            rotate=float(_number("augment.rotate", data.get("rotate", 0.0), float, 0, MAX_ROTATE)))
    if augment == AugmentConfig():
        return None
    if not DATASETS[dataset.name].is_image:
        raise ConfigError("augment", f"crop, flip and rotate change images: '{dataset.name}' is not an image "
                                     "dataset (leave augment out, or pick one of: "
                                     f"{', '.join(n for n, spec in DATASETS.items() if spec.is_image)})")
    return augment


def _transfer_dict(config: TrainConfig) -> dict:
    """start_from and freeze, each only when set (so configs without them stay as they were)."""
    return {**({"start_from": config.start_from} if config.start_from else {}),
            **({"freeze": config.freeze} if config.freeze else {})}


def _transfer(data: Mapping, layers: tuple[dict, ...], allow_paths: bool) -> dict:
    """The transfer settings: start_from (see `transfer.check_start_from`) and freeze, which must leave the
    last Linear layer (the head) learning."""
    from .start_ids import check_start_from

    start = data.get("start_from")
    if start is not None:
        try:
            start = check_start_from(start, allow_paths)
        except ValueError as error:
            raise ConfigError("start_from", str(error)) from None
    linear = [i for i, spec in enumerate(layers) if spec["type"] == "linear"]
    most = linear[-1] if linear else max(len(layers) - 1, 0)
    freeze = _number("freeze", data.get("freeze", 0), int, 0, MAX_LAYERS)
    if freeze > most:
        raise ConfigError("freeze", f"freezing {freeze} layers leaves nothing to learn: at most {most} "
                                    f"(layer {most + 1}, the last Linear, must learn)")
    return {"start_from": start, "freeze": freeze, "start_path_allowed": allow_paths and start is not None}


def _expect_object(key: str, data: Any) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(key, f"must be a JSON object, got {type(data).__name__}")


def _reject_unknown(prefix: str, data: Mapping, allowed: set[str], owner: str = "") -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        whose = f" for {owner}" if owner else ""
        raise ConfigError(f"{prefix}{clip(unknown[0])}",
                          f"unknown key{whose}; expected one of: {', '.join(sorted(allowed))}")


def _choice(key: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ConfigError(key, f"{quote(value)} is not one of: {', '.join(options)}")
    return value


def _number(key: str, value: Any, kind: type, low: float, high: float):
    try:
        return check_number(value, kind, low, high)
    except ValueError as error:
        raise ConfigError(key, str(error)) from None


def dataset_task(data: Mapping) -> tuple[str, int]:
    """The task and class count (0 for regression) of dataset settings `data` as the page edits them
    (`DatasetConfig.to_dict()` keys), which may not be a valid config yet: a table whose classes cannot
    be counted counts as 2 (parsing the config then names the problem)."""
    spec = DATASETS[data["name"]]
    if spec.is_table:
        task = data.get("task") or CLASSIFICATION
        return task, _table_classes_or_two(data) if task == CLASSIFICATION else 0
    return spec.task, int(data.get("classes", len(spec.class_names) or 2)) if spec.task == CLASSIFICATION else 0


def _table_classes_or_two(data: Mapping) -> int:
    try:
        return DatasetConfig(name=CSV, table=TableChoice(data["file"], data["label"], tuple(data["features"]),
                                                        data["task"])).n_classes
    except (ConfigError, KeyError):
        return 2


def needs_restart(running: TrainConfig, wanted: TrainConfig) -> bool:
    """Whether training `wanted` takes a new run: it differs from the `running` run's config in more than
    the learning rate (a run follows a new learning rate while it trains)."""
    return wanted.replace(optimizer=replace(wanted.optimizer, lr=running.optimizer.lr)) != running
