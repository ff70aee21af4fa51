"""Atomic file writes: write to a temporary name in the same folder, flush, fsync, rename.

A crash at any moment leaves either the old file or the new one, never half a file. A
process killed mid-write (SIGKILL, power loss) leaves its temporary file behind; each one's
name carries the writer's process id (``.NAME.tmp<pid>-XXXX``), so ``clean_stale`` can tell
the leftovers of dead processes from the files of one still writing, and delete only those.
Files are created with the permissions the umask allows (``mkstemp`` alone would make them
0600 whatever the umask, and ``os.replace`` would keep that).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_TEMP = re.compile(r"^\..*\.tmp(\d+)-")


def temp_prefix(name: str) -> str:
    """The start of a temporary name for ``name`` made by this process (see ``clean_stale``)."""
    return f".{name}.tmp{os.getpid()}-"


def is_temp(name: str) -> bool:
    """Whether ``name`` is a temporary file of ``atomic_path`` (or ``temp_prefix``)."""
    return _TEMP.match(name) is not None


def umask() -> int:
    """The process umask, read without changing it where Linux allows (``/proc``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: the classic read-by-setting, put back at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~umask()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    The temporary name keeps ``suffix`` (e.g. ``.keras``) because some writers check it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=suffix, dir=target.parent)
    tmp_path = Path(tmp)
    try:
        try:
            os.fchmod(fd, file_mode())
        finally:
            os.close(fd)
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", **kw: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; it replaces ``target`` when the block ends cleanly."""
    with atomic_path(target) as tmp, open(tmp, mode, **kw) as fh:
        yield fh
        fh.flush()


def write_text(target: str | os.PathLike[str], text: str) -> None:
    with atomic_open(target, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(target: str | os.PathLike[str], data: Any) -> None:
    write_text(target, json.dumps(data, indent=2, sort_keys=True) + "\n")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files (and folders) that dead processes left in ``folder``;
    return what was deleted. Those of running processes, and every other name, are kept."""
    removed: list[Path] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            m = _TEMP.match(entry.name)
            if m is None or int(m.group(1)) == os.getpid() or pid_alive(int(m.group(1))):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _fsync_file(path: Path) -> None:
    if path.is_file():
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
