"""Command line: train a config headlessly, or run a saved model on one input.

    python -m playground train CONFIG.json [--save model.pt] [--quiet]
    python -m playground predict model.pt X1 [X2 ...]
    python -m playground predict model.pt IMAGE.png     (image models: PNG/JPEG/.npy, grey 0-255)
    python -m playground export CONFIG.json [-o script.py]

CONFIG may also be a Playground link ('http://host:8501/Playground?dataset.name=...'): the setup
in its address is trained or exported ('?lesson=NAME' alone: that lesson's setup). A CSV dataset
may name its table by path here, and a class_digits dataset may name any class (read from the server's store).

`train` runs the same Engine the page runs (toy or image datasets), logs progress to stderr and
prints one JSON object of final metrics as the last line of stdout; `--save` is checked before
training and written through a temporary file beside it, so an existing model is replaced only by
a complete one. A bad config exits with code 2 and a one-line error naming the key; a bad model
file or input (not a finite number) likewise. Negative inputs need no `--`: `predict m.pt -1.5 2`.

`export` prints a standalone PyTorch script that trains the same run (`-o` writes it to a file).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path

from . import download
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .class_digits import pinned_config
from .config import ConfigError, TrainConfig
from .default_model import prepare_start
from .engine import BatchProgress, Diverged, Engine, EpochEnd
from .export import export_script
from .images import ImageDataError
from .layers import LayerError

BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground", description="Neural Playground command line")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a config and print final metrics as JSON")
    train.add_argument("config", help="config JSON file (the page can download one), or a Playground link")
    train.add_argument("--save", type=Path, help="write the trained model to this .pt file")
    train.add_argument("--quiet", action="store_true", help="no progress on stderr")
    predict = commands.add_parser("predict", help="print a saved model's output for one input as JSON")
    predict.add_argument("model", type=Path, help=".pt file written by train --save or the page")
    predict.add_argument("inputs", nargs="+", help="input feature values, or one image file for an image model")
    export = commands.add_parser("export", help="print a standalone PyTorch script that trains the config")
    export.add_argument("config", help="config JSON file (the page can download one), or a Playground link")
    export.add_argument("-o", "--output", type=Path, help="write the script to this file instead of printing it")
    args = parser.parse_args(_negative_numbers_as_inputs(sys.argv[1:] if argv is None else argv))
    try:
        return {"train": _train, "predict": _predict, "export": _export}[args.command](args)
    except (ConfigError, LayerError, CheckpointError, ValueError, ImageDataError) as error:  # images: e.g. offline
        # without CIFAR-10's folder, where the message says how to get it
        print("error: " + " ".join(str(error).split()), file=sys.stderr)  # one line, whatever the message
        return BAD_INPUT


def _negative_numbers_as_inputs(argv: list[str]) -> list[str]:
    """`predict model.pt -1e3 2`: argparse takes "-1e3" for an option; a "--" before the first
    negative number makes it and what follows inputs."""
    if not argv or argv[0] != "predict" or "--" in argv:
        return argv
    for i, token in enumerate(argv):
        if token.startswith("-") and _is_number(token):
            return [*argv[:i], "--", *argv[i:]]
    return argv


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _train(args) -> int:
    config = pinned_config(_read_config(args.config))  # a class's drawings: any class, by its code (the admin's)
    if args.save:
        _check_writable(args.save)
    last_log = [time.monotonic(), ""]  # when, and what, it last printed

    def log(text: str, force: bool = False) -> None:
        if not args.quiet and (force or time.monotonic() - last_log[0] > 1.0):
            print(text, file=sys.stderr)
            last_log[:] = time.monotonic(), text

    heard = []  # a download (CIFAR-10, ResNet-18's weights) or the default model's training, while the engine is built
    with download.reporting(lambda text: (log(text, force=not heard), heard.append(text))):
        prepare_start(config)  # the Draw page's model, trained once on this machine when the start needs it
        engine = Engine(config)
    if heard and last_log[1] != heard[-1]:
        log(heard[-1], force=True)  # where it ended (e.g. "163 of 163 MB")
    if engine.start_report is not None and not args.quiet:
        print(engine.start_report.text(engine.plan), file=sys.stderr)

    for event in engine.run():
        if isinstance(event, BatchProgress):
            log(f"epoch {event.epoch:.2f}/{config.epochs}  train loss {event.loss:.4g}")
        elif isinstance(event, Diverged):
            print(f"warning: {event.message}", file=sys.stderr)
        elif isinstance(event, EpochEnd):
            test = f"  test score {event.test.score:.4g}" if event.test and event.test.score is not None else ""
            log(f"epoch {event.epoch}/{config.epochs}  train loss {event.train.loss:.4g}{test}",
                force=event.epoch == config.epochs or engine.dataset.is_image)
    metrics = engine.final_metrics()
    if args.save:
        with _replacing(args.save) as handle:
            save_checkpoint(handle, config, engine.model, engine.dataset.class_names, metrics)
    print(json.dumps(metrics))
    return 0


def _export(args) -> int:
    script = export_script(_read_config(args.config))
    if args.output is None:
        print(script, end="")
        return 0
    try:
        args.output.write_text(script, encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _check_writable(path: Path) -> None:
    """ValueError unless `path` can be written as `_replacing` writes it: found before training, not after.

    A folder, a missing folder, a device or /proc file, or a folder where no file can be created
    is refused; an existing file is left as it is.
    """
    try:
        folder, parent, other = path.is_dir(), path.parent.is_dir(), path.exists() and not path.is_file()
    except OSError as error:  # e.g. a name too long for the file system
        raise ValueError(f"cannot write {path}: {error.strerror}") from None
    if folder:
        raise ValueError(f"cannot write {path}: it is a folder; name a file such as {path / 'model.pt'}")
    if not parent:
        raise ValueError(f"cannot write {path}: the folder {path.parent} does not exist")
    if other:
        raise ValueError(f"cannot write {path}: it is not a regular file; name a .pt file in a folder of yours")
    with _replacing(path, keep=False):
        pass


@contextlib.contextmanager
def _replacing(path: Path, keep: bool = True):
    """A new file beside `path` to write into; on success it replaces `path` (`keep`) or is removed.

    The temporary name lives in the same folder, so the final rename is atomic: an existing file
    is never truncated, and a failed write leaves it as it was. ValueError naming the problem.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        handle = open(temporary, "xb")
    except OSError as error:
        raise ValueError(f"cannot write {path}: no file can be created in {path.parent} ({error.strerror})") from None
    try:
        with handle:
            yield handle
        if keep:
            os.replace(temporary, path)
    except (OSError, RuntimeError) as error:  # torch reports some OS errors as RuntimeError
        raise ValueError(f"cannot write {path}: {getattr(error, 'strerror', None) or error}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _read_config(source: str) -> TrainConfig:
    """The config in a JSON file, or in a Playground link's address. Here, unlike in the app, a CSV
    dataset may name its table by path (`allow_paths`)."""
    if "?" in source and not _is_file(source):
        return _link_config(source)
    try:
        return TrainConfig.from_json(Path(source).read_text(encoding="utf-8"), allow_paths=True)
    except OSError as error:
        raise ValueError(f"cannot read {source}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {source}: it is not a text file (a config is JSON text, "
                         "as the page's Download config gives)") from None


def _is_file(source: str) -> bool:
    try:
        return Path(source).exists()
    except OSError:  # e.g. a name too long for a file: a long link
        return False


def _link_config(address: str) -> TrainConfig:
    """The setup in a Playground link, read as the page reads it: `?lesson=NAME` alone is that lesson."""
    from urllib.parse import parse_qsl, urlsplit

    from .lessons import LESSONS
    from .share import LESSON, from_query, has_config, to_query

    params = dict(parse_qsl(urlsplit(address).query, keep_blank_values=True))
    lesson = LESSONS.get(params.get(LESSON, ""))
    if lesson is not None and not has_config(params):
        params = {**to_query(lesson.config, lesson.hide, lesson.slug), **params}
    if params.get(LESSON) and lesson is None and not has_config(params):
        raise ConfigError(LESSON, f"{params[LESSON]!r} is not a lesson; the lessons are: {', '.join(LESSONS)}")
    if not has_config(params):
        raise ConfigError("link", "holds no setup (no dataset.name=..., layers=... parameters): copy the link "
                                  "from the Playground's Share panel")
    return from_query(params, allow_paths=True).config


def _predict(args) -> int:
    loaded = load_checkpoint(args.model, needs_table=False)  # a csv model predicts without its table
    if loaded.is_image:
        x, shown = _image_input(args.inputs, loaded.input_shape), args.inputs[0]
    else:
        shape = loaded.input_shape  # (features,), or a sequence (steps, 1): its values in order
        x = _feature_input(args.inputs, math.prod(shape))
        shown, x = x, [x] if len(shape) == 1 else [[[v] for v in x]]
    output = loaded.predict(x)[0].tolist()
    if not all(math.isfinite(value) for value in output):
        raise ValueError("the model's output is not a number (its weights may have diverged in training)")
    result: dict = {"input": shown, "output": output}
    if loaded.class_names:
        best = max(range(len(output)), key=output.__getitem__)
        result.update(prediction=best, label=loaded.class_names[best],
                      probabilities=dict(zip(loaded.class_names, output)))
    else:
        result["prediction"] = output[0]
    print(json.dumps(result))
    return 0


def _feature_input(inputs: list[str], expected: int) -> list[float]:
    try:
        x = [float(v) for v in inputs]
    except ValueError:
        raise ValueError(f"inputs must be numbers, got {' '.join(inputs)}") from None
    if len(x) != expected:
        raise ValueError(f"the model takes {expected} input value(s), got {len(x)}")
    bad = next((i for i, value in enumerate(x) if not math.isfinite(value)), None)
    if bad is not None:
        raise ValueError(f"input {bad + 1} is {inputs[bad]!r}: inputs must be finite numbers")
    return x


def _image_input(inputs: list[str], shape: tuple[int, int, int]):
    """One image file as a (1, C, H, W) array of 0-255 values, resized to the model's input."""
    import numpy as np

    if len(inputs) != 1:
        kind = "grey" if shape[0] == 1 else "colour"
        raise ValueError(f"this model takes one image file ({shape[1]}x{shape[2]} {kind}), got {len(inputs)} inputs")
    path = Path(inputs[0])
    try:
        if path.suffix.lower() == ".npy":
            image = np.load(path, allow_pickle=False)
        else:
            from PIL import Image

            with Image.open(path) as picture:
                image = np.asarray(picture.convert("L" if shape[0] == 1 else "RGB").resize((shape[2], shape[1])))
    except Exception as error:  # noqa: BLE001 - missing, unreadable or not an image: one clear line
        raise ValueError(f"cannot read image {path}: {error}") from None
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[-1] == shape[0] > 1 and image.shape[0] != shape[0]:
        image = image.transpose(2, 0, 1)  # (H, W, RGB), as pictures keep colour, to the model's (RGB, H, W)
    if image.size != shape[0] * shape[1] * shape[2]:
        raise ValueError(f"the image has shape {image.shape} but the model takes {shape[1]}x{shape[2]} pixels")
    return image.reshape(1, *shape)
