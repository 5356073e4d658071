"""The command line: train prints one JSON line of metrics, predict prints JSON, bad input exits 2."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from playground.cli import BAD_INPUT, main

ROOT = Path(__file__).resolve().parents[1]
TINY = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 5, "seed": 1, "device": "cpu"}
LINE = {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
        "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 20, "device": "cpu"}
CLASSIFICATION_KEYS = {"epochs", "train_loss", "test_loss", "train_accuracy", "test_accuracy"}


def write(tmp_path: Path, data, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def last_json(text: str) -> dict:
    lines = text.strip().splitlines()
    return json.loads(lines[-1])


def test_train_prints_final_metrics_as_one_json_line(tmp_path, capsys):
    assert main(["train", write(tmp_path, TINY), "--quiet"]) == 0
    out, err = capsys.readouterr()
    metrics = last_json(out)
    assert set(metrics) == CLASSIFICATION_KEYS
    assert metrics["epochs"] == 5
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert err == ""


def test_train_logs_progress_to_stderr_unless_quiet(tmp_path, capsys):
    assert main(["train", write(tmp_path, TINY)]) == 0
    out, err = capsys.readouterr()
    assert "epoch 5/5" in err and "train loss" in err
    assert len(out.strip().splitlines()) == 1


def test_train_regression_reports_r2(tmp_path, capsys):
    assert main(["train", write(tmp_path, LINE), "--quiet"]) == 0
    metrics = last_json(capsys.readouterr().out)
    assert {"epochs", "train_loss", "test_loss", "r2"} <= set(metrics)
    assert metrics["test_loss"] is None and metrics["r2"] is not None


def test_train_reports_divergence_as_a_warning_and_still_prints_metrics(tmp_path, capsys):
    data = {**LINE, "optimizer": {"name": "sgd", "lr": 10.0}, "epochs": 100}
    assert main(["train", write(tmp_path, data), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: The loss became NaN or infinite")
    assert last_json(out)["epochs"] < 100


def test_python_dash_m_playground_train_ends_stdout_with_one_json_object(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "playground", "train", write(tmp_path, TINY)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    metrics = last_json(done.stdout)
    assert isinstance(metrics, dict) and set(metrics) == CLASSIFICATION_KEYS
    assert metrics["epochs"] == 5
    assert "epoch 5/5" in done.stderr


def test_save_then_predict_prints_the_class(tmp_path, capsys):
    model = tmp_path / "model.pt"
    assert main(["train", write(tmp_path, TINY), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert model.exists()
    assert main(["predict", str(model), "0.1", "-0.3"]) == 0
    result = last_json(capsys.readouterr().out)
    assert result["input"] == [0.1, -0.3]
    assert result["prediction"] in (0, 1, 2)
    assert result["label"] == f"class {result['prediction']}"
    assert set(result["probabilities"]) == {"class 0", "class 1", "class 2"}
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["output"] == pytest.approx(list(result["probabilities"].values()))


def test_save_then_predict_prints_the_regression_value(tmp_path, capsys):
    model = tmp_path / "line.pt"
    data = {**LINE, "epochs": 1000}
    assert main(["train", write(tmp_path, data), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), "5.0"]) == 0
    result = last_json(capsys.readouterr().out)
    assert result["prediction"] == pytest.approx(10.0, abs=0.1)
    assert result["output"] == [result["prediction"]]
    assert "label" not in result


def test_predict_with_standardised_inputs(tmp_path, capsys):
    model = tmp_path / "coffee.pt"
    data = {"dataset": {"name": "coffee_roast", "n_samples": 40}, "epochs": 3, "device": "cpu"}
    assert main(["train", write(tmp_path, data), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), "200", "13.5"]) == 0
    assert last_json(capsys.readouterr().out)["label"] in ("bad roast", "good roast")
    assert main(["predict", str(model), "200"]) == BAD_INPUT


def error_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("data, key", [
    ({"optimizer": {"lr": -1}}, "optimizer.lr"),
    ({"layers": [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear", "out": 0}]}, "layers[2].out"),
    ({"dataset": {"name": "spiral", "classes": 50}}, "dataset.classes"),
    ({"epochs": "many"}, "epochs"),
    ({"optimiser": {}}, "optimiser"),
    ("{not json", "config"),
    ({"optimizer": {"name": "adam", "betas": [0.9, 2]}}, "optimizer.betas[1]"),
    ({"schedule": {"name": "multistep", "milestones": "30,60"}}, "schedule.milestones"),
])
def test_bad_config_exits_2_with_a_one_line_error_naming_the_key(tmp_path, capsys, data, key):
    assert main(["train", write(tmp_path, data)]) == BAD_INPUT
    assert error_line(capsys).startswith(f"error: {key}: ")


def test_stack_that_cannot_work_exits_2(tmp_path, capsys):
    assert main(["train", write(tmp_path, {**TINY, "layers": [{"type": "relu"}]})]) == BAD_INPUT
    assert "add a Linear layer" in error_line(capsys)


def test_unavailable_device_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", write(tmp_path, {**TINY, "device": "cuda"})]) == BAD_INPUT
    assert "cuda is not available" in error_line(capsys)


def test_missing_config_file_exits_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.json")]) == BAD_INPUT
    assert "cannot read" in error_line(capsys)


@pytest.fixture
def saved_model(tmp_path, capsys) -> str:
    path = tmp_path / "model.pt"
    assert main(["train", write(tmp_path, TINY), "--save", str(path), "--quiet"]) == 0
    capsys.readouterr()
    return str(path)


@pytest.mark.parametrize("inputs", [["0.5"], ["0.5", "1", "2"]])
def test_predict_with_the_wrong_number_of_inputs_exits_2(saved_model, capsys, inputs):
    assert main(["predict", saved_model, *inputs]) == BAD_INPUT
    assert f"takes 2 input value(s), got {len(inputs)}" in error_line(capsys)


def test_predict_with_non_numbers_exits_2(saved_model, capsys):
    assert main(["predict", saved_model, "0.5", "abc"]) == BAD_INPUT
    assert "inputs must be numbers" in error_line(capsys)


def test_predict_on_a_file_that_is_not_a_checkpoint_exits_2(tmp_path, capsys):
    assert main(["predict", write(tmp_path, TINY), "1", "2"]) == BAD_INPUT
    error_line(capsys)
    assert main(["predict", str(tmp_path / "missing.pt"), "1", "2"]) == BAD_INPUT
    assert "no such file" in error_line(capsys)


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.parametrize("text", ['{"epochs": 1e999}', '{"layers": [{"type": []}]}'], ids=["epochs-inf", "type-list"])
def test_malformed_config_values_exit_2(tmp_path, capsys, text):
    assert main(["train", write(tmp_path, text)]) == BAD_INPUT


# --- image models: train a CNN on 8x8 digits, predict from a .npy or .png ----------------------

import numpy as np  # noqa: E402

from playground.checkpoint import load_checkpoint  # noqa: E402

IMAGE_CONFIG = {"dataset": {"name": "digits", "test_images": 100},
                "layers": [{"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
                           {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}],
                "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 3, "seed": 1, "device": "cpu"}


def digit_image(index: int = 0) -> tuple[np.ndarray, int]:
    """One of scikit-learn's 8x8 digits on the 0-255 scale, as uint8, and its label."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return np.rint(digits.images[index] * (255.0 / 16.0)).astype(np.uint8), int(digits.target[index])


@pytest.fixture(scope="module")
def image_model(tmp_path_factory) -> str:
    """A CNN trained on the 8x8 digits through the CLI (default batch 64), saved."""
    folder = tmp_path_factory.mktemp("image")
    path = folder / "cnn.pt"
    assert main(["train", write(folder, IMAGE_CONFIG), "--save", str(path), "--quiet"]) == 0
    return str(path)


def test_train_an_image_config_and_save_it(tmp_path, capsys):
    model = tmp_path / "cnn.pt"
    data = {**IMAGE_CONFIG, "dataset": {"name": "digits", "train_images": 200, "test_images": 50}, "epochs": 2}
    assert main(["train", write(tmp_path, data), "--save", str(model)]) == 0
    out, err = capsys.readouterr()
    metrics = last_json(out)
    assert set(metrics) == CLASSIFICATION_KEYS and metrics["epochs"] == 2
    assert len(out.strip().splitlines()) == 1
    assert "epoch 1/2" in err and "epoch 2/2" in err  # image runs log every epoch
    loaded = load_checkpoint(model)
    assert loaded.is_image and loaded.input_shape == (1, 8, 8)
    assert loaded.config.batch_size == 64  # the image default
    assert loaded.metrics == metrics


def test_trained_image_model_is_accurate(image_model):
    assert load_checkpoint(image_model).metrics["test_accuracy"] > 0.9


def test_predict_an_image_from_npy_and_png_alike(image_model, tmp_path, capsys):
    from PIL import Image

    pixels, label = digit_image(0)
    npy, png = tmp_path / "digit.npy", tmp_path / "digit.png"
    np.save(npy, pixels)
    Image.fromarray(pixels, mode="L").save(png)
    capsys.readouterr()
    assert main(["predict", image_model, str(npy)]) == 0
    from_npy = last_json(capsys.readouterr().out)
    assert main(["predict", image_model, str(png)]) == 0
    from_png = last_json(capsys.readouterr().out)
    assert from_npy["input"] == str(npy) and from_png["input"] == str(png)
    assert from_npy["output"] == pytest.approx(from_png["output"], abs=1e-6)
    assert from_npy["prediction"] == from_png["prediction"] == label
    assert from_npy["label"] == str(label)
    assert set(from_npy["probabilities"]) == {str(d) for d in range(10)}
    assert sum(from_npy["output"]) == pytest.approx(1.0, abs=1e-5)
    expected = load_checkpoint(image_model).predict(pixels[None, None].astype(np.float32))[0]
    assert from_npy["output"] == pytest.approx(expected.tolist(), abs=1e-6)


def test_predict_accepts_a_float_npy_and_a_flat_one(image_model, tmp_path, capsys):
    pixels, label = digit_image(0)
    flat = tmp_path / "flat.npy"
    np.save(flat, pixels.astype(np.float64).ravel())  # 64 values: the model's 1x8x8
    capsys.readouterr()
    assert main(["predict", image_model, str(flat)]) == 0
    assert last_json(capsys.readouterr().out)["prediction"] == label


def test_predict_resizes_a_larger_png_to_the_models_input(image_model, tmp_path, capsys):
    from PIL import Image

    pixels, label = digit_image(0)
    big = tmp_path / "big.png"
    Image.fromarray(pixels, mode="L").resize((28, 28), Image.NEAREST).convert("RGB").save(big)
    capsys.readouterr()
    assert main(["predict", image_model, str(big)]) == 0
    assert last_json(capsys.readouterr().out)["prediction"] in range(10)


def test_predict_with_two_images_exits_2(image_model, tmp_path, capsys):
    npy = tmp_path / "digit.npy"
    np.save(npy, digit_image(0)[0])
    capsys.readouterr()
    assert main(["predict", image_model, str(npy), str(npy)]) == BAD_INPUT
    assert "takes one image file (8x8 grey), got 2 inputs" in error_line(capsys)


def test_predict_with_numbers_for_an_image_model_exits_2(image_model, capsys):
    capsys.readouterr()
    assert main(["predict", image_model, "1", "2"]) == BAD_INPUT
    assert "one image file" in error_line(capsys)


@pytest.mark.parametrize("name, content", [("missing.png", None), ("text.png", b"not a picture"),
                                           ("broken.npy", b"\x93NUMPY garbage"), ("pickled.npy", "pickle")],
                         ids=["missing", "not-png", "broken-npy", "object-npy"])
def test_predict_with_an_unreadable_image_exits_2(image_model, tmp_path, capsys, name, content):
    path = tmp_path / name
    if content == "pickle":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # never unpickled on load
    elif content is not None:
        path.write_bytes(content)
    capsys.readouterr()
    assert main(["predict", image_model, str(path)]) == BAD_INPUT
    assert f"cannot read image {path}" in error_line(capsys)


def test_predict_with_an_npy_of_the_wrong_size_exits_2(image_model, tmp_path, capsys):
    path = tmp_path / "small.npy"
    np.save(path, np.zeros((5, 5), dtype=np.uint8))
    capsys.readouterr()
    assert main(["predict", image_model, str(path)]) == BAD_INPUT
    line = error_line(capsys)
    assert "the image has shape (5, 5)" in line and "8x8 pixels" in line


def test_train_image_config_with_a_batch_too_large_exits_2(tmp_path, capsys):
    data = {"dataset": {"name": "mnist"}, "batch_size": 0, "device": "cpu",
            "layers": [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
                       {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]}
    assert main(["train", write(tmp_path, data)]) == BAD_INPUT
    line = error_line(capsys)
    assert line.startswith("error: batch_size: ") and "set the batch size to at most" in line


# --- export: the config as a standalone PyTorch script -----------------------------------------

from playground.config import TrainConfig  # noqa: E402
from playground.export import export_script  # noqa: E402


def test_export_prints_the_script(tmp_path, capsys):
    assert main(["export", write(tmp_path, TINY)]) == 0
    out, err = capsys.readouterr()
    assert out == export_script(TrainConfig.from_dict(TINY))
    compile(out, "exported.py", "exec")
    assert err == ""


def test_export_with_output_writes_the_script_to_a_file(tmp_path, capsys):
    path = tmp_path / "spiral.py"
    assert main(["export", write(tmp_path, LINE), "-o", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"wrote {path}"
    assert path.read_text() == export_script(TrainConfig.from_dict(LINE))


@pytest.mark.parametrize("data, message", [
    ({"optimizer": {"lr": -1}}, "error: optimizer.lr: must be between 0 and 10"),
    ("{not json", "error: config: not valid JSON"),
    ({**TINY, "layers": [{"type": "relu"}]}, "add a Linear layer"),
], ids=["bad-value", "not-json", "no-linear"])
def test_export_of_a_bad_config_exits_2_with_one_error_line(tmp_path, capsys, data, message):
    assert main(["export", write(tmp_path, data)]) == BAD_INPUT
    assert message in error_line(capsys)


def test_export_of_a_missing_config_or_to_a_missing_folder_exits_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.json")]) == BAD_INPUT
    assert "cannot read" in error_line(capsys)
    assert main(["export", write(tmp_path, TINY), "-o", str(tmp_path / "no" / "such" / "dir.py")]) == BAD_INPUT
    assert "cannot write" in error_line(capsys)


# --- a Playground link as the config; CSV tables by path ------------------------------------------

from playground.share import link  # noqa: E402


def test_train_a_playground_link(capsys):
    config = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40}, "epochs": 5, "device": "cpu"})
    assert main(["train", link("http://localhost:8501/Playground", config), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 5


def test_export_a_playground_link(capsys):
    config = TrainConfig.from_dict({"dataset": {"name": "moons"}, "layers": [{"type": "linear"}], "epochs": 7})
    assert main(["export", link("http://h/Playground", config)]) == 0
    assert "EPOCHS = 7" in capsys.readouterr().out


def test_a_bad_link_exits_2_naming_the_parameter(capsys):
    assert main(["train", "http://h/Playground?dataset.name=cifar"]) == BAD_INPUT
    assert "dataset.name" in capsys.readouterr().err


def test_train_a_csv_named_by_path(tmp_path, capsys):
    table = tmp_path / "points.csv"
    table.write_text("a,b,label\n" + "".join(f"{i / 10},{(i * 7) % 5},{i % 2}\n" for i in range(30)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataset": {"name": "csv", "file": str(table), "label": "label",
                                              "features": ["a", "b"], "task": "classification"},
                                  "epochs": 3, "device": "cpu"}))
    assert main(["train", str(config), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 3


def test_the_command_line_does_not_leave_table_paths_allowed(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"dataset": {"name": "xor", "n_samples": 20}, "epochs": 1, "device": "cpu"}))
    assert main(["train", str(config), "--quiet"]) == 0
    assert "PLAYGROUND_TABLE_PATHS" not in os.environ


# --- bad input of every kind: one line naming the problem, exit 2, never a traceback ----------------

from playground.lessons import LESSONS  # noqa: E402
from playground.model import MAX_PARAMETERS  # noqa: E402


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "error: config: must be a JSON object, got list"),
    ('"spiral"', "error: config: must be a JSON object, got str"),
    ("null", "error: config: must be a JSON object, got NoneType"),
    ("", "error: config: not valid JSON"),
    ('{"epochs": 2}\x00garbage', "error: config: not valid JSON"),
    ('{"dataset": {"name": "spiral", "colour": 1}}', "error: dataset.colour: unknown key for 'spiral'"),
    ('{"optimizer": {"name": "adam", "momentum": 0.9}}', "error: optimizer.momentum: unknown key for 'adam'"),
    ('{"layers": [{"type": "relu", "out": 3}]}', "error: layers[0].out: ReLU has no parameter 'out'"),
    ('{"layers": "relu"}', "error: layers: must be a list"),
    ('{"optimizer": {"lr": NaN}}', "error: optimizer.lr: must be a finite number, got nan"),
    ('{"optimizer": {"lr": Infinity}}', "error: optimizer.lr: must be a finite number, got inf"),
    ('{"optimizer": {"lr": 1000}}', "error: optimizer.lr: must be between 0 and 10"),
    ('{"epochs": 1.5}', "error: epochs: must be a whole number"),
    ('{"epochs": -3}', "error: epochs: must be between 1 and 100000"),
    ('{"dataset": {"name": "../../etc/passwd"}}', "error: dataset.name: '../../etc/passwd' is not one of"),
    ('{"layers": [{"type": "linear", "out": 100000000}]}', "error: layers[0].out: Linear: 'out' must be between 1"),
    ('{"dataset": {"name": "digits"}, "layers": [{"type": "conv2d", "out": 1000000}, {"type": "flatten"}, '
     '{"type": "linear"}]}', "error: layers[0].out: Conv2d: 'out' must be between 1 and 512"),
], ids=["list", "string", "null", "empty", "nul-byte", "unknown-dataset-key", "unknown-optimizer-key",
        "unknown-layer-key", "layers-not-a-list", "lr-nan", "lr-infinity", "lr-1000", "epochs-fraction",
        "epochs-negative", "dataset-path", "linear-1e8", "conv-1e6-channels"])
def test_a_malformed_config_file_exits_2_naming_the_key(tmp_path, capsys, text, message):
    assert main(["train", write(tmp_path, text)]) == BAD_INPUT
    assert error_line(capsys).startswith(message)


def test_layers_over_the_parameter_limit_exit_2_before_anything_is_allocated(tmp_path, capsys):
    wide = {"layers": [{"type": "linear", "out": 4096}, {"type": "relu"}, {"type": "linear", "out": 4096},
                       {"type": "relu"}, {"type": "linear"}]}
    assert main(["train", write(tmp_path, wide)]) == BAD_INPUT
    assert f"is over the limit of {MAX_PARAMETERS:,}: use fewer or narrower layers" in error_line(capsys)


def test_a_folder_or_a_binary_file_as_the_config_exits_2_naming_it(tmp_path, capsys):
    assert main(["train", str(tmp_path)]) == BAD_INPUT
    assert error_line(capsys) == f"error: cannot read {tmp_path}: Is a directory"
    binary = tmp_path / "photo.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    assert main(["train", str(binary)]) == BAD_INPUT
    assert error_line(capsys).startswith(f"error: cannot read {binary}: it is not a text file")


@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_save_to_a_place_that_cannot_be_written_exits_2_before_training(tmp_path, capsys, where):
    target = tmp_path / "no" / "such" / "model.pt" if where == "missing-folder" else tmp_path
    assert main(["train", write(tmp_path, TINY), "--save", str(target)]) == BAD_INPUT
    line = error_line(capsys)  # one line: no progress was logged, so nothing was trained
    assert line.startswith(f"error: cannot write {target}: ")
    assert ("does not exist" if where == "missing-folder" else "it is a folder") in line


def test_a_failed_save_after_training_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    import playground.cli as cli

    def refuse(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:747] . open file failed")

    monkeypatch.setattr(cli, "save_checkpoint", refuse)
    assert main(["train", write(tmp_path, TINY), "--save", str(tmp_path / "model.pt"), "--quiet"]) == BAD_INPUT
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [f"error: cannot write {tmp_path / 'model.pt'}: [enforce fail at "
                                        "inline_container.cc:747] . open file failed"]


@pytest.mark.parametrize("query, message", [
    ("optimizer.lr=nan", "error: optimizer.lr: must be a finite number"),
    ("optimizer.lr=1e999", "error: optimizer.lr: must be a finite number"),
    ("optimizer.lr=-1", "error: optimizer.lr: must be between 0 and 10"),
    ("epochs=abc", "error: epochs: must be a number, got 'abc'"),
    ("epochs=1.5", "error: epochs: must be a whole number"),
    ("dataset.name=..%2F..%2Fetc%2Fpasswd", "error: dataset.name: '../../etc/passwd' is not one of"),
    ("dataset.name=spiral&colour=red", "error: colour: unknown key"),
    ("layers=linear(out=100", "error: layers: cannot read the layer list"),
    ("layers=linear(out=100000000),relu,linear", "error: layers[0].out: Linear: 'out' must be between 1"),
    ("dataset.name=spiral&optimizer.lr=%ZZ", "error: optimizer.lr: must be a number, got '%ZZ'"),
    ("dataset.name=spiral&layers=" + "relu," * 25_000 + "linear", "error: link: is longer than 8,000 characters"),
    ("", "error: link: holds no setup"),
    ("ws=abc123", "error: link: holds no setup"),
    ("lesson=alchemy", "error: lesson: 'alchemy' is not a lesson"),
], ids=["lr-nan", "lr-1e999", "lr-negative", "epochs-text", "epochs-fraction", "dataset-path", "unknown-key",
        "layers-truncated", "linear-1e8", "percent-junk", "100-kb", "no-setup", "workspace-only", "unknown-lesson"])
def test_a_link_with_bad_parameters_exits_2_naming_the_parameter(capsys, query, message):
    assert main(["train", f"http://localhost:8501/Playground?{query}"]) == BAD_INPUT
    assert error_line(capsys).startswith(message)


def test_a_lesson_link_alone_gives_the_lessons_setup(capsys):
    assert main(["export", "http://localhost:8501/Playground?lesson=line"]) == 0
    assert capsys.readouterr().out == export_script(LESSONS["line"].config)


def test_predict_with_a_folder_as_the_model_exits_2(tmp_path, capsys):
    assert main(["predict", str(tmp_path), "1", "2"]) == BAD_INPUT
    assert "not a loadable checkpoint" in error_line(capsys)


def test_python_dash_m_playground_with_bad_input_prints_no_traceback(tmp_path):
    binary = tmp_path / "config.json"
    binary.write_bytes(bytes(range(256)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "playground", "train", str(binary), "--save", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == BAD_INPUT and done.stdout == ""
    assert done.stderr.strip() == f"error: cannot read {binary}: it is not a text file (a config is JSON text, " \
                                  "as the page's Download config gives)"


# --- hostile files and inputs (issue 13) ---------------------------------------------------------


def run_cli(*args: str, cwd: Path = ROOT) -> tuple[int, str, str, float]:
    """python -m playground ARGS in a child: exit code, stdout, stderr and the child's own peak memory (MiB)."""
    folder = Path(cwd)
    with open(folder / ".out", "w+") as out, open(folder / ".err", "w+") as err:
        child = subprocess.Popen([sys.executable, "-m", "playground", *args], cwd=ROOT, stdout=out, stderr=err,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(child.pid, 0)  # this child's rusage alone
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return child.returncode, out.read(), err.read(), usage.ru_maxrss / 1024


def test_predict_refuses_a_zip_bomb_with_one_line_and_no_memory_spike(tmp_path, saved_model):
    from playground.engine import Engine
    from test_checkpoint import bomb_bytes  # tests/ is on sys.path

    engine = Engine(TrainConfig.from_dict(TINY))
    (tmp_path / "bomb.pt").write_bytes(bomb_bytes(engine))
    code, out, err, bomb_peak = run_cli("predict", str(tmp_path / "bomb.pt"), "1", "2", cwd=tmp_path)
    assert code == BAD_INPUT and out == ""
    assert len(err.strip().splitlines()) == 1 and "is compressed" in err
    good_code, _, _, good_peak = run_cli("predict", saved_model, "1", "2", cwd=tmp_path)
    assert good_code == 0
    assert bomb_peak - good_peak < 100, f"the bomb took {bomb_peak:.0f} MiB, a real model {good_peak:.0f} MiB"


def test_a_config_nested_2000_levels_deep_exits_2_naming_the_problem(tmp_path, capsys):
    nested = '{"epochs": ' + "[" * 2000 + "]" * 2000 + "}"
    assert main(["train", write(tmp_path, nested)]) == BAD_INPUT
    assert error_line(capsys).startswith("error: config: is nested too deeply")
    code, out, err, _ = run_cli("train", write(tmp_path, nested), cwd=tmp_path)
    lines = err.strip().splitlines()
    assert code == BAD_INPUT and len(lines) == 1 and lines[0].startswith("error: config: is nested too deeply")


def test_a_5000_digit_integer_exits_2_naming_the_key(tmp_path, capsys):
    assert main(["train", write(tmp_path, '{"epochs": ' + "9" * 5000 + "}")]) == BAD_INPUT
    assert error_line(capsys) == "error: epochs: must be between 1 and 100000, got a 5,000-digit number"


def test_a_20000_layer_config_is_refused_at_once_naming_the_cap(tmp_path, capsys):
    data = {**TINY, "layers": [{"type": "linear", "out": 4}, {"type": "relu"}] * 10_000}
    started = time.perf_counter()
    assert main(["train", write(tmp_path, data)]) == BAD_INPUT
    assert time.perf_counter() - started < 5  # the count is checked before any layer
    assert error_line(capsys) == "error: layers: 20,000 layers is over the limit of 64: use a shorter stack"


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path, capsys):
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(TINY), encoding="utf-8-sig")
    assert main(["train", str(path), "--quiet"]) == 0
    assert last_json(capsys.readouterr().out)["epochs"] == 5


@pytest.mark.parametrize("inputs, shown", [(["nan", "1"], "input 1 is 'nan'"), (["1", "inf"], "input 2 is 'inf'"),
                                           (["1", "-Infinity"], "input 2 is '-Infinity'")])
def test_predict_refuses_inputs_that_are_not_finite(saved_model, capsys, inputs, shown):
    assert main(["predict", saved_model, *inputs]) == BAD_INPUT
    assert error_line(capsys) == f"error: {shown}: inputs must be finite numbers"


@pytest.mark.parametrize("inputs", [["-1.5", "2"], ["1", "-2e-3"], ["-1e3", "-.5"], ["--", "-1", "2"]])
def test_predict_takes_negative_inputs_without_a_double_dash(saved_model, capsys, inputs):
    assert main(["predict", saved_model, *inputs]) == 0
    expected = [float(value) for value in inputs if value != "--"]
    assert json.loads(capsys.readouterr().out)["input"] == expected


@pytest.mark.parametrize("target", ["/proc/version", "/proc/self/model.pt", "/dev/null"])
def test_save_to_a_system_file_is_refused_before_training(tmp_path, capsys, target):
    assert main(["train", write(tmp_path, TINY), "--save", target]) == BAD_INPUT
    assert error_line(capsys).startswith(f"error: cannot write {target}: ")


def test_save_replaces_an_existing_model_only_once_training_is_done(tmp_path, capsys, monkeypatch):
    import playground.cli as cli

    target = tmp_path / "model.pt"
    target.write_bytes(b"the previous model")
    monkeypatch.setattr(cli, "save_checkpoint", lambda handle, *args: handle.write(b"half a mod") and 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a save that dies half way
        main(["train", write(tmp_path, TINY), "--save", str(target), "--quiet"])
    assert target.read_bytes() == b"the previous model"
    monkeypatch.undo()
    assert main(["train", write(tmp_path, TINY), "--save", str(target), "--quiet"]) == 0
    assert target.read_bytes().startswith(b"PK")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json", "model.pt"]  # no temporary left


def test_predict_with_a_csv_model_whose_table_is_gone(tmp_path, capsys):
    table = tmp_path / "fruit.csv"
    table.write_text("weight,colour,kind\n" + "".join(f"{i},{i % 3},{'abc'[i % 3]}\n" for i in range(30)))
    data = {**TINY, "dataset": {"name": "csv", "file": str(table), "label": "kind", "features": ["weight", "colour"],
                                "task": "classification"}}
    model = tmp_path / "fruit.pt"
    assert main(["train", write(tmp_path, data), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    table.unlink()
    assert main(["predict", str(model), "3", "-1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["probabilities"]) == {"a", "b", "c"} and result["label"] in "abc"


# --- CIFAR-10: train, predict a colour image, export; offline without its folder ---------------

from cifar_folder import write_cifar_folder  # noqa: E402
from playground import images  # noqa: E402

CIFAR_CONFIG = {"dataset": {"name": "cifar10", "test_images": 20}, "epochs": 2, "device": "cpu",
                "layers": [{"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
                           {"type": "maxpool2d", "kernel": 4}, {"type": "flatten"}, {"type": "linear"}],
                "optimizer": {"name": "adam", "lr": 0.01}}


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """An empty data folder, offline, with the image cache cleared around the test."""
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path / "data"))
    images.clear_cache()
    yield tmp_path / "data"
    images.clear_cache()


def test_cifar10_trains_predicts_a_colour_png_and_npy_alike_and_exports(tmp_path, cifar_root, capsys):
    from PIL import Image

    write_cifar_folder(cifar_root, per_batch=20, n_test=20)
    model = tmp_path / "cifar.pt"
    assert main(["train", write(tmp_path, CIFAR_CONFIG), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    loaded = load_checkpoint(model)
    assert loaded.input_shape == (3, 32, 32) and loaded.class_names[0] == "airplane"
    pixels = images.load_images("cifar10").x_test[3]  # (3, 32, 32): a class-3 image
    np.save(tmp_path / "x.npy", pixels)
    Image.fromarray(pixels.transpose(1, 2, 0)).save(tmp_path / "x.png")  # (32, 32, RGB)
    results = []
    for name in ("x.npy", "x.png"):
        assert main(["predict", str(model), str(tmp_path / name)]) == 0
        results.append(json.loads(capsys.readouterr().out))
    assert results[0]["probabilities"] == pytest.approx(results[1]["probabilities"])
    expected = loaded.predict(pixels[None].astype(np.float32))[0]
    assert list(results[0]["probabilities"].values()) == pytest.approx(expected.tolist(), abs=1e-6)
    assert main(["export", write(tmp_path, CIFAR_CONFIG), "-o", str(tmp_path / "cifar.py")]) == 0
    assert "read_cifar_folder" in (tmp_path / "cifar.py").read_text()


def test_predict_refuses_a_grey_image_for_a_colour_model_with_the_sizes(tmp_path, cifar_root, capsys):
    write_cifar_folder(cifar_root, per_batch=10, n_test=10)
    model = tmp_path / "cifar.pt"
    assert main(["train", write(tmp_path, {**CIFAR_CONFIG, "epochs": 1}), "--save", str(model), "--quiet"]) == 0
    capsys.readouterr()
    np.save(tmp_path / "grey.npy", np.zeros((32, 32), np.uint8))
    assert main(["predict", str(model), str(tmp_path / "grey.npy")]) == BAD_INPUT
    assert "the image has shape (32, 32) but the model takes 32x32 pixels" in error_line(capsys)
    assert main(["predict", str(model), "a.png", "b.png"]) == BAD_INPUT
    assert "takes one image file (32x32 colour), got 2 inputs" in error_line(capsys)


def test_cifar10_offline_without_its_folder_exits_2_saying_where_to_get_it(tmp_path, cifar_root, capsys):
    assert main(["train", write(tmp_path, CIFAR_CONFIG), "--quiet"]) == BAD_INPUT
    message = error_line(capsys)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert f"cifar-10-batches-py folder in {cifar_root}" in message


def test_train_and_export_take_an_augmented_image_config(tmp_path, capsys):
    data = {"dataset": {"name": "digits", "train_images": 100, "test_images": 30}, "epochs": 1, "batch_size": 32,
            "layers": [{"type": "flatten"}, {"type": "linear"}], "device": "cpu",
            "augment": {"crop": 1, "flip": True, "rotate": 10}}
    assert main(["train", write(tmp_path, data), "--quiet"]) == 0
    assert set(last_json(capsys.readouterr().out)) == CLASSIFICATION_KEYS
    assert main(["export", write(tmp_path, data)]) == 0
    assert "AUGMENT_ROTATE = 10.0" in capsys.readouterr().out
    assert main(["train", write(tmp_path, {**data, "augment": {"rotate": 45}})]) == BAD_INPUT
    assert "augment.rotate" in error_line(capsys)


@pytest.mark.parametrize("schedule", [{"name": "plateau", "factor": 0.5, "patience": 1},
                                      {"name": "multistep", "milestones": [2, 4], "gamma": 0.5},
                                      {"name": "onecycle", "max_lr": 0.05}, {"name": "exponential", "gamma": 0.9}])
def test_train_and_export_take_the_new_schedules_and_optimizer_settings(tmp_path, capsys, schedule):
    data = {**TINY, "optimizer": {"name": "adamw", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6},
            "schedule": schedule}
    assert main(["train", write(tmp_path, data), "--quiet"]) == 0
    assert set(last_json(capsys.readouterr().out)) == CLASSIFICATION_KEYS
    assert main(["export", write(tmp_path, data)]) == 0
    assert "betas=BETAS, eps=EPS" in capsys.readouterr().out


def test_train_starts_from_a_saved_model_and_its_model_predicts_and_exports(tmp_path, capsys):
    """start_from names a .pt by path on the command line; train says what it kept, the saved model leaves
    the path out and predicts, and export writes a script that takes the start as --start."""
    assert main(["train", write(tmp_path, TINY), "--quiet", "--save", str(tmp_path / "start.pt")]) == 0
    capsys.readouterr()
    bigger = {**TINY, "dataset": {**TINY["dataset"], "classes": 4}, "start_from": str(tmp_path / "start.pt"),
              "freeze": 1}
    assert main(["train", write(tmp_path, bigger, "next.json"), "--save", str(tmp_path / "next.pt")]) == 0
    out, err = capsys.readouterr()
    assert "kept the weights of layers 1 (Linear)" in err and "layer 3 is a new head" in err
    assert 0.0 <= last_json(out)["test_accuracy"] <= 1.0
    assert main(["predict", str(tmp_path / "next.pt"), "0.1", "0.2"]) == 0
    assert len(last_json(capsys.readouterr().out)["probabilities"]) == 4
    assert main(["export", write(tmp_path, bigger, "next.json")]) == 0
    assert "START_FROM = " in capsys.readouterr().out


def test_train_with_a_start_that_is_not_a_model_exits_2_naming_the_key(tmp_path, capsys):
    (tmp_path / "bad.pt").write_bytes(b"\x80\x04junk")
    assert main(["train", write(tmp_path, {**TINY, "start_from": str(tmp_path / "bad.pt")}), "--quiet"]) == BAD_INPUT
    assert "start_from" in capsys.readouterr().err
