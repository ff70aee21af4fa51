"""Downloading an archive and unpacking it safely into a cache folder.

Nothing half-done ever becomes a cache entry: the download goes to a temporary file next to
the cache and is deleted on any error (Ctrl-C included); the archive is unpacked into a
temporary folder that is renamed into place only once it is complete and checked.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lstmcli import __version__
from lstmcli.core.errors import DataError, DownloadError, LstmcliError

Progress = Callable[[int, int | None], None]

CHUNK = 1 << 20
TIMEOUT_S = 60
MAX_MEMBERS = 500_000
MAX_TOTAL_BYTES = 4 * 1024**3
# Errors that mean "this is not a readable .tar.gz" (as opposed to a full disk or a permission).
CORRUPT = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def downloaded(
    url: str,
    folder: Path,
    *,
    hint: str,
    expected_sha256: str | None = None,
    progress: Progress | None = None,
) -> Iterator[Path]:
    """Download ``url`` to a temporary file in ``folder``; yield it; always delete it afterwards.

    ``progress(done, total)`` is called as bytes arrive (``total`` None while unknown) and
    last with ``done == total``. ``hint`` ends every error message (one line: what the user can
    do instead). Raises
    ``DownloadError`` when the server cannot be reached, the transfer stops short of its
    Content-Length, or the sha256 differs from ``expected_sha256``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".download.", suffix=".part", dir=folder)
    part = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _fetch(url, out, hint=hint, progress=progress)
        if expected_sha256 and digest != expected_sha256.strip().lower():
            raise DownloadError(
                f"the file downloaded from {url} has sha256 {digest}, not the expected "
                f"{expected_sha256.strip().lower()}; {hint}"
            )
        yield part
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def _fetch(url: str, out: BinaryIO, *, hint: str, progress: Progress | None) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": f"lstmcli/{__version__}"})
    h = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress:
                progress(0, total)
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if progress and total is None:
                progress(done, done)  # the end, when the server gave no length up front
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"cannot download {url} (HTTP {exc.code} {exc.reason}); {hint}"
        ) from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"cannot download {url} ({_reason(exc.reason)}); {hint}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(
            f"the download from {url} failed after {done} bytes ({_reason(exc)}); {hint}"
        ) from None
    if total is not None and done != total:
        raise DownloadError(
            f"the download from {url} stopped after {done} of {total} bytes; {hint}"
        )
    return h.hexdigest()


def _reason(exc: object) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def drain(tf: tarfile.TarFile) -> None:
    """Read a .tar.gz to its very end, so that gzip checks its CRC and length (a truncated or
    damaged archive raises one of ``CORRUPT`` instead of passing for a shorter one)."""
    assert tf.fileobj is not None
    while tf.fileobj.read(CHUNK):
        pass


def check_member(member: tarfile.TarInfo, where: Path, error: type[LstmcliError]) -> str:
    """The member's name without a leading ``./``; refuses anything but plain files and folders
    whose path stays inside the target folder."""
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or ".." in path.parts or "\\" in name:
        raise error(f"{where}: refusing archive member {name!r} (its path leaves the folder)")
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise error(f"{where}: refusing archive member {name!r} (a {kind}; only files allowed)")
    return str(path)


def unpack(
    archive: Path,
    target: Path,
    *,
    top: str,
    required: Sequence[str],
    error: type[LstmcliError] = DataError,
    marker: tuple[str, str] | None = None,
) -> None:
    """Unpack the ``top/`` folder of a .tar.gz ``archive`` so that it becomes ``target``.

    Every member is checked (``check_member``) and then extracted with tarfile's ``"data"``
    filter; members outside ``top/`` are skipped. ``required`` folders (relative to ``top``)
    must exist afterwards. ``marker`` is an optional (file name, text) written inside before
    the rename. A truncated or corrupt archive raises ``error``; ``OSError`` (disk full, no
    permission) propagates. If another process finished ``target`` first, its copy is kept.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        count = total = 0
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                name = check_member(member, archive, error)
                count += 1
                total += member.size
                if count > MAX_MEMBERS or total > MAX_TOTAL_BYTES:
                    raise error(f"{archive}: more than {MAX_MEMBERS} members or 4 GiB; refusing")
                if name == top or name.startswith(top + "/"):
                    tf.extract(member, tmp, filter="data", set_attrs=False)
            drain(tf)
        root = tmp / top
        missing = [r for r in required if not (root / r).is_dir()]
        if missing:
            raise error(
                f"{archive} has no {top}/{missing[0]} folder; it is not the expected archive"
            )
        if marker:
            (root / marker[0]).write_text(marker[1] + "\n", encoding="utf-8")
        try:
            os.rename(root, target)
        except OSError:
            if not target.is_dir():
                raise
    except CORRUPT as exc:
        raise error(f"{archive} is truncated or corrupt ({_reason(exc)})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
