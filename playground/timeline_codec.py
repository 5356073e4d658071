"""A `Timeline` as compact bytes for the run store, and back, refusing anything malformed.

The bytes are MAGIC, a 4-byte big-endian header length, a JSON header (kind, epochs, grid size) and
one zlib stream of the raw arrays: for boundaries the cell centres (float32) and every frame's class
and confidence grids (uint8); for curves the x positions and every frame's outputs (float32). Before
compressing, each frame's grids are XORed with the previous frame's (they change little from one
kept epoch to the next, so the differences are mostly zeros). Decoding never unpickles, reads a
header of at most MAX_HEADER bytes and decompresses at most the size the header promises (itself
bounded), so a hostile blob costs bounded memory and time. A timeline over MAX_BYTES is thinned
(every other frame, the last kept) until it fits. Knows nothing about SQLite or training.
"""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from .frames import CONFIDENCE_LEVELS, BoundaryFrame, CurveFrame
from .timeline import MAX_FRAMES, Timeline

MAGIC = b"NPTL1"
MAX_HEADER = 16_384  # bytes of JSON header
MAX_GRID = 256  # cells per axis (frames.GRID_SIZE is 100; curves use 200 points): at most ~16 MB decoded
MAX_BYTES = 512 * 1024  # most bytes one run's timeline takes in the store (a typical boundary run takes ~70 kB)


class TimelineDecodeError(ValueError):
    """The bytes are not a timeline this version wrote."""


def encode(timeline: Timeline, most: int = MAX_BYTES) -> bytes | None:
    """The timeline as at most `most` bytes (thinned to every other frame, the last kept, until it fits;
    None when not even its last frame does); None when it has no frames."""
    frames = timeline.frames
    while frames:
        blob = _encode(frames)
        if len(blob) <= most:
            return blob
        frames = () if len(frames) == 1 else frames[::-1][::2][::-1]  # every other one, counted back from the last
    return None


def _encode(frames: tuple) -> bytes:
    first = frames[0]
    kind = "boundary" if isinstance(first, BoundaryFrame) else "curve"
    header = {"kind": kind, "epochs": [int(f.epoch) for f in frames], "size": int(first.xs.shape[0])}
    if kind == "boundary":
        grids = np.stack([np.stack([f.classes, f.confidence]) for f in frames]).astype(np.uint8)
        grids[1:] ^= grids[:-1].copy()  # each frame as its change from the previous one
        parts = [first.xs.astype(np.float32), first.ys.astype(np.float32), grids]
    else:
        parts = [first.xs.astype(np.float32), np.stack([f.ys for f in frames]).astype(np.float32)]
    payload = zlib.compress(b"".join(np.ascontiguousarray(p).tobytes() for p in parts), 6)
    head = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">I", len(head)) + head + payload


def decode(blob: bytes) -> Timeline:
    """A timeline from `encode`'s bytes; TimelineDecodeError when they are damaged or not ours."""
    header, payload = _split(bytes(blob))
    kind, epochs, size = _check_header(header)
    n = len(epochs)
    if kind == "boundary":
        raw = _inflate(payload, 2 * size * 4 + n * 2 * size * size)
        xs, ys = (np.frombuffer(raw, np.float32, size, offset) for offset in (0, size * 4))
        grids = np.frombuffer(raw, np.uint8, offset=8 * size).reshape(n, 2, size, size)
        grids = np.bitwise_xor.accumulate(grids, axis=0)  # undo the frame-to-frame differences
        if grids[:, 1].max(initial=0) >= CONFIDENCE_LEVELS:
            raise TimelineDecodeError("a confidence level is out of range")
        frames = tuple(BoundaryFrame(e, xs, ys, g[0], g[1]) for e, g in zip(epochs, grids))
    else:
        raw = _inflate(payload, size * 4 + n * size * 4)
        xs = np.frombuffer(raw, np.float32, size)
        outputs = np.frombuffer(raw, np.float32, offset=size * 4).reshape(n, size)
        frames = tuple(CurveFrame(e, xs, y) for e, y in zip(epochs, outputs))
    return Timeline(frames)


def _split(blob: bytes) -> tuple[dict, bytes]:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        raise TimelineDecodeError("not a timeline")
    (length,) = struct.unpack(">I", blob[len(MAGIC):len(MAGIC) + 4])
    if length > MAX_HEADER:
        raise TimelineDecodeError("its header is too long")
    start = len(MAGIC) + 4
    try:
        header = json.loads(blob[start:start + length])
    except ValueError as error:
        raise TimelineDecodeError(f"its header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise TimelineDecodeError("its header is not an object")
    return header, blob[start + length:]


def _check_header(header: dict) -> tuple[str, list[int], int]:
    kind, epochs, size = header.get("kind"), header.get("epochs"), header.get("size")
    if kind not in ("boundary", "curve"):
        raise TimelineDecodeError(f"unknown kind {kind!r}")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_GRID:
        raise TimelineDecodeError("bad grid size")
    if (not isinstance(epochs, list) or not 1 <= len(epochs) <= MAX_FRAMES
            or not all(isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in epochs)
            or any(b <= a for a, b in zip(epochs, epochs[1:]))):
        raise TimelineDecodeError("bad epochs")
    return kind, epochs, size


def _inflate(payload: bytes, expected: int) -> bytes:
    """Decompress exactly `expected` bytes (never more, whatever the stream says)."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(payload, expected + 1)
    except zlib.error as error:
        raise TimelineDecodeError(f"its frames are damaged ({error})") from None
    if len(raw) != expected or inflater.unconsumed_tail or not inflater.eof:
        raise TimelineDecodeError("its frames have the wrong size")
    return raw
