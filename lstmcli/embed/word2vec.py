"""Word vectors by gensim's word2vec: the same skip-gram with negative sampling as
``embed/pretrain.py``, run by the library written for it.

``pretrain.py`` trains skip-gram in TensorFlow with shared negatives and Adam, in batches of
pairs that NumPy draws; gensim runs the original algorithm (each pair its own K negatives,
SGD whose rate falls linearly to ~0, word2vec's subsampling and dynamic window) in C loops on
one thread per core. On the 75,000 IMDB reviews (17.6 million tokens, 2 cores), two epochs
with window 4 took 58 s in gensim against ~200 s in ``pretrain.py``; in about the time of
those 2 epochs gensim runs 5 with window 5, and the ``strong`` recipe's model validated higher
from those vectors on both seeds tried, reaching 90.4% on the test reviews (README, "What moves
IMDB accuracy"). Both take the vocabulary and token ids from ``textpipe``, so their vectors
line up with a classifier's Embedding layer word for word.

Gensim seeds each word's first vector from a hash of the word (``hashfxn``); Python's own
``hash`` of a str changes from process to process, so a fixed one is given. With more than
one worker thread (one per core), the order in which threads update shared rows varies:
vectors from two runs with the same seed are close, not equal. A recipe's vectors are cached
per seed (``train/pretrained.py``), so its runs after the first start from the same ones.
"""

from __future__ import annotations

import time
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmcli.core.errors import UsageError

if TYPE_CHECKING:
    from lstmcli.embed.settings import PretrainSettings

GENSIM_MISSING = (
    "--method word2vec needs the gensim package; install it with pip install gensim "
    "(it comes with lstmcli's own dependencies: reinstall lstmcli), or use --method skipgram"
)
UNKNOWN = 1  # textpipe's id of "[UNK]" (0 is padding)


def _stable_hash(text: str) -> int:
    """The same number for the same word in every process (Python's ``hash`` is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def word_lists(enc: Any, vocabulary: list[str]) -> list[list[str]]:
    """Each text as its list of vocabulary words (gensim trains on words, not ids), without
    the unknown word: as in word2vec, a word outside the vocabulary is dropped before the
    window is laid, instead of standing in every context as one frequent pseudo-word."""
    known = enc.ids > UNKNOWN
    kept_before = np.concatenate([[0], np.cumsum(known)])
    words = np.asarray(vocabulary, dtype=object)[enc.ids[known]]
    return [chunk.tolist() for chunk in np.split(words, kept_before[enc.offsets[1:-1]])]


def train_word2vec(
    enc: Any,
    vocabulary: list[str],
    counts: np.ndarray,
    s: PretrainSettings,
    threads: int,
    report: Any,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """(vectors, one history row per epoch) for ``vocabulary`` (row 0, padding, is zeros;
    the unknown word and any word that never occurs keep a seeded starting vector)."""
    try:
        from gensim.models import Word2Vec
        from gensim.models.callbacks import CallbackAny2Vec
    except ImportError as exc:
        raise UsageError(GENSIM_MISSING) from exc

    texts = word_lists(enc, vocabulary)
    n, total = len(texts), len(texts) * s.epochs
    history: list[dict[str, Any]] = []

    class _Epochs(CallbackAny2Vec):  # type: ignore[misc]
        def __init__(self) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, model: Any) -> None:
            now = time.perf_counter()
            epoch = len(history) + 1
            history.append({"epoch": epoch, "loss": None, "pairs": None,
                            "seconds": now - self.started})  # fmt: skip
            self.started = now
            report(n * epoch, total, {"phase": "training", "epoch": epoch})

    model = Word2Vec(
        vector_size=s.dim, window=s.window, negative=s.negatives, sample=s.subsample,
        sg=1, min_count=1, workers=max(1, threads), seed=s.seed, hashfxn=_stable_hash,
        alpha=s.lr, min_alpha=s.lr * 1e-4, epochs=s.epochs,
    )  # fmt: skip
    start = UNKNOWN + 1
    words = zip(vocabulary[start:], counts[start:], strict=True)
    model.build_vocab_from_freq({w: int(c) for w, c in words if c > 0})
    report(0, total, {"phase": "training", "epoch": 1})
    known = int(counts[start:].sum())
    model.train(texts, total_examples=n, total_words=known, epochs=s.epochs,
                callbacks=[_Epochs()])  # fmt: skip
    rng = np.random.default_rng(s.seed)
    vectors = rng.uniform(-0.5 / s.dim, 0.5 / s.dim, (len(vocabulary), s.dim)).astype(np.float32)
    found = [(i, w) for i, w in enumerate(vocabulary) if i > 0 and w in model.wv.key_to_index]
    if found:
        rows, words = zip(*found, strict=True)
        vectors[list(rows)] = model.wv[list(words)]
    vectors[0] = 0.0
    return vectors, history
