"""Text → token ids: Keras ``TextVectorization`` for the vocabulary, NumPy for the layout.

Texts are lower-cased, ``<br />`` tags and punctuation are stripped, and each text keeps its
*last* ``seq_len`` tokens, as Keras's ``pad_sequences`` does by default: a long review's
verdict is usually at its end, and with front padding those words come right before h_T
(``truncate="post"`` keeps the first T; ``"head+tail"`` the first k and the last T − k).
Sequences are stored ragged (flat ids + offsets) so they can be padded per batch: *at the
front*, so that the last recurrent state comes right after the last real word (padding at the
end leaves an unmasked LSTM reading hundreds of zeros after the review, and it forgets the
review: ~50% accuracy on IMDB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmcli.backend.tf import tensorflow

PAD, OOV = "", "[UNK]"
OOV_ID = 1
# Everything TextVectorization's default strips, plus the <br /> tags IMDB reviews are full of.
_BR = r"<br\s*/?>"
_PUNCT = r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~]"
# Apostrophes are dropped, not turned into spaces: "didn't" stays one word ("didnt"), as with
# TextVectorization's default, instead of "didn" + a "t" that carries no negation.
_APOSTROPHE = r"'"


def standardize(texts: Any) -> Any:
    """The TF ops behind our standardisation (lower case, no <br />, no punctuation)."""
    tf = tensorflow()
    texts = tf.strings.lower(texts)
    texts = tf.strings.regex_replace(texts, _BR, " ")
    texts = tf.strings.regex_replace(texts, _APOSTROPHE, "")
    return tf.strings.regex_replace(texts, _PUNCT, " ")


@dataclass
class Encoded:
    """Ragged token ids: text ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray  # int32, flat
    offsets: np.ndarray  # int64, len n + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def nonempty(self) -> Encoded:
        """The same rows, a row with no tokens read as one unknown word (see ``pad_batch``)."""
        if self.lengths.all():
            return self
        empty = np.array([OOV_ID], np.int32)
        return Encoded.from_rows([self.row(i) if n else empty for i, n in enumerate(self.lengths)])

    def take(self, index: np.ndarray) -> Encoded:
        return Encoded.from_rows([self.row(int(i)) for i in index])

    @staticmethod
    def from_rows(rows: Sequence[np.ndarray]) -> Encoded:
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.concatenate(rows).astype(np.int32) if len(rows) else np.zeros(0, np.int32)
        return Encoded(ids, offsets)


def adapt_vocabulary(texts: Sequence[str], vocab_size: int, batch: int = 1024) -> list[str]:
    """Learn the ``vocab_size`` most frequent tokens (index 0 = padding, 1 = unknown)."""
    tf = tensorflow()
    from lstmcli.backend.tf import keras, untuned

    layer = keras().layers.TextVectorization(max_tokens=vocab_size, standardize=standardize)
    layer.adapt(untuned(tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch)))
    return [str(t) for t in layer.get_vocabulary()]


def encode(
    texts: Sequence[str], vocabulary: list[str], seq_len: int, batch: int = 2048,
    truncate: str = "pre", head_tokens: int = 0,
) -> Encoded:  # fmt: skip
    """Token ids of each text, cut to ``seq_len`` tokens (``kept``); unknown words → 1."""
    tf = tensorflow()
    from lstmcli.backend.tf import keras

    layer = keras().layers.TextVectorization(
        standardize=standardize, vocabulary=vocabulary[2:], ragged=True
    )
    chunks_ids, lengths = [], []
    for start in range(0, len(texts), batch):
        ragged = layer(tf.constant(list(texts[start : start + batch]), dtype=tf.string))
        if truncate == "pre":  # the common case, in TensorFlow
            ragged = ragged[:, -seq_len:]
        flat, lens = ragged.flat_values.numpy().astype(np.int32), ragged.row_lengths().numpy()
        if truncate != "pre":
            flat, lens = _cut(flat, lens.astype(np.int64), seq_len, truncate, head_tokens)
        chunks_ids.append(flat)
        lengths.append(lens)
    if not chunks_ids:
        return Encoded(np.zeros(0, np.int32), np.zeros(1, np.int64))
    lens = np.concatenate(lengths).astype(np.int64)
    return Encoded(np.concatenate(chunks_ids), np.concatenate([[0], np.cumsum(lens)]))


def kept(n: int, seq_len: int, truncate: str = "pre", head_tokens: int = 0) -> np.ndarray:
    """Which of a text's ``n`` token positions are kept (their indices, in order).

    >>> kept(10, 4, "head+tail", 1).tolist()
    [0, 7, 8, 9]
    """
    pos = np.arange(n)
    return pos[_keep(pos, np.full(n, n), seq_len, truncate, head_tokens)]


def _keep(pos: np.ndarray, n: np.ndarray, t: int, truncate: str, k: int) -> np.ndarray:
    """Per token: its position in its text, the text's length → kept or not."""
    if truncate == "pre":
        return pos >= n - t
    if truncate == "post":
        return pos < t
    return (n <= t) | (pos < k) | (pos >= n - (t - k))  # head+tail


def _cut(
    flat: np.ndarray, lens: np.ndarray, t: int, truncate: str, k: int
) -> tuple[np.ndarray, np.ndarray]:
    starts = np.repeat(np.cumsum(lens) - lens, lens)
    n = np.repeat(lens, lens)
    keep = _keep(np.arange(len(flat)) - starts, n, t, truncate, k)
    return flat[keep], np.minimum(lens, t)


def pad_front(rows: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Stack ``rows`` into (n, length) int32, zeros in front (longer rows keep their end)."""
    out = np.zeros((len(rows), length), dtype=np.int32)
    for i, r in enumerate(rows):
        r = r[len(r) - length :] if len(r) > length else r
        if len(r):
            out[i, length - len(r) :] = r
    return out


def pad_end(rows: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Stack ``rows`` into (n, length) int32, zeros after each row (longer rows keep their end).

    >>> pad_end([np.array([5, 6]), np.array([7])], 3).tolist()
    [[5, 6, 0], [7, 0, 0]]
    """
    out = np.zeros((len(rows), length), dtype=np.int32)
    for i, r in enumerate(rows):
        r = r[len(r) - length :] if len(r) > length else r
        out[i, : len(r)] = r
    return out


def pad_batch(enc: Encoded, index: np.ndarray, length: int, layout: str = "front") -> np.ndarray:
    """Rows ``index`` of ``enc`` padded to ``length`` at the front or, ``layout="end"``, after.

    A row with no tokens (a text of punctuation only) is read as one unknown word: with a
    mask, an all-padding row is what cuDNN refuses, and the rule holds in both layouts so
    that they predict the same.
    """
    rows = [enc.row(int(i)) for i in index]
    rows = [r if len(r) else np.array([OOV_ID], np.int32) for r in rows]
    return (pad_end if layout == "end" else pad_front)(rows, length)
