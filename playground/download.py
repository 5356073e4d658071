"""Downloads that say how far they got, are checked, and land whole or not at all; and safe unpacking.

`fetch(url, target, what, check)` reads `url` in 1 MB chunks into `target` + ".partial", reports "<what>:
12 of 44 MB" after each chunk to whoever is `reporting` on this thread (a run's status line, the command
line's stderr), checks the file's digest (("md5" or "sha256", hex) or a prefix of it) and only then renames
it into place; a failure leaves nothing behind. `extract_folder(archive, parent, folder, max_bytes)` unpacks
a .tar.gz's `folder`/ (regular files only: no links, devices, absolute paths or "..", at most `max_bytes` in
all) into a temporary folder beside `parent`/`folder`, then renames it into place: a reader sees the whole
folder or none. Problems raise ValueError with a sentence. Knows nothing about what is downloaded.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path, PurePosixPath
from typing import Callable

PREFIX = "Downloading"  # begins every progress report (a run's status line clears them once the engine is built)
MB = 2**20
MAX_MEMBERS = 1000  # files in an archive this app unpacks (CIFAR-10's has 8)
_REPORT = threading.local()  # .to: where this thread's downloads say how far they got


@contextlib.contextmanager
def reporting(report: Callable[[str], None]):
    """Within this block, a download on this thread says how far it got through `report(text)`."""
    _REPORT.to = report
    try:
        yield
    finally:
        _REPORT.to = None


def report(text: str) -> None:
    """Tell whoever is `reporting` on this thread (nobody: nothing happens)."""
    (getattr(_REPORT, "to", None) or (lambda text: None))(text)


def fetch(url: str, target: Path, what: str, check: tuple[str, str] | None = None) -> None:
    """Download `url` into `target` (whole or not at all), reporting "`what`: N of M MB"; `check` is
    (algorithm, the hex digest or its start). ValueError when the digest does not match."""
    import urllib.request

    digest = hashlib.new(check[0] if check else "sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:  # noqa: S310
            total, done = int(response.headers.get("Content-Length") or 0), 0
            while chunk := response.read(MB):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                report(f"{what}: {done / MB:.0f} of {total / MB:.0f} MB" if total else f"{what}: {done / MB:.0f} MB")
        if check and not digest.hexdigest().startswith(check[1].lower()):
            raise ValueError(f"the downloaded file's {check[0]} checksum does not match (a damaged or changed file)")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def extract_folder(archive: Path, parent: Path, folder: str, max_bytes: int) -> Path:
    """Unpack `folder`/ of the .tar.gz `archive` into `parent`/`folder` (see the module's docstring)."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder}-", dir=parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = _checked_members(tar, folder, max_bytes)
            tar.extractall(staging, members=members, filter="data")
        destination = parent / folder
        if not destination.exists():  # else another process unpacked it meanwhile: theirs stays
            os.replace(staging / folder, destination)
        return destination
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"the archive could not be unpacked ({error})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _checked_members(tar: tarfile.TarFile, folder: str, max_bytes: int) -> list[tarfile.TarInfo]:
    """The archive's entries, refused unless each is a plain file or folder inside `folder`/ and together
    they stay under `max_bytes` and MAX_MEMBERS (read lazily, so a huge listing stops early)."""
    members, total = [], 0
    for member in tar:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != folder:
            raise ValueError(f"the archive holds {member.name[:80]!r}, outside {folder}/; it was not unpacked")
        if not (member.isreg() or member.isdir()):
            raise ValueError(f"the archive holds {member.name[:80]!r}, a link or special file; it was not unpacked")
        total += member.size
        if total > max_bytes or len(members) >= MAX_MEMBERS:
            raise ValueError(f"the archive unpacks to more than {max_bytes / MB:,.0f} MB or {MAX_MEMBERS} files; "
                             "it was not unpacked")
        members.append(member)
    return members
