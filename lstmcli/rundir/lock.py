"""One ``train`` at a time per run folder: a lock taken before anything is read or written.

The lock is ``fcntl.flock`` on ``RUN/.lock``: atomic, and released by the kernel however the
process ends (SIGKILL and power loss included), so it can never go stale in a way that
blocks. The file also records who holds it (pid, host, start time) and is deleted on a clean
exit; finding it still there, unlocked, means that holder died without cleaning up, which
is reported. A file deleted between someone's ``open`` and ``flock`` is detected by
comparing inodes, so two processes can never both believe they hold the lock.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from lstmcli.core import atomic
from lstmcli.core.errors import DataError, LstmcliWarning
from lstmcli.rundir.folder import LOCK_FILE

_HELD: dict[Path, int] = {}  # folders this process holds, with a nesting count


@contextlib.contextmanager
def hold(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock for the block (re-entrant within one process); create the
    folder if need be. Raises ``DataError`` when another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    _test_barrier()
    fd = _acquire(folder / LOCK_FILE, folder)
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_ino == os.stat(folder / LOCK_FILE).st_ino:
                os.unlink(folder / LOCK_FILE)
        os.close(fd)


def _acquire(path: Path, folder: Path) -> int:
    import fcntl

    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, atomic.file_mode())
        if not _flock(fd, fcntl.LOCK_EX):
            error = _in_use(folder, fd)
            os.close(fd)
            raise error from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            _take_over(fd, path)
            return fd
        os.close(fd)  # the holder deleted the file after we opened it: open the new one
    raise DataError(f"{folder}: could not take the run folder's lock ({path})")


def check_free(folder: Path) -> None:
    """Raise ``DataError`` at once when another process holds ``folder``'s lock: a look
    before slow start-up work (TensorFlow's devices), so a second ``train`` is refused
    without waiting for it. ``hold`` is still what keeps the folder."""
    import fcntl

    path = folder / LOCK_FILE
    if folder.resolve() in _HELD or not path.is_file():
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        if not _flock(fd, fcntl.LOCK_SH):  # shared: two looks never refuse each other
            raise _in_use(folder, fd)
    finally:
        os.close(fd)  # (releases the lock if this look took it)


def _flock(fd: int, mode: int) -> bool:
    """Take the lock without waiting for a holder, but past another process's
    ``check_free`` (which holds it for an instant)."""
    import fcntl

    for pause in (0.0, 0.01, 0.05):
        time.sleep(pause)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
    return False


def _in_use(folder: Path, fd: int) -> DataError:
    return DataError(
        f"{folder} is in use by another lstmcli train ({_read(fd) or 'unknown'}); wait for it "
        "to end or choose another --output"
    )


def _take_over(fd: int, path: Path) -> None:
    previous = _read(fd)
    if previous:
        warnings.warn(
            f"{path} was left by {previous}, which ended without releasing it (killed?); "
            "taking it over",
            LstmcliWarning,
            stacklevel=4,
        )
    me = f"process {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
    os.ftruncate(fd, 0)
    os.pwrite(fd, me.encode(), 0)


def _read(fd: int) -> str:
    with contextlib.suppress(OSError):
        raw = os.pread(fd, 256, 0).decode("utf-8", "replace").strip()
        return "".join(c for c in raw if c.isprintable())[:200]
    return ""


def _test_barrier() -> None:
    """Tests only: with ``$LSTMCLI_TEST_LOCK_BARRIER`` naming a folder, say ``ready-<pid>``
    there, then wait for ``go``, so that two processes reach the lock at the same moment."""
    folder = os.environ.get("LSTMCLI_TEST_LOCK_BARRIER")
    if not folder:
        return
    (Path(folder) / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 600
    while not (Path(folder) / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.0005)
