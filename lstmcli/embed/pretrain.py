"""Learn word vectors from raw text: skip-gram with negative sampling (word2vec), in TensorFlow
(``--method skipgram``; ``--method word2vec`` hands the same objective to gensim, see
``embed/word2vec.py``). This loop stays the default beside gensim because it is seeded end to
end (gensim's threads update shared rows in no fixed order) and because it is the lecture's
algorithm written out where a learner can read it; gensim is ~3x as fast.

The vocabulary and token ids come from ``textpipe`` (the same ones ``train`` uses), so the
vectors line up with a later classifier's Embedding layer word for word.

Each epoch, NumPy turns the token stream into (centre, context) pairs: frequent words are
subsampled (word2vec's keep probability ``(√(f/t) + 1)·t/f``), then every two tokens at
distance d ≤ W in the same text make a pair in both directions, kept with probability
``(W − d + 1)/W`` (word2vec's "dynamic window": near words count more). TensorFlow then
minimises ``−log σ(u_ctx·v_w) − K·E[log σ(−u_neg·v_w)]``, negatives drawn from the unigram
distribution to the power 3/4. As in ``tf.nn.nce_loss``, the pairs of a batch share one draw
of S negatives (each weighted K/S): two small matrix products instead of K gathers a pair.
Only the rows a batch touches are updated ("lazy" Adam), so a step costs the same for any V.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmcli.backend.tf import tensorflow
from lstmcli.core.errors import DataError
from lstmcli.embed.settings import (
    MAX_TOKENS_PER_TEXT,
    PretrainResult,
    PretrainSettings,
    Progress,
)

# --------------------------------------------------------------------------- pairs (NumPy)


def keep_probability(counts: np.ndarray, t: float) -> np.ndarray:
    """word2vec's subsampling: frequent words are dropped, words rarer than ``t`` all kept."""
    if t <= 0:
        return np.ones(len(counts))
    f = counts / max(counts.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(f / t) + 1) * t / f
    return np.where(counts > 0, np.minimum(p, 1.0), 0.0)


def skipgram_pairs(
    ids: np.ndarray,
    text_of: np.ndarray,
    window: int,
    rng: np.random.Generator,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(centres, contexts), int32, shuffled: every kept pair at distance ≤ ``window``.

    ``ids`` are the tokens of several texts one after another and ``text_of`` the text each
    token belongs to (pairs never cross texts); ``keep`` is each word's keep probability.
    """
    if keep is not None:
        mask = rng.random(len(ids)) < keep[ids]
        ids, text_of = ids[mask], text_of[mask]
    centres, contexts = [], []
    for d in range(1, window + 1):
        if d >= len(ids):
            break
        ok = text_of[:-d] == text_of[d:]
        if d > 1:  # dynamic window: distance d is used with probability (W - d + 1) / W
            ok &= rng.random(len(ok)) < (window - d + 1) / window
        a, b = ids[:-d][ok], ids[d:][ok]
        centres += [a, b]
        contexts += [b, a]
    if not centres:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    c, x = np.concatenate(centres), np.concatenate(contexts)
    order = rng.permutation(len(c))
    return c[order].astype(np.int32), x[order].astype(np.int32)


# --------------------------------------------------------------------------- model (TF)


class _SkipGram:
    """Two tables (word vectors ``w_in``, context vectors ``w_out``) and lazy Adam on both."""

    def __init__(self, vocab: int, dim: int, noise: np.ndarray, s: PretrainSettings) -> None:
        tf = tensorflow()
        self.tf = tf
        init = np.random.default_rng(s.seed).uniform(-0.5 / dim, 0.5 / dim, (vocab, dim))
        self.tables = [tf.Variable(init.astype(np.float32)), tf.Variable(tf.zeros((vocab, dim)))]
        self.m = [tf.Variable(tf.zeros((vocab, dim))) for _ in self.tables]
        self.v = [tf.Variable(tf.zeros((vocab, dim))) for _ in self.tables]
        self.step = tf.Variable(0.0)
        self.lr = tf.Variable(s.lr, dtype=tf.float32)
        self.cdf = tf.constant(np.cumsum(noise / noise.sum()), tf.float32)
        self.gen = tf.random.Generator.from_seed(s.seed)
        self.k, self.batch = float(s.negatives), s.batch_size
        self.shared = max(64, 8 * s.negatives)
        spec = tf.TensorSpec([None], tf.int32)
        self.run_chunk = tf.function(self._run_chunk, input_signature=[spec, spec])

    def _update(self, i: int, rows: Any, grad: Any) -> None:
        """Adam on the rows a batch touched (repeated rows' gradients are summed first)."""
        tf = self.tf
        b1, b2, eps = 0.9, 0.999, 1e-7
        order = tf.argsort(rows, stable=True)
        rows = tf.gather(rows, order)
        first = tf.concat([[True], rows[1:] != rows[:-1]], axis=0)
        segment = tf.cumsum(tf.cast(first, tf.int32)) - 1
        g = tf.math.segment_sum(tf.gather(grad, order), segment)
        idx = tf.boolean_mask(rows, first)[:, None]
        m = b1 * tf.gather_nd(self.m[i], idx) + (1 - b1) * g
        v = b2 * tf.gather_nd(self.v[i], idx) + (1 - b2) * g * g
        self.m[i].scatter_nd_update(idx, m)
        self.v[i].scatter_nd_update(idx, v)
        lr = self.lr * tf.sqrt(1 - b2**self.step) / (1 - b1**self.step)
        self.tables[i].scatter_nd_sub(idx, lr * m / (tf.sqrt(v) + eps))

    def _step(self, centres: Any, contexts: Any) -> Any:
        """One batch; its pairs share ``shared`` negative words, each weighted K / shared."""
        tf = self.tf
        vocab = tf.shape(self.cdf, out_type=tf.int32)[0]
        u = self.gen.uniform((self.shared,), dtype=tf.float32)
        neg = tf.minimum(tf.searchsorted(self.cdf, u, out_type=tf.int32), vocab - 1)
        w = tf.gather(self.tables[0], centres)  # (n, D) word vectors
        c = tf.gather(self.tables[1], contexts)  # (n, D) their contexts' vectors
        q = tf.gather(self.tables[1], neg)  # (S, D) the negatives' context vectors
        pos = tf.reduce_sum(w * c, axis=1)  # (n,)
        negs = tf.matmul(w, q, transpose_b=True)  # (n, S)
        weight = self.k / self.shared
        loss = tf.reduce_sum(tf.math.softplus(-pos)) + weight * tf.reduce_sum(
            tf.math.softplus(negs)
        )
        # The gradients by hand: d softplus(x)/dx = σ(x).
        dpos = -tf.sigmoid(-pos)[:, None]  # (n, 1)
        dneg = weight * tf.sigmoid(negs)  # (n, S)
        dw = dpos * c + tf.matmul(dneg, q)
        dc = dpos * w
        dq = tf.matmul(dneg, w, transpose_a=True)
        self.step.assign_add(1.0)
        self._update(0, centres, dw)
        self._update(1, tf.concat([contexts, neg], 0), tf.concat([dc, dq], 0))
        return loss

    def _run_chunk(self, centres: Any, contexts: Any) -> Any:
        tf = self.tf
        n = tf.shape(centres)[0]
        total = tf.constant(0.0)
        for start in tf.range(0, n, self.batch):
            end = tf.minimum(start + self.batch, n)
            total += self._step(centres[start:end], contexts[start:end])
        return total / tf.cast(tf.maximum(n, 1), tf.float32)


# --------------------------------------------------------------------------- training


def pretrain(
    texts: Sequence[str],
    settings: PretrainSettings | None = None,
    progress: Progress | None = None,
) -> PretrainResult:
    """Learn ``settings.dim``-wide vectors for the ``settings.vocab`` most frequent words.

    ``progress(done, total, logs)`` is called as texts are processed (``done``/``total``
    count texts over all epochs; ``logs`` has ``phase``, ``epoch``, ``loss``, ``pairs``).
    """
    from lstmcli.data.textpipe import adapt_vocabulary, encode

    s = settings or PretrainSettings()
    s.check()
    if not texts:
        raise DataError("no texts to learn word vectors from")
    started = time.perf_counter()
    report = progress or (lambda done, total, logs: None)
    n = len(texts)
    total = n * s.epochs
    report(0, total, {"phase": "vocabulary"})
    vocabulary = adapt_vocabulary(texts, s.vocab)
    report(0, total, {"phase": "encoding"})
    enc = encode(texts, vocabulary, MAX_TOKENS_PER_TEXT)
    v = len(vocabulary)
    counts = np.bincount(enc.ids, minlength=v).astype(np.int64)
    if len(enc.ids) < 2 or v < 3:
        raise DataError(f"the {n:,} texts have too few words ({len(enc.ids)}) to learn vectors")
    if s.method == "word2vec":
        from lstmcli.core.threads import usable_cores
        from lstmcli.embed.word2vec import train_word2vec

        vectors, history = train_word2vec(enc, vocabulary, counts, s, usable_cores(), report)
        pairs_total, loss = None, None
    else:
        vectors, history, pairs_total, loss = _train_skipgram(enc, counts, s, report)
    return PretrainResult(
        vocabulary=vocabulary,
        vectors=vectors,
        counts=counts,
        seconds=time.perf_counter() - started,
        pairs=pairs_total,
        loss=loss,
        texts=n,
        tokens=len(enc.ids),
        settings=s,
        history=history,
    )


def _train_skipgram(
    enc: Any, counts: np.ndarray, s: PretrainSettings, report: Progress
) -> tuple[np.ndarray, list[dict[str, Any]], int, float]:
    """This module's skip-gram: (vectors, history, pairs trained, last epoch's mean loss)."""
    keep = keep_probability(counts, s.subsample)
    model = _SkipGram(len(counts), s.dim, counts.astype(np.float64) ** 0.75, s)
    rng = np.random.default_rng(s.seed)
    history: list[dict[str, Any]] = []
    pairs_total, loss = 0, float("nan")
    for epoch in range(1, s.epochs + 1):
        epoch_start = time.perf_counter()
        loss, epoch_pairs = _epoch(model, enc, keep, s, rng, epoch, pairs_total, report)
        pairs_total += epoch_pairs
        history.append({"epoch": epoch, "loss": loss, "pairs": epoch_pairs,
                        "seconds": time.perf_counter() - epoch_start})  # fmt: skip
    vectors = model.tables[0].numpy().astype(np.float32)
    vectors[0] = 0.0
    return vectors, history, pairs_total, loss


def _epoch(
    model: _SkipGram, enc: Any, keep: np.ndarray, s: PretrainSettings, rng: np.random.Generator,
    epoch: int, pairs_before: int, report: Progress,
) -> tuple[float, int]:  # fmt: skip
    """One pass over the texts in a fresh random order: (mean loss, pairs trained)."""
    n, lengths = len(enc), enc.lengths
    total, done = n * s.epochs, n * (epoch - 1)
    loss_sum, pairs, loss = 0.0, 0, float("nan")
    for chunk in _chunks(rng.permutation(n), lengths, s.chunk_tokens):
        ids = np.concatenate([enc.row(int(i)) for i in chunk])
        text_of = np.repeat(np.arange(len(chunk)), lengths[chunk])
        centres, contexts = skipgram_pairs(ids, text_of, s.window, rng, keep)
        model.lr.assign(s.lr * max(0.05, 1.0 - done / total))
        if len(centres):
            loss_sum += float(model.run_chunk(centres, contexts)) * len(centres)
            pairs += len(centres)
        done += len(chunk)
        loss = loss_sum / max(pairs, 1)
        report(done, total, {"phase": "training", "epoch": epoch, "loss": loss,
                             "pairs": pairs_before + pairs})  # fmt: skip
    return loss, pairs


def _chunks(order: np.ndarray, lengths: np.ndarray, tokens: int) -> list[np.ndarray]:
    """Split ``order`` (text indices) into consecutive runs of about ``tokens`` tokens."""
    ends = np.cumsum(lengths[order])
    cuts = np.searchsorted(ends, np.arange(tokens, int(ends[-1]) if len(ends) else 0, tokens))
    return [c for c in np.split(order, np.unique(cuts + 1)) if len(c)]
