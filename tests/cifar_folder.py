"""A synthetic CIFAR-10 folder in the real file format, for tests: five training batches and a test batch
of pickled dicts (b"data": N x 3,072 uint8, the red, green and blue 32x32 planes; b"labels": N ids) and
batches.meta (b"label_names"), as the python-version archive holds. Its pixels are random with a
bright red, green or blue square whose colour and corner depend on the class, so a small CNN learns it."""
import pickle
import struct
from pathlib import Path

import numpy as np

from playground import cifar

NAMES = [name.encode() for name in cifar.CLASS_NAMES]


def class_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 3, 32, 32) uint8: noise plus a square in channel label % 3, in a corner that depends on label."""
    images = rng.integers(0, 96, (len(labels), 3, 32, 32), dtype=np.uint8)
    for i, label in enumerate(labels):
        top, left = (label // 4) * 10, (label % 4) * 8
        images[i, label % 3, top:top + 10, left:left + 8] = 255
    return images


def write_batch(path: Path, labels: np.ndarray, rng: np.random.Generator, protocol: int = 2) -> np.ndarray:
    images = class_images(labels, rng)
    batch = {b"batch_label": b"synthetic", b"labels": [int(v) for v in labels],
             b"data": images.reshape(len(labels), 3072), b"filenames": [b"x.png"] * len(labels)}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))
    return images


def write_cifar_folder(root: Path, per_batch: int = 20, n_test: int = 20, seed: int = 0, protocol: int = 2) -> Path:
    """`root`/cifar-10-batches-py with 5 x `per_batch` training and `n_test` test images; returns the folder."""
    folder = Path(root) / cifar.FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(1, 6):
        write_batch(folder / f"data_batch_{i}", np.arange(per_batch) % 10, rng, protocol)
    write_batch(folder / "test_batch", np.arange(n_test) % 10, rng, protocol)
    meta = {b"label_names": NAMES, b"num_cases_per_batch": per_batch, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return folder


def python2_batch(pixels: np.ndarray, labels: list[int]) -> bytes:
    """A batch as the real archive holds it: Python 2's cPickle (protocol 2) of a dict of py2 strings and a
    numpy array rebuilt by numpy.core.multiarray._reconstruct (written opcode by opcode: Python 3 cannot)."""
    def text(value: str) -> bytes:  # SHORT_BINSTRING: a Python 2 str
        return b"U" + bytes([len(value)]) + value.encode("latin1")

    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + text("b") + b"\x87R"
             + b"(K\x01M" + struct.pack("<H", len(pixels)) + b"M\x00\x0c\x86"  # state: version 1, shape (N, 3072),
             + b"cnumpy\ndtype\n" + text("u1") + b"K\x00K\x01\x87R"  # dtype uint8...
             + b"(K\x03" + text("|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
             + b"\x89T" + struct.pack("<i", pixels.size) + pixels.tobytes() + b"tb")  # not Fortran, the bytes
    label_list = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + text("data") + array + text("labels") + label_list + b"u."
