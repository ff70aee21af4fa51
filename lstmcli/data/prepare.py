"""Load a labelled dataset and turn it into token ids, through the vectorised cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lstmcli.data import vcache
from lstmcli.data.request import DataRequest
from lstmcli.data.vcache import Vectorized, VectorSplit


def _identity(path: str | None) -> Any:
    if not path:
        return None
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError:
        return str(p)
    return [str(p), st.st_size, int(st.st_mtime)]


def source_identity(req: DataRequest) -> dict[str, Any]:
    """What identifies the data without reading it (path, size, modification time)."""
    from lstmcli.data import datasets, imdb

    ident: dict[str, Any] = asdict(req)
    name = req.name_or_path
    if name == "imdb":
        ident["source"] = _identity(req.data or str(imdb.cached_imdb_dir()))
    elif name == "sample":
        ident["source"] = _identity(str(datasets.sample_path()))
    else:
        ident["source"] = _identity(name)
    ident["test_source"] = _identity(req.test)
    return ident


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
    ident = {**source_identity(req), "vocab": vocab, "seq_len": seq_len}
    if truncate != "pre":  # the default adds nothing, so earlier cache entries stay valid
        ident.update(truncate=truncate, head_tokens=head_tokens)
    key = vcache.cache_key(ident)
    path = vcache.cache_path(key)
    if use_cache and os.environ.get("LSTMCLI_NO_CACHE") is None:
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
    )
    if use_cache:
        vcache.save(path, vec, key)
    return vec
