"""Cache of vectorised datasets, so a second ``train`` on the same data skips reading and
tokenising tens of thousands of files.

The key (``prepare.cache_identity``) covers everything that changes the token ids: every
data file's size and modification time, the split settings, the vocabulary size, the
sequence length and the versions of the split and of the text pipeline. Entries are
``.npz`` files (``allow_pickle=False``) written atomically. A damaged entry (truncated, a
flipped bit: the zip's CRC, then the arrays' own consistency catch it) is reported once,
deleted and rebuilt; a cache folder that cannot be written costs a warning, never the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import atomic, paths
from lstmcli.core.errors import LstmcliWarning
from lstmcli.data.textpipe import Encoded

PIPELINE_VERSION = 3  # bump when textpipe's standardisation or encoding changes
SPLITS = ("train", "val", "test")


@dataclass
class VectorSplit:
    enc: Encoded
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.enc)


@dataclass
class Vectorized:
    vocabulary: list[str]
    label_names: list[str]
    train: VectorSplit
    val: VectorSplit
    test: VectorSplit | None
    notes: list[str]
    from_cache: bool = False
    fingerprint: str = ""  # content hash of the labelled splits (``textdata.fingerprint``)


def cache_key(identity: dict[str, Any]) -> str:
    blob = json.dumps({**identity, "pipeline": PIPELINE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_path(key: str) -> Path:
    return paths.vector_cache_dir() / f"{key}.npz"


def save(path: Path, vec: Vectorized, key: str) -> bool:
    """Write the entry; on a full disk or a read-only folder warn once and go on (False)."""
    arrays: dict[str, np.ndarray] = {
        "key": np.array(key),
        "fingerprint": np.array(vec.fingerprint),
        "vocabulary": np.array(vec.vocabulary, dtype=np.str_),
        "label_names": np.array(vec.label_names, dtype=np.str_),
        "notes": np.array(vec.notes, dtype=np.str_),
    }
    for name in SPLITS:
        split: VectorSplit | None = getattr(vec, name)
        if split is None:
            continue
        arrays[f"{name}_ids"] = split.enc.ids
        arrays[f"{name}_offsets"] = split.enc.offsets
        arrays[f"{name}_labels"] = split.labels
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.clean_stale(path.parent)
        with atomic.atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, **arrays)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        warnings.warn(
            f"cannot write the vectorised-data cache in {path.parent} ({reason}); "
            "going on without it",
            LstmcliWarning,
            stacklevel=2,
        )
        return False
    return True


def load(path: Path, key: str) -> Vectorized | None:
    """The cached entry, or None when absent, of another key, or damaged (then reported
    once and deleted, so that it is rebuilt)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            return _unpack(z)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        warnings.warn(
            f"vectorised-data cache entry {path} is damaged ({reason}); rebuilding it",
            LstmcliWarning,
            stacklevel=2,
        )
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _unpack(z: Any) -> Vectorized:
    vocabulary = [str(t) for t in z["vocabulary"]]
    label_names = [str(t) for t in z["label_names"]]
    splits = {}
    for name in SPLITS:
        if f"{name}_ids" in z:
            enc = Encoded(z[f"{name}_ids"], z[f"{name}_offsets"])
            splits[name] = VectorSplit(enc, z[f"{name}_labels"])
            _check(splits[name], len(vocabulary), len(label_names), name)
    return Vectorized(
        vocabulary=vocabulary,
        label_names=label_names,
        train=splits["train"],
        val=splits["val"],
        test=splits.get("test"),
        notes=[str(t) for t in z["notes"]],
        from_cache=True,
        fingerprint=str(z["fingerprint"]),
    )


def _check(split: VectorSplit, words: int, classes: int, name: str) -> None:
    """Arrays that read back but do not fit together (hand-edited, or a bug) count as damage."""
    ids, offsets, labels = split.enc.ids, split.enc.offsets, split.labels
    ok = (
        ids.ndim == offsets.ndim == labels.ndim == 1
        and len(offsets) == len(labels) + 1
        and offsets[0] == 0
        and offsets[-1] == len(ids)
        and bool(np.all(np.diff(offsets) >= 0))
        and (len(ids) == 0 or (int(ids.min()) >= 0 and int(ids.max()) < words))
        and (len(labels) == 0 or (int(labels.min()) >= 0 and int(labels.max()) < classes))
    )
    if not ok:
        raise ValueError(f"the {name} arrays do not fit together")
