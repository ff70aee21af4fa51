"""Reading a file the user names, with bounds: only a regular file, and no more than a cap.

``/dev/zero`` would be read until memory runs out, a FIFO would block forever and a folder
cannot be read at all; each is refused in one line that says what is accepted.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from lstmcli.core.errors import LstmcliError


def human(n: int) -> str:
    """``67108864`` → ``64 MiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:g} {unit}"
        n //= 1024
    return str(n)  # pragma: no cover


def read_capped(fh: BinaryIO, cap: int, what: str, error: type[LstmcliError]) -> bytes:
    data = fh.read(cap + 1)
    if len(data) > cap:
        raise error(f"{what} is larger than {human(cap)}, the most lstmcli reads from it")
    return data


def read_regular(path: Path, cap: int, what: str, error: type[LstmcliError]) -> bytes:
    """The bytes of ``path``; ``what`` starts every message (e.g. ``--file notes.txt``)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the check below refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{what} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} is a folder; give a file") from None
    except OSError as exc:
        raise error(f"{what}: cannot read it ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise error(f"{what} is a folder; give a file")
        raise error(f"{what} is not a regular file (a device, FIFO or socket); give a file")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as fh:
        try:
            return read_capped(fh, cap, what, error)
        except OSError as exc:
            raise error(f"{what}: cannot read it ({exc.strerror})") from None
