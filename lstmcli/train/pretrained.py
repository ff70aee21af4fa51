"""A recipe's pretrained word vectors: learnt once per data, settings and seed, then cached.

A recipe with a ``[pretrain]`` table (see ``train/recipes.py``) has ``lstmcli train`` learn
skip-gram vectors first (``lstmcli pretrain``'s: imdb's 50,000 unlabelled and 25,000 training
reviews, never the test reviews; the training split of any other data) at the model's
embedding width, and start the embedding from them. The vectors are kept in
``LSTMCLI_HOME/vectors/``, keyed by what identifies the data without reading it (the same
identity as the vectorised-data cache) and every pretraining setting, so a second run with the
same recipe and seed reuses them; the first run's wall time includes the pretraining.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lstmcli.core import paths
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec

# [pretrain] keys → PretrainSettings fields (the names of `lstmcli pretrain`'s flags).
SETTING_KEYS = {
    "vocab": "vocab", "epochs": "epochs", "window": "window", "negatives": "negatives",
    "subsample": "subsample", "lr": "learning_rate", "batch_size": "batch_size",
    "method": "method",
}  # fmt: skip


def vectors_path(req: DataRequest, settings: Any) -> Path:
    """Where the vectors of this data and these settings are cached."""
    from dataclasses import asdict

    from lstmcli.data.prepare import source_identity

    ident = {"data": req.name_or_path, **source_identity(req), "settings": asdict(settings)}
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    name = req.name_or_path
    stem = name if name in ("imdb", "sample") else Path(name).stem
    return paths.home() / "vectors" / f"{stem}-{settings.dim}d-seed{settings.seed}-{digest}.vec"


def pretrain_settings(table: dict[str, Any], spec: ModelSpec, seed: int) -> Any:
    """PretrainSettings from a recipe's [pretrain] table, at the model's embedding width."""
    from lstmcli.embed.settings import PretrainSettings

    fields = {SETTING_KEYS[k]: v for k, v in table.items() if k in SETTING_KEYS}
    fields.setdefault("vocab", spec.vocab)
    settings = PretrainSettings(dim=spec.embed_dim, seed=seed, **fields)
    settings.check()
    return settings


def ensure_vectors(
    table: dict[str, Any],
    req: DataRequest,
    spec: ModelSpec,
    stage: Callable[[str], None],
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    download: Callable[[int, int | None], None] | None = None,
) -> Path:
    """The cached vectors for this recipe table, data and seed; learnt now if missing."""
    settings = pretrain_settings(table, spec, req.seed)
    path = vectors_path(req, settings)
    if path.is_file():
        stage(f"pretrained {settings.dim}-wide word vectors from the cache ({path})")
        return path
    from lstmcli.embed.corpus import corpus_for
    from lstmcli.embed.pretrain import pretrain

    texts = corpus_for(req, progress=download)
    how = "gensim's word2vec" if settings.method == "word2vec" else "skip-gram"
    stage(f"pretraining {settings.dim}-wide word vectors on {len(texts):,} texts ({how})")
    result = pretrain(texts, settings, progress or (lambda *_a: None))
    path.parent.mkdir(parents=True, exist_ok=True)
    result.save(path)  # written to a temporary name and renamed into place
    stage(f"pretrained in {result.seconds:.0f} s; cached in {path}")
    return path
