"""Load a labelled dataset and turn it into token ids, through the vectorised cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lstmcli import vcache
from lstmcli.vcache import Vectorized, VectorSplit


@dataclass(frozen=True)
class DataRequest:
    """Everything that selects the data; saved in the run so evaluate/inspect can reload it."""

    name_or_path: str
    data: str | None = None
    seed: int = 0
    limit: int | None = None
    eval_limit: int | None = None
    val_split: float = 0.2
    test: str | None = None
    text_col: str | None = None
    label_col: str | None = None

    def load_kwargs(self) -> dict[str, Any]:
        kw = asdict(self)
        kw["data"] = Path(self.data) if self.data else None
        kw["test"] = Path(self.test) if self.test else None
        return kw


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
    from lstmcli import datasets

    ident: dict[str, Any] = asdict(req)
    name = req.name_or_path
    if name == "imdb":
        ident["source"] = (
            _identity(req.data)
            if req.data
            else _identity(
                str(datasets.cached_imdb_dir()) if hasattr(datasets, "cached_imdb_dir") else None
            )
        )
    elif name == "sample":
        ident["source"] = _identity(
            str(datasets.sample_path()) if hasattr(datasets, "sample_path") else None
        )
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
) -> Vectorized:
    """Token ids for train/val/test, from the cache when the same data was seen before."""
    from lstmcli import datasets
    from lstmcli.textpipe import adapt_vocabulary, encode

    say = stage or (lambda _msg: None)
    key = vcache.cache_key({**source_identity(req), "vocab": vocab, "seq_len": seq_len})
    path = vcache.cache_path(key)
    if use_cache and os.environ.get("LSTMCLI_NO_CACHE") is None:
        cached = vcache.load(path, key)
        if cached is not None:
            say(f"vectorised data from cache {path}")
            return cached
    say(f"reading {req.name_or_path}")
    # One pass fills the cache below, so an archive is read in place (~6 s) rather than
    # unpacked into 100,000 files first (15-45 s); later runs do not read it at all.
    data = datasets.load_labelled(**req.load_kwargs(), progress=progress, unpack=False)
    say(
        f"learning a vocabulary of up to {vocab:,} words from {len(data.train.texts):,} training texts"
    )
    vocabulary = adapt_vocabulary(data.train.texts, vocab)
    say("encoding texts")

    def split(s: Any) -> VectorSplit:
        return VectorSplit(encode(s.texts, vocabulary, seq_len), s.labels.astype("int64"))

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
