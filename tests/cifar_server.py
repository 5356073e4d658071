"""CIFAR-10's archive for download tests, served on the loopback: `archive_bytes(folder)` packs a synthetic
folder (tests/cifar_folder.py) as the real `cifar-10-python.tar.gz` is packed, plus a `readme.html` of
`padding` bytes so that a download reports more than once; `hostile_archive(kind)` is one that must be
refused; `serving(body)` serves bytes at a 127.0.0.1 address (nothing reaches the internet)."""
import contextlib
import hashlib
import http.server
import io
import random
import tarfile
import threading
from pathlib import Path

from playground import cifar


def archive_bytes(folder: Path, padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname=cifar.FOLDER)
        _add(tar, f"{cifar.FOLDER}/readme.html", random.Random(0).randbytes(padding))  # incompressible
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", kind=tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


HOSTILE = {  # kind -> the members that make it so
    "symlink": lambda tar: _add(tar, f"{cifar.FOLDER}/data_batch_1", kind=tarfile.SYMTYPE, link="/etc/passwd"),
    "hardlink": lambda tar: _add(tar, f"{cifar.FOLDER}/data_batch_1", kind=tarfile.LNKTYPE, link="/etc/passwd"),
    "dotdot": lambda tar: _add(tar, f"{cifar.FOLDER}/../escaped", b"x"),
    "absolute": lambda tar: _add(tar, "/tmp/escaped-from-cifar", b"x"),
    "outside": lambda tar: _add(tar, "other-folder/file", b"x"),
}


def hostile_archive(folder: Path, kind: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        HOSTILE[kind](tar)
        tar.add(folder, arcname=cifar.FOLDER)
    return buffer.getvalue()


def md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()  # noqa: S324 - the archive's published checksum is an md5


@contextlib.contextmanager
def serving(body: bytes):
    """A loopback HTTP server answering every GET with `body`; yields the archive's address on it."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz"
    finally:
        server.shutdown()
        server.server_close()
