"""Export code: every registered choice writes a script that compiles without `playground`; the script
builds the app's data and initial weights, trains, and ends with the engine's numbers."""
import ast
import functools
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cifar_folder import write_cifar_folder
from playground import images
from playground.config import TrainConfig
from playground.datasets import DATASETS, make_dataset
from playground.engine import Engine, load_dataset
from playground.export import HITS, LAYER_CODE, LOSS_NOTES, NOT_EXPORTED, SCHEDULE_CODE, export_script, script_name
from playground.layers import LAYERS, RECURRENT_LAYERS
from playground.losses import LOSSES, VALUE
from playground.optim import OPTIMIZERS, SCHEDULES
from playground.presets import CIFAR_CNN
from playground.pretrained import LAYER_TYPES as PRETRAINED_LAYERS

MLP = [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}]
CNN = [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "flatten"},
       {"type": "linear"}]
SPIRAL = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 100},
          "layers": [{"type": "linear", "out": 32}, {"type": "relu"}, {"type": "linear"}],
          "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 200, "device": "cpu"}
CSV_TEXT = "length, width ,species\n" + "".join(
    f"{1 + (i * 7 % 10) / 10 + c},{2 - c * 0.5 + (i * 3 % 10) / 20},{name}\n"
    for i in range(20) for c, name in enumerate(["setosa", "versicolor", "virginica"]))
EMOJI_CSV = "temp \U0001f600,width,kind \U0001f338\n" + "".join(  # emoji names and labels, outside the BMP
    f"{1 + (i * 7 % 10) / 10 + c},{2 - c * 0.5},{label}\n"
    for i in range(20) for c, label in enumerate("\U0001f34e\U0001f34c"))


def config(**data) -> TrainConfig:
    """A CPU config from these keys (None: the default); a CSV may be named by its path, as on the command line."""
    return TrainConfig.from_dict({"device": "cpu", **{k: v for k, v in data.items() if v is not None}},
                                 allow_paths=True)


def imports(script: str) -> set[str]:
    """Every module the script imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


def namespace(script: str) -> dict:
    """The script's functions, without running its main()."""
    names = {"__name__": "exported"}
    exec(compile(script, "exported.py", "exec"), names)
    return names


def check_standalone(script: str) -> dict:
    assert script.endswith("\n") and not script.endswith("\n\n")
    compile(script, "exported.py", "exec")
    assert not any(name.split(".")[0] == "playground" for name in imports(script))
    return namespace(script)


def same_initial_weights(cfg: TrainConfig, model: torch.nn.Module) -> None:
    """The script's build_model gives the engine's initial weights (and buffers), key for key."""
    engine = Engine(cfg)
    expected, got = engine.model.state_dict(), model.state_dict()
    assert list(got) == list(expected)
    for key in expected:
        assert torch.equal(got[key].cpu(), expected[key].cpu()), key


def build(names: dict, cfg: TrainConfig) -> torch.nn.Module:
    """Call the script's build_model with the arguments its main() would pass."""
    if not DATASETS[cfg.dataset.name].is_image and not DATASETS[cfg.dataset.name].standardize:
        return names["build_model"]()
    dataset = load_dataset(cfg)
    if dataset.is_image:
        return names["build_model"](*dataset.normalization)
    return names["build_model"](torch.from_numpy(dataset.x_train))


# --- registries: everything has its code --------------------------------------------------------


def test_every_registered_choice_has_its_code():
    assert set(LAYER_CODE) == set(LAYERS)
    assert set(LOSS_NOTES) == set(LOSSES)
    assert set(SCHEDULE_CODE) == set(SCHEDULES)
    assert {spec.output for spec in LOSSES.values() if spec.output != VALUE} <= set(HITS)


@pytest.fixture
def table(tmp_path) -> Path:
    """A small CSV of three flower species that configs may name by its path (as the command line may)."""
    path = tmp_path / "flowers.csv"
    path.write_text(CSV_TEXT)
    return path


def dataset_config(name: str, table: Path) -> TrainConfig:
    if name == "csv":
        return config(dataset={"name": "csv", "file": str(table), "label": "species", "features": ["length", "width"],
                               "task": "classification"}, layers=MLP)
    if DATASETS[name].is_image:
        return config(dataset={"name": name}, layers=CNN)
    if DATASETS[name].sequence_shape:
        return config(dataset={"name": name}, layers=[{"type": "gru", "hidden": 4}, {"type": "linear"}])
    return config(dataset={"name": name}, layers=MLP)


@pytest.mark.parametrize("name", [name for name in DATASETS if name not in NOT_EXPORTED])  # test_class_digits
def test_every_dataset_writes_a_standalone_script(name, table):
    cfg = dataset_config(name, table)
    script = export_script(cfg)
    names = check_standalone(script)
    assert callable(names["make_data"]) and callable(names["build_model"])
    if name in ("mnist", "fashion_mnist", "cifar10"):
        assert "--data" in script and "torchvision" in imports(script)
    if name == "digits":
        same_initial_weights(cfg, build(names, cfg))


def test_odd_file_and_column_names_stay_valid_python(tmp_path):
    path = tmp_path / 'my "best" data\\.csv'
    path.write_text('temp (°C),"it\'s ""quoted""",kind\n' + "".join(f"{i},{i % 4},{'ab'[i % 2]}\n" for i in range(12)))
    features = ["temp (°C)", 'it\'s "quoted"']
    cfg = config(dataset={"name": "csv", "file": str(path), "label": "kind", "features": features,
                          "task": "classification"}, layers=MLP)
    names = check_standalone(export_script(cfg))
    assert names["FEATURES"] == features and names["LABEL"] == "kind"
    assert script_name(cfg) == "my_best_data_relu_net.py"


def layer_config(layer: str) -> TrainConfig:
    """A small stack using `layer`: image layers in a CNN on digits, the others in an MLP on moons."""
    spec = {"type": layer, **({"out": 4} if layer == "linear" else {})}
    if LAYERS[layer].accepts == "image" or layer == "flatten":
        flatten = [] if layer == "flatten" else [{"type": "flatten"}]
        return config(dataset={"name": "digits", "train_images": 50},
                      layers=[{"type": "conv2d", "out": 4, "kernel": 3}, spec, *flatten, {"type": "linear"}])
    if layer in RECURRENT_LAYERS:
        return config(dataset={"name": "sine_sequence", "n_samples": 40}, layers=[spec, {"type": "linear"}])
    if layer in ("softmax", "log_softmax"):
        return config(dataset={"name": "moons"}, layers=[*MLP, spec], loss="nll" if layer == "log_softmax" else None)
    return config(dataset={"name": "moons"}, layers=[MLP[0], spec, MLP[2]])


@pytest.mark.parametrize("layer", [name for name in LAYERS if name not in PRETRAINED_LAYERS])  # colour only: see
def test_every_layer_type_is_written_with_the_engines_initial_weights(layer):  # test_transfer.py for those
    cfg = layer_config(layer)
    script = export_script(cfg)
    model = build(check_standalone(script), cfg)
    same_initial_weights(cfg, model)
    constructor = LAYER_CODE[layer].template.split("(")[0]
    assert f"        {constructor}(" in script


def test_layers_are_written_as_readable_constructors():
    cfg = config(dataset={"name": "mnist"}, layers=[
        {"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "leaky_relu", "negative_slope": 0.1},
        {"type": "maxpool2d", "kernel": 2}, {"type": "residual", "stride": 2}, {"type": "flatten"},
        {"type": "dropout", "p": 0.3}, {"type": "linear"}])
    script = export_script(cfg)
    for line in ["nn.Conv2d(1, 32, kernel_size=3, padding=1),  # 1x28x28 -> 32x28x28",
                 "nn.LeakyReLU(negative_slope=0.1),", "nn.MaxPool2d(kernel_size=2),  # 32x28x28 -> 32x14x14",
                 "ResidualBlock(32, 32, stride=2),  # 32x14x14 -> 32x7x7", "nn.Flatten(),  # 32x7x7 -> 1568",
                 "nn.Dropout(p=0.3),", "nn.Linear(1568, 10),", "ImageNormalize(pixel_mean, pixel_std),"]:
        assert f"        {line}" in script
    assert "class ResidualBlock(nn.Module):" in script
    assert "torch.manual_seed(SEED + 1)" in script  # Dropout masks seeded as the engine seeds them
    assert "class ResidualBlock" not in export_script(TrainConfig())


@pytest.mark.parametrize("loss", list(LOSSES))
def test_every_loss_writes_a_standalone_script(loss):
    spec = LOSSES[loss]
    last = [{"type": spec.needs_last}] if spec.needs_last else []
    name = "sine" if spec.task == "regression" else "moons"
    cfg = config(dataset={"name": name}, layers=[*MLP, *last], loss=loss)
    script = export_script(cfg)
    check_standalone(script)
    assert f"loss_fn = nn.{spec.make.__name__}()" in script
    assert ("test_r2=" if spec.task == "regression" else "test_accuracy=") in script


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_writes_a_standalone_script(optimizer):
    options = {"momentum": 0.9} if "momentum" in OPTIMIZERS[optimizer].options else {}
    cfg = config(layers=MLP, optimizer={"name": optimizer, "lr": 0.05, "weight_decay": 0.001, **options})
    script = export_script(cfg)
    check_standalone(script)
    extra = ", momentum=MOMENTUM" if options else ""
    assert (f"optimizer = torch.optim.{OPTIMIZERS[optimizer].cls.__name__}(model.parameters(), lr=LEARNING_RATE"
            f"{extra}, weight_decay=WEIGHT_DECAY)") in script
    assert "LEARNING_RATE = 0.05\n" in script and "WEIGHT_DECAY = 0.001 " in script


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_every_schedule_writes_the_engines_learning_rates(schedule):
    cfg = config(layers=MLP, optimizer={"lr": 0.1}, epochs=40,
                 schedule={"name": schedule, **({"step_size": 7, "gamma": 0.3} if schedule == "step" else {})})
    names = check_standalone(export_script(cfg))
    engine = Engine(cfg)
    for epoch in range(40):
        engine.epoch = epoch
        rate = names["learning_rate"](epoch, 40) if "learning_rate" in names else names["LEARNING_RATE"]
        assert rate == engine.lr


# --- the same data as the app -----------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, spec in DATASETS.items() if spec.generate is not None])
def test_generated_data_equals_the_apps(name):
    layers = [{"type": "flatten"}, *MLP] if DATASETS[name].sequence_shape else MLP
    cfg = config(dataset={"name": name, "seed": 7, "test_fraction": 0.3}, layers=layers,
                 loss="bce_with_logits" if name == "moons" else None)
    x_train, y_train, x_test, y_test = namespace(export_script(cfg))["make_data"]()
    dataset = load_dataset(cfg)
    np.testing.assert_array_equal(x_train, dataset.x_train)
    np.testing.assert_array_equal(x_test, dataset.x_test)
    targets = (lambda y: y.astype(np.float32).reshape(-1, 1)) if name == "moons" else (lambda y: y)
    for got, expected in ((y_train, dataset.y_train), (y_test, dataset.y_test)):
        assert got.dtype == targets(expected).dtype and got.shape == targets(expected).shape
        np.testing.assert_array_equal(got, targets(expected))


def test_digits_subsets_and_pixel_statistics_equal_the_apps():
    cfg = config(dataset={"name": "digits", "train_images": 300, "test_images": 40, "seed": 3}, layers=CNN)
    (x_train, y_train, x_test, y_test), stats = namespace(export_script(cfg))["make_data"]()
    dataset = make_dataset("digits", {"train_images": 300, "test_images": 40}, seed=3)
    for got, expected in zip((x_train, y_train, x_test, y_test),
                             (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    assert np.float32(stats).tolist() == np.float32(dataset.normalization).tolist()


# --- the script trains and ends with the engine's numbers --------------------------------------

CNN_WITH_DROPOUT = [{"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
                    {"type": "dropout2d", "p": 0.25}, {"type": "residual", "out": 16, "stride": 2},
                    {"type": "flatten"}, {"type": "dropout", "p": 0.2}, {"type": "linear"}]
RUNS = {  # name -> (config, the script's extra options); "$dir" is the folder the scripts run in; each
    # run needs its own script name (dataset and model kind): they are written to one folder
    "spiral": ({**SPIRAL, "epochs": 1000}, ["--epochs", "200"]),
    "moons": ({"dataset": {"name": "moons", "n_samples": 201}, "layers": MLP, "batch_size": 16, "epochs": 30,
               "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
               "schedule": {"name": "step", "step_size": 10, "gamma": 0.5}}, []),
    "coffee": ({"dataset": {"name": "coffee_roast", "n_samples": 200}, "loss": "bce", "epochs": 100,
                "layers": [{"type": "linear", "out": 3}, {"type": "sigmoid"}, {"type": "linear"}, {"type": "sigmoid"}],
                "optimizer": {"name": "adam", "lr": 0.05}}, []),
    "line": ({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
              "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 1000}, []),
    "digits": ({"dataset": {"name": "digits"}, "layers": CNN_WITH_DROPOUT, "epochs": 2, "batch_size": 64,
                "optimizer": {"name": "adam", "lr": 0.01}}, []),
    "augmented": ({"dataset": {"name": "digits", "train_images": 200, "test_images": 50}, "layers": CNN, "epochs": 3,
                   "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01},
                   "augment": {"crop": 2, "flip": True, "rotate": 15}}, []),
    "mnist": ({"dataset": {"name": "mnist", "train_images": 50, "test_images": 15}, "layers": CNN, "epochs": 3,
               "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01}}, ["--data", "$dir/MNIST/raw"]),
    "cifar": ({"dataset": {"name": "cifar10", "train_images": 70, "test_images": 25, "seed": 4},
               "layers": CIFAR_CNN.stack(), "epochs": 2, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.002}},
              ["--data", "$dir/cifar-10-batches-py"]),
    "emoji": ({"dataset": {"name": "csv", "file": "$dir/emoji.csv", "label": "kind \U0001f338",
                           "features": ["temp \U0001f600", "width"], "task": "classification"},
               "layers": MLP, "epochs": 20, "optimizer": {"name": "adam", "lr": 0.02}}, ["--csv", "$dir/emoji.csv"]),
    "csv": ({"dataset": {"name": "csv", "file": "$dir/flowers.csv", "label": "species", "features": ["width", "length"],
                         "task": "classification"}, "layers": MLP, "batch_size": 16, "epochs": 20,
             "optimizer": {"name": "adam", "lr": 0.02}, "schedule": "cosine"}, ["--csv", "$dir/flowers.csv"]),
    "sine_sequence": ({"dataset": {"name": "sine_sequence", "n_samples": 120, "steps": 8}, "loss": "mse",
                       "layers": [{"type": "lstm", "hidden": 6, "layers": 2, "bidirectional": 1, "batch_first": 0},
                                  {"type": "linear"}], "epochs": 4, "batch_size": 32}, []),
    "digits_rnn": ({"dataset": {"name": "digits", "train_images": 200, "test_images": 60}, "epochs": 2,
                    "batch_size": 32, "layers": [{"type": "conv2d", "out": 3, "padding": 1}, {"type": "relu"},
                                                 {"type": "gru", "hidden": 12}, {"type": "linear"}]}, []),
    "plateau": ({"dataset": {"name": "circles"}, "epochs": 60,
                 "optimizer": {"name": "sgd", "lr": 5.0},
                 "schedule": {"name": "plateau", "factor": 0.5, "patience": 3}},
                []),
    "onecycle": ({"dataset": {"name": "blobs"}, "layers": MLP, "batch_size": 16, "epochs": 30,
                  "optimizer": {"name": "adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6},
                  "schedule": {"name": "onecycle", "max_lr": 0.05}}, []),
}


class Run:
    """One exported script running in the background; `output` waits for its lines and final values."""

    def __init__(self, folder: Path, cfg: TrainConfig, options: list[str]):
        self.config = cfg
        path = folder / script_name(cfg)
        path.write_text(export_script(cfg))
        # Away from the repository, so the script could not import `playground` if it tried; one thread
        # each, as several run at once.
        self.process = subprocess.Popen([sys.executable, str(path), "--device", "cpu", *options], cwd=folder,
                                        env={**os.environ, "OMP_NUM_THREADS": "1"}, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    @functools.cached_property
    def output(self) -> tuple[list[str], dict[str, float]]:
        out, err = self.process.communicate(timeout=240)
        assert self.process.returncode == 0, err
        lines = out.strip().splitlines()
        final = [line for line in lines if line.startswith("final ")]
        assert len(final) == 1, out
        return lines, {key: float(value) for key, value in (part.split("=") for part in final[0].split()[1:])}


def write_idx(path: Path, array: np.ndarray) -> None:
    """A gzipped IDX file: 0 0 8 (uint8) NDIM, the sizes as big-endian uint32, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_data(folder: Path) -> None:
    """The flowers table, a 60 + 20 image 'MNIST' as four IDX files and a 100 + 30 image 'CIFAR-10' folder."""
    (folder / "flowers.csv").write_text(CSV_TEXT)
    (folder / "emoji.csv").write_text(EMOJI_CSV, encoding="utf-8")
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("t10k", 20)):
        write_idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    write_cifar_folder(folder, per_batch=20, n_test=30)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every script of RUNS started at once (they spend most of their time importing torch)."""
    folder = tmp_path_factory.mktemp("scripts")
    write_data(folder)
    started = {}
    for name, (data, options) in RUNS.items():  # `config` lets a CSV be named by its path, as on the command line
        text = json.dumps(data).replace("$dir", str(folder))
        options = [option.replace("$dir", str(folder)) for option in options]
        started[name] = Run(folder, config(**json.loads(text)), options)
    yield started
    for run in started.values():
        run.process.kill()
        run.process.communicate()


def engine_metrics(cfg: TrainConfig) -> dict:
    """The engine's final metrics on one thread, like the scripts (a CNN's sums depend on the thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        engine = Engine(cfg)
        for _ in engine.run():
            pass
        return engine.final_metrics()
    finally:
        torch.set_num_threads(threads)


def assert_same_numbers(run: Run, epochs: int | None = None) -> None:
    """The script's final losses and scores equal the engine's after the same epochs (printed to 6 digits)."""
    cfg = run.config.replace(epochs=epochs or run.config.epochs)
    expected = {key: value for key, value in engine_metrics(cfg).items()
                if value is not None and key not in ("epochs", "r2") and not key.endswith("_mse")}
    final = run.output[1]
    assert set(final) == set(expected)
    for key, value in final.items():
        assert value == pytest.approx(expected[key], rel=1e-4, abs=1e-6), key


def test_the_spiral_script_trains(runs):
    lines, final = runs["spiral"].output
    progress = [line for line in lines if line.startswith("epoch ")]
    assert 8 <= len(progress) <= 12 and progress[-1].startswith("epoch 200/200")  # --epochs 200 of 1000
    first_loss = float(progress[0].split("train_loss=")[1].split()[0])
    assert final["test_accuracy"] > 0.8
    assert final["train_loss"] < 0.5 * first_loss


def test_the_spiral_script_reproduces_the_engine(runs):
    assert_same_numbers(runs["spiral"], epochs=200)


def test_moons_with_mini_batches_momentum_and_a_step_schedule_reproduce_the_engine(runs):
    assert_same_numbers(runs["moons"])


def test_a_plateau_schedule_cuts_where_the_engine_cuts(runs):
    engine = Engine(runs["plateau"].config)
    rates = {event.lr for event in engine.run() if hasattr(event, "lr")}
    assert len(rates) > 2  # the too-high rate was cut twice or more, so the script had to cut alike
    assert_same_numbers(runs["plateau"])


def test_onecycle_with_adams_betas_and_eps_reproduces_the_engine(runs):
    assert "betas=BETAS, eps=EPS" in export_script(runs["onecycle"].config)
    assert_same_numbers(runs["onecycle"])


def test_coffee_roast_with_sigmoid_and_bce_reproduces_the_engine(runs):
    assert "Standardize(x_train.mean(0), x_train.std(0).clamp_min(1e-6))," in export_script(runs["coffee"].config)
    assert_same_numbers(runs["coffee"])


def test_linear_regression_learns_y_equals_2x_like_the_engine(runs):
    lines, final = runs["line"].output
    assert set(final) == {"train_loss", "train_r2"}  # the four points are all training points
    assert_same_numbers(runs["line"])
    prediction = [line for line in lines if line.startswith("prediction at x=5.0: ")]
    assert len(prediction) == 1 and float(prediction[0].split(": ")[1]) == pytest.approx(10.0, abs=0.1)


def test_a_digits_cnn_with_dropout2d_and_a_residual_block_reproduces_the_engine(runs):
    assert_same_numbers(runs["digits"])


def test_an_lstm_on_sine_sequence_reproduces_the_engine(runs):
    script = export_script(runs["sine_sequence"].config)
    assert 'Recurrent("lstm", 1, 6, layers=2, bidirectional=True, batch_first=False),  # 8x1 -> 12' in script
    assert "class Recurrent(nn.Module):" in script
    assert_same_numbers(runs["sine_sequence"])


def test_a_cnn_feeding_a_gru_row_by_row_reproduces_the_engine(runs):
    script = export_script(runs["digits_rnn"].config)
    assert 'Recurrent("gru", 24, 12),  # 3x8x8 -> 12' in script  # 8 rows of 3 channels x 8 pixels
    assert script_name(runs["digits_rnn"].config) == "digits_cnn_gru.py"
    assert_same_numbers(runs["digits_rnn"])


def test_a_digits_cnn_with_augmentation_reproduces_the_engine(runs):
    script = export_script(runs["augmented"].config)
    assert "AUGMENT_CROP = 2" in script and "def rotate_by(x, angles):" in script
    assert "augment" not in export_script(runs["digits"].config).lower()  # off: not a word of it
    assert_same_numbers(runs["augmented"])


def assert_reads_the_files_as_the_script(run: Run, monkeypatch, source: str) -> None:
    """The app, reading the files the script read ($PLAYGROUND_DATA: the scripts' folder), ends with its numbers."""
    monkeypatch.setenv("PLAYGROUND_DATA", str(Path(run.process.args[1]).parent))
    images.clear_cache()
    try:
        assert source in load_dataset(run.config).source
        assert_same_numbers(run)
    finally:
        images.clear_cache()


def test_mnist_from_idx_files_reproduces_the_engine(runs, monkeypatch):
    assert_reads_the_files_as_the_script(runs["mnist"], monkeypatch, "MNIST from local IDX files")


def test_cifar10_from_its_batch_files_reproduces_the_engine(runs, monkeypatch):
    assert_reads_the_files_as_the_script(runs["cifar"], monkeypatch, "CIFAR-10 from its local folder")
    script = export_script(runs["cifar"].config)
    assert "class SafeUnpickler(pickle.Unpickler):" in script and "nn.Linear(2048, 10)" in script
    assert "TEST_FRACTION" not in script  # CIFAR-10 has its own test batch


def test_emoji_column_names_and_labels_write_a_script_that_reproduces_the_engine(runs):
    assert_same_numbers(runs["emoji"])


def test_emoji_column_names_are_written_as_ascii_python_literals(tmp_path):
    path = tmp_path / "emoji.csv"
    path.write_text(EMOJI_CSV, encoding="utf-8")
    features = ["temp \U0001f600", "width"]
    cfg = config(dataset={"name": "csv", "file": str(path), "label": "kind \U0001f338", "features": features,
                          "task": "classification"}, layers=MLP)
    script = export_script(cfg)
    assert script.isascii() and "\\U0001f600" in script  # no lone surrogates: the file writes in any encoding
    names = check_standalone(script)
    assert names["FEATURES"] == features and names["LABEL"] == "kind \U0001f338"


def test_a_csv_table_reproduces_the_engine(runs):
    assert script_name(runs["csv"].config) == "flowers_relu_net.py"
    assert_same_numbers(runs["csv"])


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize("data, name", [
    ({}, "spiral_relu_net.py"),
    ({"dataset": {"name": "digits"}, "layers": CNN}, "digits_cnn.py"),
    ({"dataset": {"name": "mnist"}, "layers": [{"type": "residual"}, {"type": "flatten"}, {"type": "linear"}]},
     "mnist_resnet.py"),
    ({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}]}, "linear_regression_linear_model.py"),
    ({"dataset": {"name": "sine"}, "layers": [{"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "linear"}]},
     "sine_tanh_net.py"),
])
def test_script_name_says_dataset_and_model(data, name):
    assert script_name(TrainConfig.from_dict(data)) == name


def test_a_run_started_from_a_saved_model_with_frozen_layers_reproduces_the_engine(tmp_path):
    """The script takes the start as --start (here: a model of 3 spiral classes for a run of 4, so a new
    head), keeps and freezes as the app does and ends with the engine's numbers."""
    from playground.checkpoint import save_checkpoint

    spiral = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 40}, "epochs": 30, "seed": 3,
              "layers": [{"type": "linear", "out": 16}, {"type": "tanh"}, {"type": "linear", "out": 8},
                         {"type": "relu"}, {"type": "linear"}], "optimizer": {"name": "adam", "lr": 0.02}}
    source = Engine(config(**spiral))
    for _ in source.run():
        pass
    save_checkpoint(tmp_path / "start.pt", source.config, source.model)
    cfg = config(**{**spiral, "dataset": {**spiral["dataset"], "classes": 4}, "start_from": str(tmp_path / "start.pt"),
                    "freeze": 2})
    script = export_script(cfg)
    assert "NEW_HEAD = 4" in script and "FREEZE = 2" in script and "def start_weights(" in script
    check_standalone(script)
    (tmp_path / "run").mkdir()
    run = Run(tmp_path / "run", cfg, ["--start", str(tmp_path / "start.pt")])
    assert any(line.startswith("started from") and "kept layers [1, 3]" in line for line in run.output[0])
    assert_same_numbers(run)


def test_a_frozen_batchnorm_keeps_its_running_averages_in_the_script_too(tmp_path):
    """Frozen layers' BatchNorm stays in eval mode in the script as in the app (hold_frozen_norms after each
    model.train()): its numbers, which depend on the running averages, match the engine's."""
    cfg = config(dataset={"name": "spiral", "classes": 3, "n_per_class": 40}, epochs=12, seed=2, batch_size=16,
                 layers=[{"type": "linear", "out": 16}, {"type": "batchnorm1d"}, {"type": "tanh"},
                         {"type": "linear", "out": 8}, {"type": "batchnorm1d"}, {"type": "relu"}, {"type": "linear"}],
                 optimizer={"name": "adam", "lr": 0.02}, freeze=3)
    script = export_script(cfg)
    assert "def hold_frozen_norms(" in script and script.count("hold_frozen_norms(model, FREEZE)") == 1
    check_standalone(script)
    assert_same_numbers(Run(tmp_path, cfg, []))
