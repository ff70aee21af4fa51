"""Reading ``.keras`` files that may come from anyone, without running their code.

``check_archive`` reads the file before Keras sees a byte of it. HDF5 models are refused
(Keras's HDF5 loader ignores safe mode, CVE-2025-9905). The zip's end record is read by hand,
so the member count is bounded before ``zipfile`` parses anything; then the archive must hold
exactly ``config.json``, ``metadata.json`` and ``model.weights.h5`` (no assets, whose paths
come from layer names: CVE-2026-12479), with no escaping or duplicate names, no encryption,
bounded sizes and compression ratios (zip bombs), good CRCs and a Keras 3 ``metadata.json``.
``modelconfig.check_config`` then walks the whole ``config.json`` against an allow-list, and
the weights it declares must fit in the weights file.

Keras loads the same open file, ``compile=False``, in a forced safe-mode scope (so
``keras.config.enable_unsafe_deserialization()`` elsewhere cannot turn it off). No pickle: the
weights are HDF5, read by Keras's own guarded reader.
"""

from __future__ import annotations

import contextlib
import json
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lstmcli.backend.modelconfig import check_config, clean
from lstmcli.core.errors import ModelFileError

MEMBER_LIMITS = {
    "config.json": 4 * 1024**2,
    "metadata.json": 64 * 1024,
    "model.weights.h5": 2 * 1024**3,
}
MAX_FILE_BYTES = sum(MEMBER_LIMITS.values()) + 1024**2
MAX_MEMBERS = 8
MAX_CENTRAL_DIR_BYTES = 64 * 1024
RATIO_FLOOR = 1024**2  # a member larger than this may expand at most MAX_RATIO times
MAX_RATIO = 100
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_KERAS3 = re.compile(r"3\.\d{1,4}\.\d{1,4}[0-9a-z.+\-]{0,40}")


def check_archive(path: str | Path) -> dict[str, Any]:
    """Validate a ``.keras`` file; return its parsed config. Raises ``ModelFileError``."""
    path = Path(path)
    with _open_regular(path) as fh:
        return _check_open(fh, path)


def load_model(path: str | Path) -> Any:
    """Check, then load with Keras from the same open file (safe mode forced, not compiled)."""
    path = Path(path)
    with _open_regular(path) as fh:
        _check_open(fh, path)
        fh.seek(0)
        try:
            return _keras_load(fh, path)
        except Exception as exc:  # Keras raises many types for a bad file; all mean the same
            lines = str(exc).strip().splitlines()
            first = clean(lines[0], 200) if lines else type(exc).__name__
            raise ModelFileError(f"{clean(path, 300)}: Keras could not load it ({first})") from None


def _keras_load(fh: IO[bytes], path: Path) -> Any:
    from lstmcli.backend.layers import custom_objects
    from lstmcli.backend.tf import keras

    k, own = keras(), custom_objects()  # lstmcli's pooling layers, by registered name only
    try:  # the file-object loader: no second open, no routing by suffix (.h5, hf://, folders)
        from keras.src.saving import saving_lib
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # pragma: no cover - a Keras without these internals
        return k.saving.load_model(path, custom_objects=own, compile=False, safe_mode=True)
    with SafeModeScope(True):
        return saving_lib.load_model(fh, custom_objects=own, compile=False, safe_mode=True)


def save_model(model: Any, target: str | Path) -> None:
    """Save atomically: Keras writes a temporary ``.keras`` name that is renamed into place."""
    from lstmcli.core.atomic import atomic_path

    with atomic_path(target, suffix=".keras") as tmp:
        model.save(tmp)


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[IO[bytes]]:
    show = clean(path, 300)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ModelFileError(f"model file {show} is a folder, not a .keras file")
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            raise ModelFileError(f"model file {show} is not a regular file")
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise ModelFileError(f"model file {show} does not exist") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {show} ({exc.strerror})") from None
    with fh:
        yield fh


def _check_open(fh: IO[bytes], path: Path) -> dict[str, Any]:
    show = clean(path, 300)
    size = fh.seek(0, 2)
    heads = {}
    for offset in (0, 512, 1024, 2048):  # an HDF5 signature may follow a user block
        fh.seek(offset)
        heads[offset] = fh.read(len(HDF5_MAGIC))
    if HDF5_MAGIC in heads.values() or path.suffix.lower() in (".h5", ".hdf5"):
        raise ModelFileError(
            f"{show} is an HDF5 (.h5) model; lstmcli loads only .keras files "
            "(HDF5 model loading cannot be made safe)"
        )
    if not heads[0].startswith(b"PK\x03\x04"):
        raise ModelFileError(f"{show} is not a .keras file (not a zip archive)")
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{show} is larger than {MAX_FILE_BYTES:,} bytes")
    _check_end_record(fh, size, show)
    zip_errors = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = _check_members(zf.infolist(), show)
            raw = {name: _read(zf, name, show) for name in ("config.json", "metadata.json")}
            with zf.open("model.weights.h5") as weights:
                if weights.read(len(HDF5_MAGIC)) != HDF5_MAGIC:
                    raise ModelFileError(f"{show}: model.weights.h5 is not an HDF5 file")
            bad = zf.testzip()  # every member read through once: CRCs and lengths
    except zip_errors as exc:  # NotImplementedError is a RuntimeError
        raise ModelFileError(f"{show} is corrupt or truncated ({clean(exc)})") from None
    if bad is not None:
        raise ModelFileError(f"{show}: archive member {clean(bad)!r} is corrupt (bad CRC)")
    meta = _parse(raw["metadata.json"], "metadata.json", show)
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or not _KERAS3.fullmatch(version):
        named = f"Keras {clean(version, 40)}" if isinstance(version, str) else "no Keras version"
        raise ModelFileError(
            f"{show}: metadata.json names {named}; lstmcli loads only files saved by Keras 3"
        )
    config = _parse(raw["config.json"], "config.json", show)
    params = check_config(config, show)
    held = infos["model.weights.h5"].file_size
    if params > held + 64 * 1024:  # every weight takes at least one byte
        raise ModelFileError(
            f"{show}: refused: config.json declares about {params:,} weights but "
            f"model.weights.h5 holds only {held:,} bytes"
        )
    return config


def _check_end_record(fh: IO[bytes], size: int, show: str) -> None:
    """Read the end record by hand, so that nothing large is parsed before it is bounded."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ModelFileError(f"{show} is truncated or not a zip archive (no end record)")
    _, disk, cd_disk, n_disk, n_all, cd_size, cd_offset, comment = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    if 0xFFFF in (n_all, n_disk) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise ModelFileError(f"{show}: zip64 archives are not allowed for .keras files")
    if disk or cd_disk or n_disk != n_all:
        raise ModelFileError(f"{show}: multi-part zip archives are not allowed")
    if n_all > MAX_MEMBERS or cd_size > MAX_CENTRAL_DIR_BYTES:
        raise ModelFileError(f"{show} has {n_all} archive members; at most {MAX_MEMBERS}")
    if cd_offset + cd_size != size - tail_len + at or at + 22 + comment != len(tail):
        raise ModelFileError(f"{show} is truncated or has data outside the zip archive")


def _check_members(infos: list[zipfile.ZipInfo], show: str) -> dict[str, zipfile.ZipInfo]:
    seen: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name, shown = info.filename, repr(clean(info.filename))
        if name.startswith("/") or ".." in name.split("/") or any(c in name for c in "\\:"):
            raise ModelFileError(f"{show}: archive member {shown} escapes the archive folder")
        if name not in MEMBER_LIMITS:
            raise ModelFileError(
                f"{show}: unexpected archive member {shown} (a .keras file from lstmcli holds "
                f"only {', '.join(MEMBER_LIMITS)})"
            )
        limit, big, small = MEMBER_LIMITS[name], info.file_size, info.compress_size
        checks = [
            (name in seen, "appears twice"),
            (info.flag_bits & 0x1, "is encrypted"),
            (info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED), "uses an "
             "unknown compression method"),
            (big > limit, f"declares {big:,} bytes; at most {limit:,}"),
            (big > RATIO_FLOOR and big > MAX_RATIO * small,
             f"expands {big:,} bytes from {small:,} (a zip bomb)"),
        ]  # fmt: skip
        problem = next((message for bad, message in checks if bad), None)
        if problem:
            raise ModelFileError(f"{show}: archive member {shown} {problem}")
        seen[name] = info
    missing = [name for name in MEMBER_LIMITS if name not in seen]
    if missing:
        raise ModelFileError(f"{show} has no {missing[0]}; it is not a Keras 3 model file")
    return seen


def _read(zf: zipfile.ZipFile, name: str, show: str) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(MEMBER_LIMITS[name] + 1)
    if len(data) > MEMBER_LIMITS[name]:
        raise ModelFileError(f"{show}: {name} is larger than {MEMBER_LIMITS[name]:,} bytes")
    return data


def _parse(raw: bytes, name: str, show: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise ModelFileError(f"{show}: {name} is not valid JSON (or nested too deeply)") from None
