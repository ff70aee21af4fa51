"""Cache of vectorised datasets, so a second ``train`` on the same data skips reading and
tokenising tens of thousands of files.

The key covers everything that changes the token ids: the data source's identity (path,
size, modification time), the split settings, the vocabulary size, the sequence length and
the version of the text pipeline. A cache entry whose key does not match is rebuilt.
Entries are ``.npz`` files (``allow_pickle=False``) written atomically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import atomic, paths
from lstmcli.data.textpipe import Encoded

PIPELINE_VERSION = 3  # bump when textpipe's standardisation or encoding changes


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


def cache_key(identity: dict[str, Any]) -> str:
    blob = json.dumps({**identity, "pipeline": PIPELINE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_path(key: str) -> Path:
    return paths.vector_cache_dir() / f"{key}.npz"


def save(path: Path, vec: Vectorized, key: str) -> None:
    arrays: dict[str, np.ndarray] = {
        "key": np.array(key),
        "vocabulary": np.array(vec.vocabulary, dtype=np.str_),
        "label_names": np.array(vec.label_names, dtype=np.str_),
        "notes": np.array(vec.notes, dtype=np.str_),
    }
    for name in ("train", "val", "test"):
        split: VectorSplit | None = getattr(vec, name)
        if split is None:
            continue
        arrays[f"{name}_ids"] = split.enc.ids
        arrays[f"{name}_offsets"] = split.enc.offsets
        arrays[f"{name}_labels"] = split.labels
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def load(path: Path, key: str) -> Vectorized | None:
    """The cached entry, or None when absent, stale (other key) or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            splits = {}
            for name in ("train", "val", "test"):
                if f"{name}_ids" in z:
                    enc = Encoded(z[f"{name}_ids"], z[f"{name}_offsets"])
                    splits[name] = VectorSplit(enc, z[f"{name}_labels"])
            return Vectorized(
                vocabulary=[str(t) for t in z["vocabulary"]],
                label_names=[str(t) for t in z["label_names"]],
                train=splits["train"],
                val=splits["val"],
                test=splits.get("test"),
                notes=[str(t) for t in z["notes"]],
                from_cache=True,
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None  # a damaged entry is simply rebuilt
