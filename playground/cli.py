"""Command line: train a config headlessly, or run a saved model on one input.

    python -m playground train CONFIG.json [--save model.pt] [--quiet]
    python -m playground predict model.pt X1 [X2 ...]

`train` runs the same Engine the page runs, logs progress to stderr and prints one JSON object
of final metrics as the last line of stdout. A bad config exits with code 2 and a one-line error
naming the key; a bad model file or input likewise.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import ConfigError, TrainConfig
from .layers import LayerError

BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground", description="Neural Playground command line")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a config and print final metrics as JSON")
    train.add_argument("config", type=Path, help="config JSON file (the page can download one)")
    train.add_argument("--save", type=Path, help="write the trained model to this .pt file")
    train.add_argument("--quiet", action="store_true", help="no progress on stderr")
    predict = commands.add_parser("predict", help="print a saved model's output for one input as JSON")
    predict.add_argument("model", type=Path, help=".pt file written by train --save or the page")
    predict.add_argument("inputs", nargs="+", help="input feature values")
    args = parser.parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _predict(args)
    except (ConfigError, LayerError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT


def _train(args) -> int:
    from .engine import Diverged, Engine  # torch import is slow: only when needed

    try:
        text = args.config.read_text()
    except OSError as error:
        raise ValueError(f"cannot read {args.config}: {error.strerror}") from None
    config = TrainConfig.from_json(text)
    engine = Engine(config)
    last_log = time.monotonic()
    for event in engine.run():
        if isinstance(event, Diverged):
            print(f"warning: {event.message}", file=sys.stderr)
        elif not args.quiet and (time.monotonic() - last_log > 1.0 or event.epoch == config.epochs):
            print(f"epoch {event.epoch}/{config.epochs}  train loss {event.train.loss:.4g}", file=sys.stderr)
            last_log = time.monotonic()
    metrics = engine.final_metrics()
    if args.save:
        save_checkpoint(args.save, config, engine.model, engine.dataset.class_names, metrics)
    print(json.dumps(metrics))
    return 0


def _predict(args) -> int:
    loaded = load_checkpoint(args.model)
    try:
        x = [float(v) for v in args.inputs]
    except ValueError:
        raise ValueError(f"inputs must be numbers, got {' '.join(args.inputs)}") from None
    expected = loaded.model[0].mean.shape[0] if hasattr(loaded.model[0], "mean") else _in_features(loaded)
    if len(x) != expected:
        raise ValueError(f"the model takes {expected} input value(s), got {len(x)}")
    output = loaded.predict([x])[0].tolist()
    result: dict = {"input": x, "output": output}
    if loaded.class_names:
        best = max(range(len(output)), key=output.__getitem__)
        result.update(prediction=best, label=loaded.class_names[best],
                      probabilities=dict(zip(loaded.class_names, output)))
    else:
        result["prediction"] = output[0]
    print(json.dumps(result))
    return 0


def _in_features(loaded) -> int:
    from .engine import plan_for

    return plan_for(loaded.config).input_shape[0]
