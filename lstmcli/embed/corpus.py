"""What pretraining reads (the texts of a dataset) and a first look at what it learnt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Probe words for the sanity check after pretraining (those in the vocabulary are used).
PROBES = ("great", "bad", "funny", "boring", "actor", "music", "good", "love", "story")


def pretraining_texts(
    dataset: str, data: Path | None, seed: int, limit: int | None, progress: Any = None
) -> list[str]:
    """imdb: unlabelled + training reviews; anything else: the training split of the data.
    ``progress(done, total)`` follows a download of IMDB, if one is needed."""
    import numpy as np

    from lstmcli.data import datasets, imdb

    if dataset == "imdb":
        texts = imdb.read_unlabelled(data, include_train=True, progress=progress)
    else:
        texts = list(datasets.load_labelled(dataset, data=data, seed=seed).train.texts)
    if limit is not None and limit < len(texts):
        keep = np.sort(np.random.default_rng(seed).permutation(len(texts))[:limit])
        texts = [texts[int(i)] for i in keep]
    return texts


def corpus_for(req: Any, progress: Any = None) -> list[str]:
    """What a model trained on the DataRequest ``req`` pretrains on: imdb's unlabelled and
    training reviews; any other data's own training split (its columns, its seed's split;
    never its validation or test texts)."""
    from lstmcli.data import datasets

    if req.name_or_path == "imdb":
        return pretraining_texts("imdb", req.data_path, req.seed, None, progress=progress)
    return list(datasets.load_labelled(req.replace(limit=None)).train.texts)


def sanity_neighbours(
    result: Any, probes: int = 4, k: int = 6
) -> list[tuple[str, list[tuple[str, float]]]]:
    """Nearest words of a few frequent, meaningful words (else of the most frequent ones)."""
    from lstmcli.embed.vectors import WordVectors, nearest

    vectors = WordVectors(result.vocabulary, result.vectors, "the new vectors")
    index = vectors.index()
    words = [w for w in PROBES if w in index][:probes]
    if len(words) < probes:  # small or non-English data: words past the most common ones
        extra = [w for w in result.vocabulary[20:] if w not in words and len(w) > 3]
        words += extra[: probes - len(words)]
    return [(w, nearest(vectors, w, k)) for w in words]
