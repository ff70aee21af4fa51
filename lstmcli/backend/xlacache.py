"""The on-disk cache of compiled XLA programs (``$LSTMCLI_HOME/xla-cache``): its damage.

TensorFlow reads an entry when a step with the same program runs again; a truncated or
overwritten entry makes that step fail with ``DataLossError: Can't parse PATH as binary
proto``, every run. The step fails before it computes anything, so the caller can delete the
entry (TensorFlow compiles the program again and rewrites it) and run the same step again.

A cache that cannot be written fails the step too (TensorFlow has no best-effort mode), so
``backend.tf`` leaves the cache out when its disk is (nearly) full or read-only, and
``unwritable`` recognises the error when the disk fills up during a run.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from pathlib import Path

from lstmcli.core import paths
from lstmcli.core.errors import LstmcliWarning

_DAMAGED = re.compile(r"Can't parse (.+?) as binary proto")
_WRITE_ERRORS = ("No space left on device", "Read-only file system", "Permission denied",
                 "Disk quota exceeded")  # fmt: skip
# TensorFlow's own temporary names: <entry>.pb<...>-<pid>-<hex>.tmp
_TF_TEMP = re.compile(r"^xla_compile_cache_.*-(\d+)-[0-9a-f]+\.tmp$")


def cache_dir() -> Path:
    return paths.xla_cache_dir()


def damaged_entry(exc: BaseException) -> Path | None:
    """The cache file a TensorFlow error blames, when it is one of lstmcli's cache entries."""
    if type(exc).__name__ != "DataLossError":
        return None
    m = _DAMAGED.search(str(exc))
    if m is None:
        return None
    path = Path(m.group(1))
    try:
        inside = path.resolve().parent == cache_dir().resolve()
    except OSError:
        return None
    return path if inside and path.name.endswith(".pb") else None


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[i]
        value, i, shift = value | (byte & 0x7F) << shift, i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def _fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Protocol-buffer wire format, one level: field number → values. Raises ValueError."""
    fields: dict[int, list[bytes | int]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, kind = key >> 3, key & 7
        if number == 0 or kind not in (0, 1, 2, 5):
            raise ValueError("not protocol-buffer data")
        if kind == 0:
            value, i = _varint(data, i)
            fields.setdefault(number, []).append(value)
            continue
        size, i = _varint(data, i) if kind == 2 else ({1: 8, 5: 4}[kind], i)
        if i + size > len(data):
            raise ValueError("truncated")
        fields.setdefault(number, []).append(data[i : i + size])
        i += size
    return fields


def entry_ok(path: Path) -> bool:
    """Whether a cache entry is whole: a serialized entry (key, program, executable) whose key
    names an XLA device. (TensorFlow reports some damage without naming the file.)"""
    try:
        top = _fields(path.read_bytes())
        key = top.get(1, [None])[0]
        if not isinstance(key, bytes) or not {2, 3} & set(top):
            return False
        device = _fields(key).get(3, [b""])[0]
        return isinstance(device, bytes) and device.startswith(b"XLA_")
    except (OSError, ValueError):
        return False


def _drop(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        return False
    warnings.warn(
        f"XLA program cache entry {path} was damaged; deleted it and compiled again",
        LstmcliWarning,
        stacklevel=3,
    )
    return True


def drop_damaged(exc: BaseException) -> bool:
    """Delete the damaged entries behind ``exc``, each with one warning; False if there are
    none. The entry the error names, or else every entry that is not whole."""
    if type(exc).__name__ not in ("DataLossError", "OutOfRangeError"):
        return False
    named = damaged_entry(exc)
    bad = [named] if named else [p for p in sorted(cache_dir().glob("*.pb")) if not entry_ok(p)]
    return any([_drop(p) for p in bad])


def unwritable(exc: BaseException) -> str | None:
    """Why a TensorFlow error says the cache could not be written (None: it does not)."""
    text = str(exc)
    if str(cache_dir()) not in text:
        return None
    return next((reason for reason in _WRITE_ERRORS if reason in text), None)


def clean_temp() -> None:
    """Delete the temporary files that TensorFlow processes killed mid-write left."""
    from lstmcli.core.atomic import pid_alive

    with contextlib.suppress(OSError), os.scandir(cache_dir()) as entries:
        for entry in entries:
            m = _TF_TEMP.match(entry.name)
            if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


TRACE_BLOCK = 100_000  # far more traced functions than anything before training makes


def align_trace_names() -> None:
    """Make the next traced function's name independent of what this process traced before.

    TensorFlow names every traced function and loop body ``NAME_<n>`` from one process-wide
    counter, and those names are inside the program XLA compiles, so inside its cache key. A
    `train` that vectorises its data (tracing TextVectorization's functions first) and a
    later `train` that reads the vectorised cache would name the same training step
    differently and never share a compiled program (measured: the second run compiled all 7
    of the lecture LSTM's programs again, epoch 1 32.4 s against 18.6 s from the cache).
    Called right before the step is first traced, this moves the counter on to the next
    multiple of ``TRACE_BLOCK``. TensorFlow has no public way to do this (its names are not
    meant to be stable); without its private counter, nothing is done and the cache is only
    hit by runs that traced the same things before, as before.
    """
    try:
        from tensorflow.python.framework import ops
    except ImportError:  # pragma: no cover - a TensorFlow without it
        return
    uid = getattr(ops, "uid", None)
    if uid is None:  # pragma: no cover
        return
    n = uid()
    for _ in range(-n % TRACE_BLOCK):
        uid()
