"""CIFAR-10's download (images.download_cifar, download.fetch/extract_folder) against a loopback server with a
synthetic archive (tests/cifar_server.py; nothing reaches the internet): progress reported, the folder
unpacked whole, a wrong checksum or a hostile archive refused with nothing left behind, the background
download a page starts, and the command line's progress lines."""
import contextlib
import json

import pytest

from cifar_folder import write_cifar_folder
from cifar_server import HOSTILE, archive_bytes, hostile_archive, md5, serving
from playground import cifar, dataset_download, download, images
from playground.images import ImageDataError, load_images, needs_download

MB = 2**20


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data folder, downloads allowed (to the loopback only: each test patches the address)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("PLAYGROUND_DATA", str(root))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "0")
    images.clear_cache()
    yield root
    images.clear_cache()


@pytest.fixture
def synthetic(tmp_path):
    """A synthetic CIFAR-10 folder outside the data folder, to pack."""
    return write_cifar_folder(tmp_path / "source", per_batch=20, n_test=30)


@contextlib.contextmanager
def serve(monkeypatch, body: bytes, checksum: str | None = None):
    """Serve `body` as CIFAR-10's archive with its md5 (or `checksum`) as the one expected."""
    monkeypatch.setattr(cifar, "MD5", checksum or md5(body))
    with serving(body) as url:
        monkeypatch.setattr(cifar, "URL", url)
        yield url


def left_in(root):
    return sorted(p.name for p in root.iterdir())


def test_the_download_reports_progress_and_unpacks_the_folder(data_root, synthetic, monkeypatch):
    assert needs_download("cifar10")
    heard = []
    with serve(monkeypatch, archive_bytes(synthetic, padding=3 * MB)):
        with download.reporting(heard.append):
            loaded = load_images("cifar10")
    assert loaded.x_train.shape == (100, 3, 32, 32) and loaded.source.startswith("CIFAR-10 downloaded from http")
    assert heard[-1] == f"{cifar.DOWNLOADING}: 3 of 3 MB" and len(heard) == 4  # 1 MB chunks and the rest
    assert left_in(data_root) == [cifar.FOLDER]  # the archive and the staging folder are gone
    assert (data_root / cifar.FOLDER / "batches.meta").is_file() and not needs_download("cifar10")


def test_a_checksum_mismatch_leaves_nothing_behind(data_root, synthetic, monkeypatch):
    with serve(monkeypatch, archive_bytes(synthetic), checksum="0" * 32):
        with pytest.raises(ImageDataError, match="md5 checksum does not match"):
            load_images("cifar10")
    assert left_in(data_root) == []


@pytest.mark.parametrize("kind,reason", [("symlink", "a link or special file"), ("hardlink", "a link or special"),
                                         ("dotdot", "outside cifar-10-batches-py/"), ("absolute", "outside"),
                                         ("outside", "outside cifar-10-batches-py/")])
def test_a_hostile_archive_is_refused_and_nothing_is_unpacked(data_root, synthetic, monkeypatch, kind, reason):
    assert set(HOSTILE) == {"symlink", "hardlink", "dotdot", "absolute", "outside"}
    with serve(monkeypatch, hostile_archive(synthetic, kind)):
        with pytest.raises(ImageDataError, match=f"the download was refused: the archive holds .*{reason}"):
            load_images("cifar10")
    assert left_in(data_root) == [] and not (data_root.parent / "escaped").exists()


def test_an_archive_that_unpacks_too_large_is_refused(data_root, synthetic, monkeypatch):
    monkeypatch.setattr(cifar, "MAX_UNPACKED", 100_000)  # the synthetic folder holds about 400 kB
    with serve(monkeypatch, archive_bytes(synthetic)):
        with pytest.raises(ImageDataError, match="unpacks to more than"):
            load_images("cifar10")
    assert left_in(data_root) == []


def test_offline_nothing_is_downloaded_and_nothing_needs_to_be(data_root, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    assert not needs_download("cifar10") and not needs_download("mnist")
    with pytest.raises(ImageDataError, match="downloads are switched off"):
        images.download_cifar()


def test_a_background_download_is_shared_and_can_be_tried_again(data_root, synthetic, monkeypatch):
    with serve(monkeypatch, archive_bytes(synthetic), checksum="0" * 32):
        failed = dataset_download.start("cifar10")
        failed.join(60)
        assert failed.done and "checksum" in failed.error
        monkeypatch.setattr(cifar, "MD5", md5(archive_bytes(synthetic)))
        job = dataset_download.start("cifar10")  # a failed download starts again
        assert job is not failed and dataset_download.start("cifar10") is job and dataset_download.job("cifar10") is job
        job.join(60)
    assert job.done and job.error is None and job.text.startswith(cifar.DOWNLOADING)
    assert not needs_download("cifar10")


def test_the_command_line_prints_the_download_progress(data_root, synthetic, monkeypatch, tmp_path, capsys):
    from playground.cli import main

    config = tmp_path / "cifar.json"
    config.write_text(json.dumps({"dataset": {"name": "cifar10"}, "layers": [{"type": "flatten"}, {"type": "linear"}],
                                  "epochs": 1}))
    with serve(monkeypatch, archive_bytes(synthetic, padding=2 * MB)):
        assert main(["train", str(config)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{cifar.DOWNLOADING}: 1 of 2 MB" and f"{cifar.DOWNLOADING}: 2 of 2 MB" in lines
    assert lines.count(f"{cifar.DOWNLOADING}: 2 of 2 MB") == 1


def test_fetch_checks_md5_or_sha256_and_keeps_nothing_on_a_mismatch(tmp_path):
    import hashlib

    body = b"weights" * 1000
    with serving(body) as url:
        download.fetch(url, tmp_path / "a.bin", "Downloading a", ("sha256", hashlib.sha256(body).hexdigest()[:8]))
        download.fetch(url, tmp_path / "b.bin", "Downloading b", ("md5", md5(body).upper()))
        with pytest.raises(ValueError, match="sha256 checksum does not match"):
            download.fetch(url, tmp_path / "c.bin", "Downloading c", ("sha256", "0" * 64))
    assert left_in(tmp_path) == ["a.bin", "b.bin"] and (tmp_path / "b.bin").read_bytes() == body
