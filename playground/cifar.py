"""CIFAR-10's "python version" files, read safely: a folder `cifar-10-batches-py` of pickled batches.

Each batch (`data_batch_1` .. `data_batch_5`, `test_batch`) is a pickled dict whose "data" is a uint8
array of N rows of 3,072 values (the red 32x32 plane row by row, then green, then blue) and whose
"labels" are N class ids 0-9; `batches.meta` holds the ten "label_names". The files may have been put
there by anyone, so `SafeUnpickler` rebuilds plain data and numpy arrays only (any other class or
function named in a file is refused before it is touched), each file's size is capped before it is
read, and every shape and label is checked. Problems raise ValueError with a sentence naming the file.

`SafeUnpickler`, `read_batch`, `batch_arrays` and `read_cifar_folder` are copied verbatim into exported
scripts (export.py), so they use only pickle, pathlib and numpy. Knows nothing about where the data
folder is, downloads, models or the UI (images.py finds the folder and downloads the archive).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"  # what the archive unpacks to, and where torchvision puts it
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # the "python version" archive (163 MB)
MD5 = "c58f30108f718f92721af3b95e74349a"  # the archive's, as torchvision checks it
MAX_UNPACKED = 250_000_000  # bytes the archive may unpack to (the real one: 186 MB)
DOWNLOADING = "Downloading CIFAR-10"  # begins each progress report
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SHAPE = (3, 32, 32)  # (C, H, W) of one image


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain data (dicts, lists, bytes, text, numbers) and numpy arrays, nothing else.

    A pickle may name any class or function to call; this one refuses every name but the numpy and codec
    helpers that rebuild an array (and those only as array pickles call them), so a file holding, say,
    `os.system` is refused unread.
    """

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused: it names {module}.{name}, which could run code")
        if name == "_reconstruct":
            return SafeUnpickler.empty_array
        if name == "encode":
            return SafeUnpickler.latin1
        return getattr(np, name)

    @staticmethod
    def empty_array(subtype, shape, dtype):
        """numpy's `_reconstruct` as array pickles call it: an empty array, which the pickle's next step fills
        (numpy checks that the data fits the shape). Any other call, e.g. a huge shape, is refused."""
        if subtype is not np.ndarray or tuple(shape) != (0,):
            raise pickle.UnpicklingError("refused: an array rebuilt other than numpy's pickles do")
        return np.ndarray((0,), dtype)

    @staticmethod
    def latin1(text, encoding="utf-8"):
        """`_codecs.encode` as a Python 3 pickle of bytes uses it: text to bytes, Latin-1 only."""
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError("refused: an encoding other than Latin-1")
        return text.encode("latin1")


def read_batch(path, max_bytes=80_000_000):
    """One pickled batch as (images (N, 3, 32, 32) uint8, labels (N,) int64); ValueError if it is not one."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:  # a real batch is about 31 MB
        raise ValueError(f"{path.name} is {size / 1e6:,.0f} MB, more than a CIFAR-10 batch (about 31 MB)")
    try:
        with open(path, "rb") as handle:
            batch = SafeUnpickler(handle, encoding="latin1").load()
    except pickle.UnpicklingError as error:
        if str(error).startswith("refused"):
            raise ValueError(f"{path.name} was {error}; it was not loaded") from None
        raise ValueError(f"{path.name} is damaged or not a CIFAR-10 batch (it could not be unpickled)") from None
    except Exception:  # noqa: BLE001 - truncated or garbage files raise EOFError, ValueError, MemoryError, ...
        raise ValueError(f"{path.name} is damaged or not a CIFAR-10 batch (it could not be unpickled)") from None
    return batch_arrays(batch, path.name)


def batch_arrays(batch, name):
    """The images and labels of an unpickled batch, checked: 3,072 uint8 values and one label 0-9 per image."""
    if not isinstance(batch, dict):
        raise ValueError(f"{name} holds a {type(batch).__name__}, not a CIFAR-10 batch (a dict)")
    batch = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if isinstance(data, bytes):
        data = np.frombuffer(data, np.uint8).reshape(-1, 3072) if len(data) % 3072 == 0 else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{name} has no 'data' of 3,072 uint8 values (3 x 32 x 32) per image")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} has no 'labels' of whole numbers") from None
    if labels.shape != (len(data),):
        raise ValueError(f"{name} has {len(data):,} images but its 'labels' are not one number per image")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{name} has a label outside 0-9")
    return data.reshape(-1, 3, 32, 32), labels  # each row: the red plane, then green, then blue


def read_cifar_folder(folder):
    """Training images, labels, test images, labels from the six batch files in `folder`."""
    folder = Path(folder)
    train = [read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = read_batch(folder / "test_batch")
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test)


def read_class_names(folder: Path) -> tuple[str, ...]:
    """The ten class names in `batches.meta` (the standard names when the file is absent)."""
    path = Path(folder) / "batches.meta"
    if not path.is_file():
        return CLASS_NAMES
    if path.stat().st_size > 100_000:
        raise ValueError("batches.meta is larger than a CIFAR-10 meta file")
    try:
        with open(path, "rb") as handle:
            meta = SafeUnpickler(handle, encoding="latin1").load()
        names = meta.get("label_names", meta.get(b"label_names"))
        names = tuple(n.decode("latin1") if isinstance(n, bytes) else n for n in names)
    except Exception:  # noqa: BLE001 - damaged, foreign or refused: all the same to the user
        raise ValueError("batches.meta is damaged or not CIFAR-10's (no 'label_names')") from None
    if len(names) != 10 or not all(isinstance(n, str) and n.isprintable() and 0 < len(n) <= 40 for n in names):
        raise ValueError("batches.meta's 'label_names' are not ten short names")
    return names


def how_to_get(data_folder: Path) -> str:
    """Where to put CIFAR-10 by hand (offline), or how to let torchvision download it."""
    return (f"get CIFAR-10's python version from {URL} (163 MB), unpack it and put its {FOLDER} folder in "
            f"{data_folder} (or set PLAYGROUND_DATA to the folder that holds it); with internet access, "
            "unset PLAYGROUND_OFFLINE and the app downloads it there")
