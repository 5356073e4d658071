"""Transfer learning: start_from and freeze in the config, which layers keep the starting weights, frozen
layers that do not change, forks that stay exact, hostile starting files, the store's ids, ResNet-18."""
import io
import pickle
from types import SimpleNamespace

import pytest
import torch

from playground import download, pretrained, transfer
from playground.budget import forward_flops
from playground.checkpoint import save_checkpoint
from playground.config import ConfigError, TrainConfig
from playground.engine import Engine
from playground.model import build_model, plan_model
from playground.stacking import why_not_stacked
from playground.transfer_weights import start_weights

SPIRAL = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 30, "seed": 1},
          "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
          "optimizer": {"name": "adam", "lr": 0.02}, "epochs": 5, "seed": 1, "device": "cpu"}


def trained(data: dict = SPIRAL) -> Engine:
    engine = Engine(TrainConfig.from_dict(data))
    for _ in engine.run():
        pass
    return engine


@pytest.fixture
def start_file(tmp_path) -> str:
    engine = trained()
    path = tmp_path / "start.pt"
    save_checkpoint(path, engine.config, engine.model)
    return str(path)


def on(start: str, **changes) -> TrainConfig:
    """SPIRAL with changes, started from `start` (a path: the command line's config)."""
    return TrainConfig.from_dict({**SPIRAL, "start_from": start, **changes}, allow_paths=True)


def weights(engine: Engine, layer: int) -> dict:
    """Layer `layer`'s weights (0-based in the stack: after a normalisation module if there is one)."""
    state = engine.model.state_dict()
    prefix = f"{layer + int('0.mean' in state)}."
    found = {k.split(".", 1)[1]: v.clone() for k, v in state.items() if k.startswith(prefix)}
    assert found, layer
    return found


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- config --------------------------------------------------------------------------------------


def test_the_settings_are_left_out_when_unset_and_round_trip_when_set(start_file):
    assert "start_from" not in TrainConfig().to_dict() and "freeze" not in TrainConfig().to_dict()
    config = TrainConfig.from_dict({**SPIRAL, "start_from": "upload:0123456789abcdef", "freeze": 1})
    assert config.to_dict()["start_from"] == "upload:0123456789abcdef" and config.to_dict()["freeze"] == 1
    assert TrainConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("value, words", [
    ("/etc/passwd", "not a saved model's id"), ("upload:../../x", "not a saved model's id"), (3, "saved model"),
    ("torchvision:vgg16", "not a pretrained model"), ("x" * 2000, "saved model")])
def test_the_app_refuses_paths_and_unknown_starts_naming_the_key(value, words):
    with pytest.raises(ConfigError) as error:
        TrainConfig.from_dict({**SPIRAL, "start_from": value})
    assert error.value.key == "start_from" and words in error.value.message


def test_the_command_line_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="start_from: there is no model file"):
        on(str(tmp_path / "gone.pt"))


@pytest.mark.parametrize("freeze", [3, 64, -1, 1.5])
def test_freeze_must_leave_the_head_learning(freeze):
    with pytest.raises(ConfigError) as error:
        TrainConfig.from_dict({**SPIRAL, "freeze": freeze})
    assert error.value.key == "freeze"


def test_a_checkpoint_leaves_out_the_local_path_it_started_from(start_file, tmp_path):
    engine = Engine(on(start_file))
    save_checkpoint(tmp_path / "next.pt", engine.config, engine.model)
    from playground.checkpoint import load_checkpoint
    assert load_checkpoint(tmp_path / "next.pt").config.start_from is None


def test_runs_with_a_start_or_frozen_layers_never_stack(start_file):
    assert "trains alone" in why_not_stacked(on(start_file))
    assert "trains alone" in why_not_stacked(TrainConfig.from_dict({**SPIRAL, "freeze": 1}))


# --- keep and replace -------------------------------------------------------------------------------


def test_the_same_data_and_classes_keep_every_layer(start_file):
    saved = torch.load(start_file, weights_only=True)["state_dict"]
    source = Engine(TrainConfig.from_dict(SPIRAL), initial_state=saved)
    engine = Engine(on(start_file))
    assert engine.start_report.kept == (0, 2) and engine.start_report.new == () and engine.start_report.head is None
    assert same(weights(engine, 0), weights(source, 0)) and same(weights(engine, 2), weights(source, 2))


def test_other_classes_get_a_new_head_with_the_fresh_runs_initial_weights(start_file):
    changes = {"dataset": {**SPIRAL["dataset"], "classes": 4}}
    engine, fresh = Engine(on(start_file, **changes)), Engine(TrainConfig.from_dict({**SPIRAL, **changes}))
    source = torch.load(start_file, weights_only=True)["state_dict"]
    assert engine.start_report.kept == (0,) and engine.start_report.new == (2,) and engine.start_report.head == 2
    assert torch.equal(weights(engine, 0)["weight"], source["0.weight"])
    assert same(weights(engine, 2), weights(fresh, 2)) and not torch.equal(weights(engine, 2)["bias"][:3],
                                                                           source["2.bias"])
    assert "new head" in engine.start_report.text(engine.plan)


def test_a_layer_of_another_shape_keeps_its_fresh_weights(start_file):
    layers = [{"type": "linear", "out": 8}, {"type": "relu"}, {"type": "linear"}]
    engine, fresh = Engine(on(start_file, layers=layers)), Engine(TrainConfig.from_dict({**SPIRAL, "layers": layers}))
    assert engine.start_report.kept == () and engine.start_report.new == (0, 2)
    assert same(weights(engine, 0), weights(fresh, 0))


def test_start_weights_matches_layers_across_a_normalisation():
    plain = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    source = {f"{int(k[0]) + 1}{k[1:]}": v + 1 for k, v in plain.state_dict().items()}
    source.update({"0.mean": torch.zeros(2), "0.std": torch.ones(2)})
    before = {k: v.clone() for k, v in plain.state_dict().items()}
    assert start_weights(plain, source, 3, head=2) == ([0], [2])
    assert torch.equal(plain[0].weight, before["0.weight"] + 1) and torch.equal(plain[2].weight, before["2.weight"])


# --- freeze ---------------------------------------------------------------------------------------


def test_frozen_layers_get_no_gradient_and_never_change(start_file):
    engine = Engine(on(start_file, freeze=1, optimizer={"name": "adamw", "lr": 0.05, "weight_decay": 0.1}))
    first, head = weights(engine, 0), weights(engine, 2)
    for _ in engine.run():
        pass
    assert all(p.grad is None and not p.requires_grad for p in engine.model[0].parameters())
    assert engine.model[2].weight.grad is not None
    assert same(weights(engine, 0), first) and not same(weights(engine, 2), head)


def test_a_frozen_batchnorm_keeps_its_running_averages_and_an_unfrozen_one_updates_them():
    """The usual transfer-learning practice: a frozen layer's BatchNorm stays in eval mode through every
    epoch (and the evaluations between them, after which the engine calls model.train() again)."""
    layers = [{"type": "linear", "out": 16}, {"type": "batchnorm1d"}, {"type": "relu"},
              {"type": "linear", "out": 8}, {"type": "batchnorm1d"}, {"type": "relu"}, {"type": "linear"}]
    engine = Engine(TrainConfig.from_dict({**SPIRAL, "layers": layers, "freeze": 3, "epochs": 3, "batch_size": 16}))
    frozen, learning = weights(engine, 1), weights(engine, 4)
    for _ in engine.run():
        pass
    assert same(weights(engine, 1), frozen) and int(frozen["num_batches_tracked"]) == 0
    after = weights(engine, 4)
    assert not torch.equal(after["running_mean"], learning["running_mean"]) and int(after["num_batches_tracked"]) > 0


def test_a_fork_and_a_continued_run_train_exactly_as_the_run(start_file):
    config = on(start_file, freeze=1, epochs=4)
    engine = Engine(config)
    engine.train_epoch()
    twin, saved = engine.fork(), engine.training_state()
    resumed = Engine(config, initial_state=saved["model_state"]).continue_from(
        saved["optimizer_state"], saved["batch_order"], saved["epoch"], saved["seconds"])
    for run in (engine, twin, resumed):
        for _ in run.run():
            pass
    assert not twin.model[0].weight.requires_grad and not resumed.model[0].weight.requires_grad
    for run in (twin, resumed):
        for key, value in engine.model.state_dict().items():
            assert torch.equal(run.model.state_dict()[key], value), key


# --- hostile or wrong files --------------------------------------------------------------------------


def hostile_files(tmp_path):
    class Code:
        def __reduce__(self):
            return (print, ("ran",))

    torch.save({"format": "neural-playground-checkpoint", "payload": Code()}, tmp_path / "code.pt")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps(Code()))
    (tmp_path / "text.pt").write_text("not a model")
    with open(tmp_path / "huge.pt", "wb") as handle:  # sparse: no disk used
        handle.truncate(200 * 2**20)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    return {"code.pt": "could run code", "pickle.pt": "could run code", "text.pt": "damaged or not",
            "huge.pt": "refused", "foreign.pt": "not a Neural Playground checkpoint"}


def test_hostile_or_wrong_files_are_refused_with_a_message(tmp_path, capsys):
    for name, words in hostile_files(tmp_path).items():
        with pytest.raises(ConfigError) as error:
            Engine(on(str(tmp_path / name)))
        assert error.value.key == "start_from" and words in error.value.message, (name, error.value.message)
    assert "ran" not in capsys.readouterr().out


# --- the store --------------------------------------------------------------------------------------


def test_stored_starts_are_named_by_their_content(start_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path / "data"))
    transfer._stored_start.cache_clear()
    data = open(start_file, "rb").read()
    other = trained({**SPIRAL, "seed": 2})
    path = tmp_path / "other.pt"
    save_checkpoint(path, other.config, other.model)
    first, again = transfer.save_start(data, "upload", "a.pt"), transfer.save_start(data, "upload", "b.pt")
    second = transfer.save_start(path.read_bytes(), "upload", "a.pt")
    assert first == again and first != second and transfer.STORE_ID.fullmatch(first)
    engine = Engine(TrainConfig.from_dict({**SPIRAL, "start_from": second}))
    assert engine.start_report.name == 'the uploaded model "a.pt"' and engine.start_report.kept == (0, 2)
    assert transfer.start_bytes(second) == path.read_bytes() and transfer.start_bytes("torchvision:resnet18") is None
    from playground.export import export_script
    assert "START_FROM = 'start.pt'" in export_script(engine.config)  # the page offers the file as start.pt
    stored = transfer.starts_dir() / f"{first.split(':')[1]}.pt"
    stored.write_bytes(path.read_bytes())  # changed behind the id's back
    with pytest.raises(ConfigError, match="was changed on the server"):
        Engine(TrainConfig.from_dict({**SPIRAL, "start_from": first}))
    with pytest.raises(transfer.TransferError, match="refused"):
        transfer.save_start(b"\x80\x04junk", "upload", "x.pt")


# --- ResNet-18 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (40, 24)])
def test_the_resnet18_layers_flops_agree_with_torch(size):
    from torch.utils.flop_counter import FlopCounterMode

    plan = plan_model([{"type": "resnet18"}, {"type": "linear"}], (3, *size), 10)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        build_model(plan).eval()(torch.empty((1, *plan.input_shape)))
    assert forward_flops(plan) == counter.get_total_flops()


def test_the_resnet18_layer_counts_its_weights_and_takes_colour_images_only():
    plan = plan_model([{"type": "resnet18"}, {"type": "linear"}], (3, 32, 32), 10)
    model = build_model(plan)
    assert sum(p.numel() for p in model[0].parameters()) == pretrained.RESNET18_WEIGHTS == plan.rows[0].parameters
    assert plan.rows[0].output_shape == (512,) and model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="3 channels"):
        plan_model([{"type": "resnet18"}, {"type": "linear"}], (1, 28, 28), 10)


def test_the_resnet18_start_fills_its_layer_and_leaves_a_new_head(monkeypatch):
    monkeypatch.setattr(pretrained, "WEIGHTS", None)  # the download's code path, with untrained weights
    plan = plan_model([{"type": "resnet18"}, {"type": "linear"}], (3, 32, 32), 10)
    torch.manual_seed(0)
    model = build_model(plan, torch.zeros(()), torch.ones(()))
    config = SimpleNamespace(start_from="torchvision:resnet18", start_path_allowed=False,
                             dataset=SimpleNamespace(name="cifar10", n_classes=10))
    head = model[2].weight.clone()
    torch.manual_seed(1)
    report = transfer.start_model(model, plan, config)
    assert report.kept == (0,) and report.new == (1,) and report.head == 1
    assert torch.equal(model[2].weight, head)
    assert TrainConfig.from_dict({**SPIRAL, "start_from": "torchvision:resnet18"}).start_from


def test_offline_the_resnet18_download_says_how_to_get_it(monkeypatch, tmp_path):
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("no network")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # no cached weights
    with pytest.raises(transfer.TransferError, match="could not be downloaded.*checkpoints"):
        transfer.load_start("torchvision:resnet18")
    assert list(tmp_path.rglob("*")) == [tmp_path / "checkpoints"]  # nothing half-written is left


class FakeResponse(io.BytesIO):
    """What urlopen gives: the body, its length in the headers."""

    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


def test_a_download_says_how_far_it_got_and_checks_the_hash_in_its_name(monkeypatch, tmp_path):
    import hashlib
    import urllib.request

    body = bytes(range(256)) * (3 * 2**20 // 256)  # 3 MB: three reports
    digest = hashlib.sha256(body).hexdigest()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: FakeResponse(body))
    heard = []
    with download.reporting(heard.append):
        pretrained.fetch("https://example.invalid/model-" + digest[:8] + ".pth", tmp_path / f"m-{digest[:8]}.pth")
    assert (tmp_path / f"m-{digest[:8]}.pth").read_bytes() == body
    assert heard == [f"{pretrained.DOWNLOADING}: {n} of 3 MB" for n in (1, 2, 3)]
    with pytest.raises(ValueError, match="checksum"):
        pretrained.fetch("https://example.invalid/x", tmp_path / "other-00000000.pth")
    assert not (tmp_path / "other-00000000.pth").exists() and not list(tmp_path.glob("*.partial"))


# --- links and the pool ---------------------------------------------------------------------------


def test_a_link_carries_the_start_and_the_freeze():
    from playground.share import from_query, to_query

    config = TrainConfig.from_dict({**SPIRAL, "start_from": "run:0123456789abcdef", "freeze": 1})
    assert from_query(to_query(config)).config == config


def test_the_pool_never_shares_a_computation_between_two_different_starts(start_file, tmp_path, monkeypatch):
    from playground.pool import setup_key

    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path / "data"))
    other = trained({**SPIRAL, "seed": 2})
    save_checkpoint(tmp_path / "other.pt", other.config, other.model)
    ids = [transfer.save_start(open(path, "rb").read(), "upload", "same-name.pt")
           for path in (start_file, tmp_path / "other.pt")]
    keys = {setup_key(TrainConfig.from_dict({**SPIRAL, "start_from": start}), {}) for start in ids}
    assert len(keys) == 2


def test_the_exported_resnet18_layer_is_the_apps():
    """The script's copy of resnet18_features builds the layer's module with the same initial weights."""
    from playground.export import LAYER_CODE, _source

    names = {}
    exec(_source(pretrained.resnet18_features), names)  # noqa: S102 - our own source
    torch.manual_seed(0)
    script = eval(LAYER_CODE["resnet18"].render({"type": "resnet18"}, (3, 32, 32)), names)  # noqa: S307
    torch.manual_seed(0)
    app = build_model(plan_model([{"type": "resnet18"}, {"type": "linear"}], (3, 32, 32), 10))[0]
    assert same(script.state_dict(), app.state_dict())


def test_resnet18_with_a_new_head_trains_on_cifar10_with_its_features_frozen(tmp_path, monkeypatch):
    """The material's transfer example end to end, on a synthetic CIFAR-10 folder in the real format:
    torchvision's ResNet-18 (untrained here: the download's code path with WEIGHTS None), features frozen,
    a new Linear head for the 10 classes; only the head changes."""
    from cifar_folder import write_cifar_folder
    from playground import images

    monkeypatch.setattr(pretrained, "WEIGHTS", None)
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    write_cifar_folder(tmp_path, per_batch=4, n_test=8)
    images.clear_cache()
    try:
        config = TrainConfig.from_dict({"dataset": {"name": "cifar10"}, "layers": [{"type": "resnet18"},
                                        {"type": "linear"}], "start_from": "torchvision:resnet18", "freeze": 1,
                                        "epochs": 1, "batch_size": 8, "device": "cpu"})
        engine = Engine(config)
        features = [p.detach().clone() for p in engine.model[1].parameters()]
        averages = {k: v.clone() for k, v in engine.model[1].state_dict().items() if "running" in k}
        head = engine.model[2].weight.detach().clone()
        for _ in engine.run():
            pass
    finally:
        images.clear_cache()
    assert all(torch.equal(a, b) for a, b in zip(features, engine.model[1].parameters()))
    assert len(averages) == 40 and same({k: engine.model[1].state_dict()[k] for k in averages}, averages)  # 20 BNs
    assert not torch.equal(head, engine.model[2].weight) and engine.model[2].out_features == 10


# --- the Draw page's MNIST model as a start ---------------------------------------------------------


def test_a_start_from_the_default_model_trains_it_first_when_this_machine_has_none(tmp_path, monkeypatch):
    """A run's runner (and a race, and the CLI) prepares the Draw page's model before building the engine, as
    the Draw page would (saved for both), saying so on the run's status line; then the engine reads the file.
    Without it the engine says what will happen. A small stand-in for the default config keeps it short."""
    from playground import default_start
    from playground.default_model import PREPARING, prepare_start
    from playground.progress import COMPLETED
    from playground.runner import TrainingRunner

    data = {**default_start.DEFAULT_CONFIG.to_dict(), "epochs": 1}
    small = TrainConfig.from_dict({**data, "dataset": {**data["dataset"], "train_images": 200, "test_images": 50}})
    monkeypatch.setattr(default_start, "DEFAULT_CONFIG", small)
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    run = TrainConfig.from_dict({**small.to_dict(), "start_from": "default:mnist", "freeze": 1, "epochs": 1})
    transfer._default_start.cache_clear()
    heard = []
    try:
        with pytest.raises(ConfigError, match="a run started from the Playground.* trains it first"):
            Engine(run)
        runner = TrainingRunner(run).start()
        runner.join(120)
        saved = default_start.saved_default_model(small)
        with download.reporting(heard.append):
            prepare_start(run)  # the file is there: nothing to do, nothing said
        engine = Engine(run)
    finally:
        transfer._default_start.cache_clear()
    assert runner.snapshot().status == COMPLETED and PREPARING not in runner.snapshot().message
    assert saved is not None and heard == [] and engine.start_report.name == "the Draw page's MNIST model"
    start = torch.load(saved, weights_only=True)["state_dict"]  # its layer 0 after the input normalisation
    assert torch.equal(weights(engine, 0)["weight"], start["1.weight"])


def test_prepare_start_reports_the_training_of_the_default_model(tmp_path, monkeypatch):
    from playground import default_start
    from playground.default_model import PREPARING, prepare_start

    data = {**default_start.DEFAULT_CONFIG.to_dict(), "epochs": 1}
    small = TrainConfig.from_dict({**data, "dataset": {**data["dataset"], "train_images": 100, "test_images": 20}})
    monkeypatch.setattr(default_start, "DEFAULT_CONFIG", small)
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    heard = []
    with download.reporting(heard.append):
        prepare_start(TrainConfig.from_dict({**small.to_dict(), "start_from": "default:mnist"}))
        prepare_start(TrainConfig.from_dict(small.to_dict()))  # no start: nothing to prepare
    assert heard and all(text.startswith(f"{PREPARING}: ") for text in heard)
    assert any("Training the default model: epoch 1 of 1" in text for text in heard) and heard[-1].endswith("Ready.")
    assert default_start.saved_default_model(small) is not None
