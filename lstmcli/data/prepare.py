"""Load a labelled dataset and turn it into token ids, through the vectorised cache.

``source_identity`` says what the data is without reading it: for a file its size and
modification time (in nanoseconds), for a folder the same for every file in it, summed up
as counts and a digest. It keys the cache, and a run records it at its start, so that
``--resume`` can say what changed (``describe_change``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lstmcli.core import atomic
from lstmcli.data import vcache
from lstmcli.data.request import DataRequest
from lstmcli.data.vcache import Vectorized, VectorSplit


def path_identity(path: str | None) -> dict[str, Any] | None:
    """Size and modification time of a file, or of every file under a folder."""
    if not path:
        return None
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError:
        return {"path": str(p), "kind": "missing"}
    if not p.is_dir():
        return {"path": str(p), "kind": "file", "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    from lstmcli.data.imdb import SHA_MARKER

    marker = p / SHA_MARKER  # a folder lstmcli unpacked itself: named by its archive
    if marker.is_file():
        sha = marker.read_text(encoding="utf-8", errors="replace").strip()[:64]
        return {"path": str(p), "kind": "unpacked archive", "sha256": sha}
    h, files, total, newest = hashlib.sha256(), 0, 0, 0
    for root, dirs, names in os.walk(p):
        dirs.sort()
        for name in sorted(names):
            try:
                fst = os.stat(os.path.join(root, name))
            except OSError:
                continue
            rel = os.path.relpath(os.path.join(root, name), p)
            h.update(f"{rel}\0{fst.st_size}\0{fst.st_mtime_ns}\n".encode("utf-8", "replace"))
            files, total, newest = files + 1, total + fst.st_size, max(newest, fst.st_mtime_ns)
    return {"path": str(p), "kind": "folder", "files": files, "bytes": total,
            "mtime_ns": newest, "digest": h.hexdigest()[:32]}  # fmt: skip


def source_identity(req: DataRequest) -> dict[str, Any]:
    """What identifies the data without reading it: the train source and the test source."""
    from lstmcli.data import datasets, imdb

    name = req.name_or_path
    if name == "imdb":
        source = req.data or str(imdb.cached_imdb_dir())
    elif name == "sample":
        source = str(datasets.sample_path())
    else:
        source = name
    return {"source": path_identity(source), "test_source": path_identity(req.test)}


def cache_identity(req: DataRequest, vocab: int, seq_len: int) -> dict[str, Any]:
    from lstmcli.data.textdata import SPLIT_VERSION

    # to_dict: val_by only when it is not "text", so older cache entries keep their keys
    return {**req.to_dict(), **source_identity(req), "vocab": vocab, "seq_len": seq_len,
            "split_version": SPLIT_VERSION}  # fmt: skip


def describe_change(before: Any, now: dict[str, Any]) -> str:
    """What differs between two ``source_identity`` results, in words."""
    parts = []
    for key in ("source", "test_source"):
        old, new = (before or {}).get(key) or {}, now.get(key) or {}
        if old == new:
            continue
        path = new.get("path") or old.get("path") or "?"
        changes = []
        for field, unit in (("files", "files"), ("bytes", "bytes")):
            if old.get(field) != new.get(field) and new.get(field) is not None:
                changes.append(f"{_n(old.get(field))} → {_n(new.get(field))} {unit}")
        if old.get("kind") != new.get("kind"):
            changes.append(f"{old.get('kind', '?')} → {new.get('kind', '?')}")
        if old.get("mtime_ns") != new.get("mtime_ns") and new.get("mtime_ns"):
            changes.append(
                f"modified {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(new['mtime_ns'] / 1e9))}"
            )
        parts.append(f"{path}: {', '.join(changes) or 'other contents'}")
    return "; ".join(parts) or "the same files, other contents"


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def caching(use_cache: bool) -> bool:
    """Whether the vectorised cache is read and written (``$LSTMCLI_NO_CACHE`` turns both off)."""
    return use_cache and not os.environ.get("LSTMCLI_NO_CACHE")


def _key(req: DataRequest, vocab: int, seq_len: int, truncate: str, head_tokens: int) -> str:
    ident = cache_identity(req, vocab, seq_len)
    if truncate != "pre":  # which tokens of a long text are kept
        ident.update(truncate=truncate, head_tokens=head_tokens)
    return vcache.cache_key(ident)


def cached(
    req: DataRequest, vocab: int, seq_len: int, truncate: str = "pre", head_tokens: int = 0
) -> Vectorized | None:
    """What ``vectorize`` with the same arguments stored, or None (no entry, caching off,
    a damaged entry); the dataset itself is neither read nor cached."""
    if not caching(True):
        return None
    key = _key(req, vocab, seq_len, truncate, head_tokens)
    return vcache.load(vcache.cache_path(key), key)


def vectorize(
    req: DataRequest,
    vocab: int,
    seq_len: int,
    use_cache: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
    stage: Callable[[str], None] | None = None,
    truncate: str = "pre",
    head_tokens: int = 0,
) -> Vectorized:
    """Token ids for train/val/test, from the cache when the same data was seen before.

    ``truncate``/``head_tokens``: which tokens of a text longer than ``seq_len`` are kept
    (``textpipe.encode``)."""
    from lstmcli.data import datasets
    from lstmcli.data.textpipe import adapt_vocabulary, encode

    say = stage or (lambda _msg: None)
    use_cache = caching(use_cache)
    key = _key(req, vocab, seq_len, truncate, head_tokens)
    path = vcache.cache_path(key)
    if use_cache:
        atomic.clean_stale(path.parent)  # cache writes that were killed midway
        cached = vcache.load(path, key)
        if cached is not None:
            say(f"vectorised data from cache {path}")
            return cached
    say(f"reading {req.name_or_path}")
    # One pass fills the cache below, so an archive is read in place (~6 s) rather than
    # unpacked into 100,000 files first (15-45 s); later runs do not read it at all.
    data = datasets.load_labelled(req, progress=progress, unpack=False)
    say(
        f"learning a vocabulary of up to {vocab:,} words from {len(data.train.texts):,} training texts"
    )
    vocabulary = adapt_vocabulary(data.train.texts, vocab)
    say("encoding texts")

    def split(s: Any) -> VectorSplit:
        enc = encode(s.texts, vocabulary, seq_len, truncate=truncate, head_tokens=head_tokens)
        return VectorSplit(enc, s.labels.astype("int64"))

    vec = Vectorized(
        vocabulary=vocabulary,
        label_names=list(data.label_names),
        train=split(data.train),
        val=split(data.val),
        test=split(data.test) if data.test is not None else None,
        notes=list(data.notes),
        fingerprint=data.fingerprint,
    )
    if use_cache:
        vcache.save(path, vec, key)
    return vec
