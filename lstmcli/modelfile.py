"""Reading ``.keras`` files that may come from anyone, without running their code.

``check_archive`` reads the file before Keras sees a byte of it:

* the file: a regular file of bounded size; HDF5 (``.h5``) models are refused (Keras's HDF5
  loader ignores safe mode, CVE-2025-9905);
* the zip: its end record is read by hand first, so the member count and central directory
  are bounded before ``zipfile`` parses them (no zip64, nothing before or after the archive);
  then exactly ``config.json``, ``metadata.json`` and ``model.weights.h5``: no assets (their
  paths come from layer names, CVE-2026-12479), no escaping or duplicate names, no
  encryption, bounded declared sizes and compression ratios (zip bombs), CRCs checked;
* ``metadata.json`` must name a Keras 3 version;
* ``config.json`` is walked whole (nested models, Bidirectional layers, compile config).
  Every object (a dict with ``class_name``) must be an exact (class, module) pair on an
  allow-list, with no custom ``registered_name``. Serialized Python (``__lambda__``,
  ``__numpy__``, ``__typespec__``…) and function references are refused, so are Lambda,
  TFSMLayer and foreign modules (CVE-2024-3660, CVE-2025-1550, CVE-2025-8747,
  CVE-2025-9906) and path-valued vocabularies (CVE-2025-12058). Layer sizes are checked
  against the weights present, so a tiny file cannot make Keras allocate terabytes.

Keras then loads the same open file with ``compile=False`` inside a forced safe-mode scope
(``keras.config.enable_unsafe_deserialization()`` elsewhere cannot turn it off). No pickle is
involved: weights are HDF5, read by Keras's own guarded reader.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from lstmcli.errors import ModelFileError

MEMBER_LIMITS = {"config.json": 4 * 1024**2, "metadata.json": 64 * 1024,
                 "model.weights.h5": 2 * 1024**3}  # fmt: skip
MAX_FILE_BYTES = sum(MEMBER_LIMITS.values()) + 1024**2
MAX_MEMBERS = 8
MAX_CENTRAL_DIR_BYTES = 64 * 1024
RATIO_FLOOR = 1024**2  # members larger than this may expand at most MAX_RATIO times
MAX_RATIO = 100
MAX_DEPTH = 64
MAX_DIM = 2**31
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

LAYERS = ("InputLayer", "Embedding", "LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell",
          "SimpleRNNCell", "Bidirectional", "Dense", "Dropout")  # fmt: skip
_INITIALIZERS = ("Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
                 "TruncatedNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                 "LecunUniform", "LecunNormal", "Orthogonal", "VarianceScaling")  # fmt: skip
# Exact (class name → modules) pairs, as Keras 3 writes them.
MODEL_CLASSES: dict[str, frozenset[str]] = {
    **{c: frozenset({"keras.layers"}) for c in LAYERS},
    "Functional": frozenset({"keras.src.models.functional"}),
    "Sequential": frozenset({"keras"}),
    "NotEqual": frozenset({"keras.src.ops.numpy"}),  # the mask op of Embedding(mask_zero=True)
    "DTypePolicy": frozenset({"keras", "keras.dtype_policies"}),
    "FloatDTypePolicy": frozenset({"keras", "keras.dtype_policies"}),
    **{c: frozenset({"keras.initializers"}) for c in _INITIALIZERS},
    **{c: frozenset({"keras.regularizers"}) for c in ("L1", "L2", "L1L2")},
    **{
        c: frozenset({"keras.constraints"}) for c in ("MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm")
    },
}
# Inside ``compile_config`` (ignored by Keras with compile=False at the top, still walked).
COMPILE_CLASSES: dict[str, frozenset[str]] = {
    **{c: frozenset({"keras.optimizers"}) for c in ("Adam", "AdamW", "SGD", "RMSprop",
       "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Lion")},
    **{c: frozenset({"keras.optimizers.schedules"}) for c in ("ExponentialDecay", "CosineDecay",
       "CosineDecayRestarts", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay")},
    **{c: frozenset({"keras.losses"}) for c in ("BinaryCrossentropy", "CategoricalCrossentropy",
       "SparseCategoricalCrossentropy", "BinaryFocalCrossentropy", "MeanSquaredError",
       "MeanAbsoluteError", "Huber")},
    **{c: frozenset({"keras.metrics"}) for c in ("Accuracy", "BinaryAccuracy",
       "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
       "SparseTopKCategoricalAccuracy", "AUC", "Precision", "Recall", "Mean",
       "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy")},
}  # fmt: skip
ACTIVATIONS = frozenset({"linear", "tanh", "sigmoid", "hard_sigmoid", "softmax", "relu", "elu",
                         "selu", "gelu", "softplus", "softsign", "swish", "silu"})  # fmt: skip
OBJECT_KEYS = frozenset({"module", "class_name", "config", "registered_name", "build_config",
                         "compile_config", "shared_object_id", "name", "inbound_nodes"})  # fmt: skip
CODE_KEYS = frozenset({"function", "function_type", "module_path", "output_shape_type",
                       "output_shape_module", "spec_name", "call_endpoint"})  # fmt: skip
_GATES = {"LSTM": 4, "LSTMCell": 4, "GRU": 3, "GRUCell": 3, "SimpleRNN": 1, "SimpleRNNCell": 1,
          "Dense": 1}  # fmt: skip
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_KERAS3 = re.compile(r"3\.\d{1,4}\.\d{1,4}[0-9a-z.+\-]{0,40}")


def _show(path: Path) -> str:
    text = str(path)
    return text if text.isprintable() else ascii(text)


def check_archive(path: str | Path) -> dict[str, Any]:
    """Validate a ``.keras`` file; return its parsed config. Raises ``ModelFileError``."""
    path = Path(path)
    with _open_regular(path) as fh:
        return _check_open(fh, path)


def load_model(path: str | Path) -> Any:
    """Check, then load with Keras (safe mode forced on, never compiled) from the same handle."""
    path = Path(path)
    with _open_regular(path) as fh:
        _check_open(fh, path)
        fh.seek(0)
        try:
            return _keras_load(fh, path)
        except Exception as exc:  # Keras raises many types for a bad file; all mean the same
            text = str(exc).strip()
            first = text.splitlines()[0][:200] if text else type(exc).__name__
            raise ModelFileError(f"{_show(path)}: Keras could not load it ({first})") from None


def _keras_load(fh: IO[bytes], path: Path) -> Any:
    from lstmcli.tf import keras

    k = keras()
    try:  # the file-object loader: no second open, no routing by suffix (.h5, hf://, dirs)
        from keras.src.saving import saving_lib
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # pragma: no cover - a Keras without these internals
        return k.saving.load_model(path, compile=False, safe_mode=True)
    with SafeModeScope(True):
        return saving_lib.load_model(fh, compile=False, safe_mode=True)


def save_model(model: Any, target: str | Path) -> None:
    """Save atomically: Keras writes a temporary ``.keras`` name that is renamed into place."""
    from lstmcli.atomic import atomic_path

    with atomic_path(target, suffix=".keras") as tmp:
        model.save(tmp)


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[IO[bytes]]:
    show = _show(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ModelFileError(f"model file {show} is a folder, not a .keras file")
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(f"model file {show} is not a regular file")
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise ModelFileError(f"model file {show} does not exist") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {show} ({exc.strerror})") from None
    with fh:
        yield fh


def _check_open(fh: IO[bytes], path: Path) -> dict[str, Any]:
    show = _show(path)
    size = fh.seek(0, 2)
    fh.seek(0)
    head = fh.read(4)
    if _is_hdf5(fh) or path.suffix.lower() in (".h5", ".hdf5"):
        raise ModelFileError(
            f"{show} is an HDF5 (.h5) model; lstmcli loads only .keras files (HDF5 model "
            "loading cannot be made safe; re-save it as .keras with a trusted Keras)"
        )
    if size == 0 or head != b"PK\x03\x04":
        raise ModelFileError(f"{show} is not a .keras file (not a zip archive)")
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{show} is larger than {MAX_FILE_BYTES:,} bytes")
    _check_end_record(fh, size, show)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = _check_members(zf.infolist(), show)
            raw = {name: _read(zf, name, show) for name in ("config.json", "metadata.json")}
            with zf.open("model.weights.h5") as weights:
                if weights.read(len(HDF5_MAGIC)) != HDF5_MAGIC:
                    raise ModelFileError(f"{show}: model.weights.h5 is not an HDF5 file")
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError) as exc:  # fmt: skip
        raise ModelFileError(f"{show} is corrupt or truncated ({_one_line(exc)})") from None
    if bad is not None:
        raise ModelFileError(f"{show}: archive member {bad!r} is corrupt (bad CRC)")
    meta = _parse(raw["metadata.json"], "metadata.json", show)
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or not _KERAS3.fullmatch(version):
        shown = ascii(version)[:60]
        raise ModelFileError(f"{show}: metadata.json names Keras version {shown}; need Keras 3")
    config = _parse(raw["config.json"], "config.json", show)
    walk = _Walk(show)
    walk.top(config)
    weight_bytes = infos["model.weights.h5"].file_size
    if walk.params > weight_bytes + 64 * 1024:
        raise ModelFileError(
            f"{show}: refused: config.json declares about {walk.params:,} weights but "
            f"model.weights.h5 holds only {weight_bytes:,} bytes"
        )
    return config


def _is_hdf5(fh: IO[bytes]) -> bool:
    for offset in (0, 512, 1024, 2048):  # the signature may follow a user block
        fh.seek(offset)
        if fh.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
            return True
    return False


def _check_end_record(fh: IO[bytes], size: int, show: str) -> None:
    """Read the zip's end record by hand so that nothing huge is parsed before it is bounded."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ModelFileError(f"{show} is truncated or not a zip archive (no end record)")
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise ModelFileError(f"{show}: zip64 archives are not allowed for .keras files")
    if disk or cd_disk or n_disk != n_total:
        raise ModelFileError(f"{show}: multi-part zip archives are not allowed")
    if n_total > MAX_MEMBERS or cd_size > MAX_CENTRAL_DIR_BYTES:
        raise ModelFileError(f"{show} has {n_total} archive members; at most {MAX_MEMBERS}")
    end = size - tail_len + at
    if cd_offset + cd_size != end or at + 22 + comment != len(tail):
        raise ModelFileError(f"{show} is truncated or has data outside the zip archive")


def _escapes(name: str) -> bool:
    parts = name.split("/")
    return (
        name.startswith("/") or "\\" in name or ":" in name or ".." in parts
        or not name.isprintable()
    )  # fmt: skip


def _check_members(infos: list[zipfile.ZipInfo], show: str) -> dict[str, zipfile.ZipInfo]:
    seen: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if _escapes(name):
            raise ModelFileError(f"{show}: archive member {name!r} escapes the archive folder")
        if name not in MEMBER_LIMITS:
            raise ModelFileError(
                f"{show}: unexpected archive member {name!r} (lstmcli's .keras files hold only "
                f"{', '.join(MEMBER_LIMITS)})"
            )
        if name in seen:
            raise ModelFileError(f"{show}: archive member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{show}: archive member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{show}: archive member {name!r} uses an unknown compression")
        if info.file_size > MEMBER_LIMITS[name]:
            raise ModelFileError(
                f"{show}: archive member {name!r} declares {info.file_size:,} bytes; "
                f"at most {MEMBER_LIMITS[name]:,}"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            raise ModelFileError(
                f"{show}: archive member {name!r} expands {info.file_size:,} bytes from "
                f"{info.compress_size:,} (a zip bomb)"
            )
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
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelFileError(f"{show}: {name} is not valid JSON") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return ascii(text.splitlines()[0][:160]) if text else type(exc).__name__


@dataclass
class _Walk:
    """One pass over config.json: refuses what is not allowed, adds up layer sizes."""

    show: str
    params: int = 0

    def fail(self, where: list[str], message: str) -> NoReturn:
        at = f" (at {'/'.join(where)})" if where else ""
        raise ModelFileError(f"{self.show}: refused: {message}{at}")

    def top(self, config: Any) -> None:
        if not isinstance(config, dict) or config.get("class_name") not in (
            "Functional",
            "Sequential",
        ):
            self.fail([], "config.json does not describe a Functional or Sequential model")
        self.value(config, [], compiled=False, depth=0)

    def value(self, node: Any, where: list[str], compiled: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.fail(where, f"config.json is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, list):
            for item in node:
                self.value(item, where, compiled, depth + 1)
        elif isinstance(node, dict):
            if "class_name" in node:
                where = self.obj(node, where, compiled)
            for key, val in node.items():
                self.key(key, val, where, compiled)
                self.value(val, where, compiled or key == "compile_config", depth + 1)

    def key(self, key: str, val: Any, where: list[str], compiled: bool) -> None:
        if key in CODE_KEYS:
            self.fail(where, f"config key {key!r} (a code reference) is not allowed")
        if key == "vocabulary" and isinstance(val, str):
            self.fail(where, f"path-valued vocabulary {val[:80]!r} is not allowed")
        if key == "shared_object_id" and (type(val) is not int):
            self.fail(where, "shared_object_id must be a number")
        if compiled:
            return
        if key in ("activation", "recurrent_activation") and val not in ACTIVATIONS | {None}:
            self.fail(where, f"activation {ascii(val)[:60]} is not a built-in one lstmcli allows")
        if key == "name" and isinstance(val, str) and not _NAME.fullmatch(val):
            self.fail(where, f"name {val[:80]!r} is not allowed (letters, digits, _ . - only)")

    def obj(self, node: dict[str, Any], where: list[str], compiled: bool) -> list[str]:
        cls, module, cfg = node.get("class_name"), node.get("module"), node.get("config")
        if not isinstance(cls, str):
            self.fail(where, "class_name must be a string")
        if isinstance(cfg, dict) and isinstance(cfg.get("vocabulary"), str):
            self.fail(where, f"path-valued vocabulary {cfg['vocabulary'][:80]!r} is not allowed")
        if cls == "__keras_tensor__":
            if (
                set(node) - {"class_name", "config"}
                or not isinstance(cfg, dict)
                or (set(cfg) - {"shape", "dtype", "keras_history"})
            ):
                self.fail(where, "malformed __keras_tensor__")
            return where
        if cls.startswith("__"):
            self.fail(where, f"serialized Python object {cls[:40]!r} is not allowed")
        if cls == "function":
            ok = (
                compiled and module == "builtins" and isinstance(cfg, str) and _IDENT.fullmatch(cfg)
            )
            if not ok or node.get("registered_name") not in (None, "function"):
                self.fail(where, f"function reference {module!r}.{str(cfg)[:40]!r} is not allowed")
            return where
        allowed = (COMPILE_CLASSES if compiled else MODEL_CLASSES).get(cls)
        if allowed is None:
            what = "compile setting" if compiled else "layer type"
            self.fail(where, f"{what} {cls[:60]!r} is not allowed; lstmcli loads only "
                      f"{', '.join(LAYERS)} in Functional/Sequential models")  # fmt: skip
        if module not in allowed:
            self.fail(where, f"{cls} from module {ascii(module)[:60]} is not allowed")
        if node.get("registered_name") not in (None, cls):
            self.fail(where, f"custom object {ascii(node['registered_name'])[:60]} is not allowed")
        extra = sorted(set(node) - OBJECT_KEYS)
        if extra:
            self.fail(where, f"unexpected key {extra[0][:40]!r} in {cls}")
        if not isinstance(cfg, dict):
            self.fail(where, f"the config of {cls} must be an object")
        build = node.get("build_config")
        if build is not None and (
            not isinstance(build, dict) or set(build) - {"input_shape", "shapes_dict"}
        ):
            self.fail(where, f"malformed build_config in {cls}")
        name = cfg.get("name")
        where = [*where, name[:40]] if isinstance(name, str) else where
        if not compiled:
            self.params += self.size(cls, cfg, build, where)
        return where

    def size(self, cls: str, cfg: dict[str, Any], build: Any, where: list[str]) -> int:
        """About how many weights the layer will allocate (an upper bound)."""
        if cls == "Embedding":
            return self.dim(cfg.get("input_dim"), where) * self.dim(cfg.get("output_dim"), where)
        gates = _GATES.get(cls)
        if gates is None:
            return 0
        if cfg.get("stateful") or cfg.get("unroll"):
            self.fail(where, f"stateful or unrolled {cls} layers are not something lstmcli builds")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        if not isinstance(shape, list) or not shape:
            self.fail(where, f"{cls} has no build_config input shape (lstmcli saves built models)")
        last, units = self.dim(shape[-1], where), self.dim(cfg.get("units"), where)
        return units * (last + 1) if cls == "Dense" else gates * units * (last + units + 2)

    def dim(self, value: Any, where: list[str]) -> int:
        if type(value) is not int or not 0 <= value <= MAX_DIM:
            self.fail(where, f"size {ascii(value)[:40]} is not a whole number up to {MAX_DIM:,}")
        return value
