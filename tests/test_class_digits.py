"""A class's own drawings as data (`class_digits`, the "class_digits" dataset): the downloads, the pinned dataset
and its split, too few drawings, who may train on them, a model's test on them, the config and the export."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from playground import class_digits, share
from playground.class_digits import ClassDigitsError
from playground.classroom import ClassStore
from playground.config import ConfigError, TrainConfig
from playground.datasets import ClassChoice, make_dataset
from playground.export import export_problem, export_script
from playground.runstore import RunStore


def synthetic(label: int, variant: int) -> np.ndarray:
    """A 28x28 uint8 'digit': a bar whose place says the label, a little different for each variant."""
    image = np.zeros((28, 28), np.uint8)
    top = 2 + 2 * label + variant % 3
    image[top:top + 3, 4 + variant % 4:20 + variant % 4] = 255 - 10 * (variant % 5)
    return image


def add(store: ClassStore, code: str, workspace: str, count: int, start: int = 0) -> list[int]:
    return [store.add_digit(code, workspace, (start + i) % 10, synthetic((start + i) % 10, start + i))
            for i in range(count)]


@pytest.fixture
def store(store_location) -> ClassStore:
    return ClassStore(RunStore(store_location))  # SQLite, then PostgreSQL


@pytest.fixture
def classroom(store):
    """A class (code, secret) with two members, ws-ana and ws-ben."""
    made = store.create("ws-teacher")
    store.join(made.info.code, "ws-ana", "Ana")
    store.join(made.info.code, "ws-ben", "Ben")
    return made.info.code, made.secret


def config(code: str, **dataset) -> TrainConfig:
    return TrainConfig.from_dict({"dataset": {"name": "class_digits", "class": code, **dataset},
                                  "layers": [{"type": "flatten"}, {"type": "linear"}], "epochs": 1})


def test_csv_round_trip_keeps_every_pixel_and_label():
    x = np.stack([synthetic(d, d) for d in range(10)])
    x[3, 0, 0], y = 7, np.arange(10)[::-1]
    text = class_digits.csv_text(x, y)
    header = text.splitlines()[0].split(",")
    assert header[0] == "label" and header[1] == "pixel0" and header[-1] == "pixel783" and len(header) == 785
    back_x, back_y = class_digits.read_csv(text)
    np.testing.assert_array_equal(back_x, x)
    np.testing.assert_array_equal(back_y, y)


@pytest.mark.parametrize("count, size", [(1, (32, 32)), (20, (32, 602)), (21, (62, 602)), (45, (92, 602))])
def test_the_png_grid_has_a_cell_for_every_drawing(count, size):
    x = np.stack([synthetic(i % 10, i) for i in range(count)])
    picture = Image.open(io.BytesIO(class_digits.png_grid(x)))
    assert picture.format == "PNG" and picture.mode == "L" and picture.size[::-1] == size
    pixels = np.asarray(picture)
    np.testing.assert_array_equal(pixels[2:30, 2:30], x[0])  # the first drawing in the first cell
    np.testing.assert_array_equal(pixels[2:30, -30:-2], x[min(count, 20) - 1])  # the last of the first row


def test_pinning_carries_the_drawings_and_later_gifts_do_not_change_a_pinned_dataset(store, classroom):
    code, _ = classroom
    ids = add(store, code, "ws-ana", 30)
    pinned = class_digits.pin(ClassChoice(code), store)
    assert (pinned.upto, pinned.count) == (ids[-1], 30)
    assert class_digits.pin(pinned, store) is pinned
    before = make_dataset("class_digits", classroom=pinned, seed=3)
    add(store, code, "ws-ben", 5, start=30)
    again = make_dataset("class_digits", classroom=pinned, seed=3)
    np.testing.assert_array_equal(before.x_train, again.x_train)
    newer = class_digits.pin(ClassChoice(code), store)
    assert newer.count == 35 and newer != pinned


def test_the_split_is_stratified_fixed_by_the_seed_and_shaped_like_mnist(store, classroom):
    code, _ = classroom
    add(store, code, "ws-ana", 50)
    pinned = class_digits.pin(ClassChoice(code), store)
    data = make_dataset("class_digits", classroom=pinned, test_fraction=0.2, seed=7)
    assert data.x_train.shape == (40, 1, 28, 28) and data.x_test.shape == (10, 1, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.is_image and data.n_classes == 10
    assert sorted(data.y_test.tolist()) == list(range(10))  # 5 of each digit: one of each to test
    assert data.class_names == tuple(str(d) for d in range(10))
    same = make_dataset("class_digits", classroom=pinned, test_fraction=0.2, seed=7)
    other = make_dataset("class_digits", classroom=pinned, test_fraction=0.2, seed=8)
    np.testing.assert_array_equal(data.x_test, same.x_test)
    assert not np.array_equal(data.x_test, other.x_test)
    mean, std = data.normalization
    assert mean == pytest.approx(data.x_train.mean() / 255) and std > 0
    assert "50 drawings of class" in data.source


def test_too_few_drawings_say_how_many_there_are_and_how_many_are_needed(store, classroom):
    code, _ = classroom
    add(store, code, "ws-ana", 7)
    with pytest.raises(ClassDigitsError, match="The class has 7 drawings; it needs at least 20.*13 more"):
        make_dataset("class_digits", classroom=class_digits.pin(ClassChoice(code), store))
    assert class_digits.too_few_digits(20) is None
    assert "has 1 drawing;" in class_digits.too_few_digits(1)


def test_an_unpinned_or_ended_class_cannot_make_a_dataset(store, classroom):
    code, secret = classroom
    with pytest.raises(ClassDigitsError, match="read first"):
        make_dataset("class_digits", classroom=ClassChoice(code))
    store.end(code, secret)
    with pytest.raises(ClassDigitsError, match=f"no class {code} any more"):
        class_digits.pin(ClassChoice(code), store)


def test_only_members_and_the_teacher_may_train_on_a_class(store, classroom):
    code, _ = classroom
    assert class_digits.access_problem(code, [code], None) is None
    assert class_digits.access_problem(code, [], code) is None
    problem = class_digits.access_problem(code, ["ABCDEF"], "GHJKMN")
    assert f"class {code}" in problem and "join the class" in problem
    assert class_digits.access_problem(code, [], None) is not None


def test_a_model_test_gives_accuracy_and_the_confusion_matrix():
    x = np.stack([synthetic(d, 0) for d in range(10)] * 2)
    y = np.arange(20) % 10

    def always_seven(batch):
        return np.eye(10)[np.full(len(batch), 7)]

    accuracy, matrix = class_digits.model_on_digits(always_seven, x, y, batch=3)
    assert accuracy == pytest.approx(0.1) and matrix.shape == (10, 10)
    assert matrix[:, 7].tolist() == [2] * 10 and matrix.sum() == 20
    assert class_digits.per_label(y).tolist() == [2] * 10


def test_the_config_names_the_class_by_its_code_only(store, classroom):
    code, _ = classroom
    cfg = config(code.lower())
    assert cfg.to_dict()["dataset"] == {"name": "class_digits", "class": code, "test_fraction": 0.2, "seed": 12345}
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    digits_only = config("234567")  # a code of digits stays text in a link
    assert share.from_query(share.to_query(digits_only)).config == digits_only
    with pytest.raises(ConfigError, match="dataset.class"):
        TrainConfig.from_dict({"dataset": {"name": "class_digits"}})
    with pytest.raises(ConfigError, match="dataset.class"):
        TrainConfig.from_dict({"dataset": {"name": "class_digits", "class": "<b>hi</b>"}})
    with pytest.raises(ConfigError, match="dataset.class"):
        TrainConfig.from_dict({"dataset": {"name": "mnist", "class": code}})
    add(store, code, "ws-ana", 20)
    pinned = class_digits.pinned_config(cfg, store)
    assert pinned.to_json() == cfg.to_json() and pinned != cfg  # pinned drawings are never written out


def test_runs_on_other_drawings_are_other_computations(store, classroom):
    from playground.pool import setup_key

    code, _ = classroom
    add(store, code, "ws-ana", 20)
    first = class_digits.pinned_config(config(code), store)
    add(store, code, "ws-ana", 1)
    assert setup_key(first, {}) != setup_key(class_digits.pinned_config(config(code), store), {})


def test_the_export_writes_no_script_for_a_class_s_drawings(classroom):
    cfg = config(classroom[0])
    assert "not public" in export_problem(cfg)
    with pytest.raises(ValueError, match="cannot export"):
        export_script(cfg)
    assert json.loads(cfg.to_json())["dataset"]["class"] == classroom[0]


def test_a_pinned_class_trains_one_epoch(store, classroom):
    from playground.engine import Engine

    code, _ = classroom
    add(store, code, "ws-ana", 30)
    engine = Engine(class_digits.pinned_config(config(code), store).replace(batch_size=8))
    assert engine.dataset.x_train.shape[1:] == (1, 28, 28)
    metrics = engine.train_epoch()
    assert metrics is not None


def test_runs_on_a_class_s_drawings_never_stack(store, classroom):
    from playground.stacking import why_not_stacked

    code, _ = classroom
    add(store, code, "ws-ana", 40)
    assert why_not_stacked(class_digits.pinned_config(config(code), store).replace(batch_size=4))


def test_the_command_line_trains_any_class_by_its_code_and_exports_none(tmp_path, capsys):
    """The CLI is the server's admin: it reads the server's class store (here the tests' data folder)."""
    from playground.cli import main

    store = class_digits.class_store()
    made = store.create("ws-cli-teacher")
    store.join(made.info.code, "ws-cli-ana", "Ana")
    add(store, made.info.code, "ws-cli-ana", 24)
    path = tmp_path / "class.json"
    path.write_text(config(made.info.code).replace(batch_size=8).to_json())
    assert main(["train", str(path), "--quiet"]) == 0
    assert "test_accuracy" in json.loads(capsys.readouterr().out.splitlines()[-1])
    assert main(["export", str(path)]) == 2
    assert "not public" in capsys.readouterr().err


def test_a_worker_process_trains_the_drawings_the_run_pinned(tmp_path, store, classroom):
    """The pool's worker gets the pinned drawings with the config: it never opens the class store (here one that
    its process could not even find: a temporary file of this test)."""
    from playground.pool import TrainingPool

    code, _ = classroom
    add(store, code, "ws-ana", 20)
    pinned = class_digits.pinned_config(config(code), store).replace(batch_size=8)
    pool = TrainingPool(1)
    try:
        run = pool.run(pinned).start()
        run.join(120)
        snap = run.snapshot()
    finally:
        pool.close()
    assert snap.status == "completed", snap.message
