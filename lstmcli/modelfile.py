"""Reading ``.keras`` files that may come from anyone, without running their code.

Before Keras sees a file, ``check_archive`` opens it as a zip and walks the whole config
(nested models included): only the layer classes lstmcli itself builds are accepted. Then
Keras loads it with ``safe_mode=True``. HDF5 files are refused (their loader is unsafe).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from lstmcli.errors import ModelFileError

ALLOWED_CLASSES = {
    "Functional", "Model", "Sequential", "InputLayer",
    "Embedding", "LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell",
    "Bidirectional", "Dense", "Dropout",
}  # fmt: skip
ALLOWED_MODULES = {"keras", "keras.layers", "keras.models", "keras.src.models.functional"}
MAX_MEMBERS = 64
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024**3
ALLOWED_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}


def check_archive(path: Path) -> dict[str, Any]:
    """Validate a ``.keras`` archive and return its parsed config. Raises ``ModelFileError``."""
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    if path.is_dir():
        raise ModelFileError(f"model file {path} is a folder, not a .keras file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\x89HDF"):
        raise ModelFileError(
            f"{path} is an HDF5 (.h5) model; lstmcli only loads .keras files (HDF5 loading "
            "cannot be made safe)"
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a .keras file (not a zip archive, or truncated)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(path, infos)
            raw = zf.read("config.json")
            if len(raw) > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{path}: config.json is larger than {MAX_CONFIG_BYTES} bytes")
            bad = zf.testzip()
            if bad is not None:
                raise ModelFileError(f"{path}: archive member {bad!r} is corrupt")
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ModelFileError(f"{path} is corrupt or truncated ({exc})") from None
    except KeyError:
        raise ModelFileError(f"{path} has no config.json; it is not a Keras model") from None
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{path}: config.json is not valid JSON") from None
    walk_config(config, path)
    return config


def _check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{path} has {len(infos)} archive members; at most {MAX_MEMBERS}")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
            raise ModelFileError(f"{path}: archive member {name!r} escapes the archive folder")
        if name not in ALLOWED_MEMBERS and not name.startswith("assets/"):
            raise ModelFileError(f"{path}: unexpected archive member {name!r}")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ModelFileError(f"{path}: archive members are larger than 2 GiB in total")


def walk_config(node: Any, path: Path) -> None:
    """Refuse anything that is not one of lstmcli's own layer types, at any depth."""
    if isinstance(node, list):
        for item in node:
            walk_config(item, path)
        return
    if not isinstance(node, dict):
        return
    if "class_name" in node:
        cls = node["class_name"]
        if not isinstance(cls, str) or cls not in ALLOWED_CLASSES:
            raise ModelFileError(
                f"{path}: layer type {cls!r} is not allowed (lstmcli loads only "
                f"{', '.join(sorted(ALLOWED_CLASSES - {'Functional', 'Model'}))})"
            )
        module = node.get("module")
        if module is not None and module not in ALLOWED_MODULES:
            raise ModelFileError(f"{path}: layer {cls} comes from foreign module {module!r}")
        registered = node.get("registered_name")
        if registered not in (None, cls):
            raise ModelFileError(f"{path}: custom object {registered!r} is not allowed")
    for key, value in node.items():
        if key in ("function", "module_path", "function_type"):
            raise ModelFileError(f"{path}: config key {key!r} (code reference) is not allowed")
        if key == "vocabulary" and isinstance(value, str):
            raise ModelFileError(f"{path}: path-valued vocabulary {value!r} is not allowed")
        walk_config(value, path)


def load_model(path: str | Path) -> Any:
    """Check then load a ``.keras`` file with Keras safe mode; never compiles user code."""
    path = Path(path)
    check_archive(path)
    from lstmcli.tf import keras

    k = keras()
    try:
        return k.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad file; all mean the same here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{path}: Keras could not load it ({first[:200]})") from None


def save_model(model: Any, target: str | Path) -> None:
    """Save atomically: Keras writes a temporary ``.keras`` name that is renamed into place."""
    from lstmcli.atomic import atomic_path

    with atomic_path(target, suffix=".keras") as tmp:
        model.save(tmp)
