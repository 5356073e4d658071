"""Timelines as bytes for the run store: exact round trips, compact, and bounded refusal of bad bytes."""
import json
import struct
import zlib

import numpy as np
import pytest

from playground.datasets import make_dataset
from playground.frames import CONFIDENCE_LEVELS, BoundaryFrame, boundary_frame, curve_frame
from playground.timeline import MAX_FRAMES, Timeline, keep_epochs
from playground.timeline_codec import MAGIC, TimelineDecodeError, decode, encode

SPIRAL = make_dataset("spiral", {"classes": 3})
SINE = make_dataset("sine")


def rotating(epoch: int):
    """A 3-class predictor whose boundary turns with the epoch (frames that differ, as in training)."""
    def predict(points: np.ndarray) -> np.ndarray:
        angle = np.arctan2(points[:, 1], points[:, 0]) + epoch / 100
        logits = np.stack([np.cos(angle - k * 2.1) for k in range(3)], axis=1) * 4
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return predict


def spiral_timeline(total: int = 1000) -> Timeline:
    return Timeline(tuple(boundary_frame(SPIRAL, rotating(e), e) for e in keep_epochs(total)))


def test_a_boundary_timeline_reads_back_equal():
    timeline = spiral_timeline()
    back = decode(encode(timeline))
    assert back.epochs == timeline.epochs
    for a, b in zip(timeline.frames, back.frames):
        assert np.array_equal(a.classes, b.classes) and np.array_equal(a.confidence, b.confidence)
        assert np.array_equal(a.xs, b.xs) and np.array_equal(a.ys, b.ys)
        assert b.classes.dtype == np.uint8


def test_a_curve_timeline_reads_back_equal():
    timeline = Timeline(tuple(curve_frame(SINE, lambda x, e=e: np.sin(x * e / 10), e) for e in range(5)))
    back = decode(encode(timeline))
    assert back.epochs == timeline.epochs
    assert all(np.array_equal(a.ys, b.ys) and np.array_equal(a.xs, b.xs) for a, b in zip(timeline.frames, back.frames))


def test_a_full_timeline_is_compact():
    timeline = spiral_timeline()
    raw = sum(f.classes.nbytes + f.confidence.nbytes for f in timeline.frames)
    assert len(timeline) >= 100 and len(encode(timeline)) < raw / 5


def test_a_timeline_over_the_byte_limit_is_thinned_to_fit_keeping_its_last_frame():
    axis = np.linspace(-1, 1, 100, dtype=np.float32)
    rng = np.random.default_rng(0)  # noise: incompressible, ~20 kB a frame
    frames = tuple(BoundaryFrame(e, axis, axis, rng.integers(0, 3, (100, 100), dtype=np.uint8),
                                 rng.integers(0, 8, (100, 100), dtype=np.uint8)) for e in range(100))
    blob = encode(Timeline(frames), most=200_000)
    back = decode(blob)
    assert len(blob) <= 200_000 and back.final.epoch == 99 and 2 <= len(back) < 100
    assert np.array_equal(back.final.classes, frames[-1].classes)
    assert encode(Timeline(frames), most=100) is None  # not even one frame fits


def test_an_empty_timeline_is_not_stored():
    assert encode(Timeline()) is None


def blob(header: dict, payload: bytes) -> bytes:
    head = json.dumps(header).encode()
    return MAGIC + struct.pack(">I", len(head)) + head + payload


GOOD = {"kind": "boundary", "epochs": [0, 1], "size": 4}
GOOD_PAYLOAD = np.zeros(8 * 4 + 2 * 2 * 16, np.uint8).tobytes()


@pytest.mark.parametrize("bad", [
    b"", b"pickle\x80\x04", MAGIC, MAGIC + struct.pack(">I", 10**9) + b"{}",
    blob({"kind": "pickle", "epochs": [0], "size": 4}, b""),
    blob({**GOOD, "size": 10**6}, b""), blob({**GOOD, "size": True}, b""),
    blob({**GOOD, "epochs": [1, 0]}, zlib.compress(GOOD_PAYLOAD)),
    blob({**GOOD, "epochs": list(range(MAX_FRAMES + 1))}, b""),
    blob({**GOOD, "epochs": ["0", 1]}, b""),
    blob(GOOD, b"not zlib"),
    blob(GOOD, zlib.compress(GOOD_PAYLOAD[:-1])),  # too short
    blob(GOOD, zlib.compress(GOOD_PAYLOAD + bytes(10**7))),  # a bomb: far more than the header promises
    blob(GOOD, zlib.compress(GOOD_PAYLOAD)[:-3]),  # truncated
    blob(GOOD, zlib.compress(GOOD_PAYLOAD[:-1] + bytes([CONFIDENCE_LEVELS]))),  # a confidence out of range
], ids=range(15))
def test_bad_bytes_are_refused(bad):
    with pytest.raises(TimelineDecodeError):
        decode(bad)


def test_the_smallest_valid_blob_decodes():
    assert decode(blob(GOOD, zlib.compress(GOOD_PAYLOAD))).epochs == (0, 1)
