"""What pretraining is asked for (``PretrainSettings``) and what it returns (``PretrainResult``),
for both methods: ``embed/pretrain.py``'s TensorFlow skip-gram and gensim's word2vec
(``embed/word2vec.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core.errors import UsageError

# skipgram: embed/pretrain.py's TensorFlow skip-gram; word2vec: gensim's (embed/word2vec.py).
METHODS = ("skipgram", "word2vec")
DEFAULT_LR = {"skipgram": 0.05, "word2vec": 0.025}  # Adam's; SGD's (word2vec's own default)
Progress = Callable[[int, int, dict[str, Any]], None]
MAX_TOKENS_PER_TEXT = 100_000  # no cut at seq_len here: the whole text is context


@dataclass(frozen=True)
class PretrainSettings:
    method: str = "skipgram"
    dim: int = 32
    vocab: int = 10000
    epochs: int = 2
    window: int = 4
    negatives: int = 5
    subsample: float = 1e-4  # t in word2vec's keep probability; 0 keeps every token
    batch_size: int = 4096
    # None: the method's DEFAULT_LR. skipgram: Adam's, decayed linearly to 5% of it over the
    # run; word2vec: SGD's, decayed linearly to ~0.
    learning_rate: float | None = None
    seed: int = 0
    chunk_tokens: int = 400_000  # texts are turned into pairs this many tokens at a time

    def check(self) -> None:
        if self.method not in METHODS:
            raise UsageError(f"--method: {self.method!r} is not one of {', '.join(METHODS)}")
        for name in ("dim", "epochs", "window", "negatives", "batch_size", "chunk_tokens"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')}: must be ≥ 1")
        if self.vocab < 3:
            raise UsageError("--vocab: must be ≥ 3 (index 0 is padding, 1 the unknown word)")
        if not 0 <= self.subsample < 1:
            raise UsageError(f"--subsample: {self.subsample} is not allowed; use 0 ≤ t < 1")
        if not self.lr > 0:
            raise UsageError("--lr: the learning rate must be > 0")

    @property
    def lr(self) -> float:
        return DEFAULT_LR[self.method] if self.learning_rate is None else self.learning_rate


@dataclass
class PretrainResult:
    vocabulary: list[str]  # index 0 = padding "", 1 = "[UNK]", as textpipe makes it
    vectors: np.ndarray  # float32 (len(vocabulary), dim); row 0 is zeros
    counts: np.ndarray  # int64 occurrences of each vocabulary word in the texts
    seconds: float
    pairs: int | None  # (centre, context) pairs trained on, all epochs (word2vec: not counted)
    loss: float | None  # mean loss of the last epoch (word2vec: not reported)
    texts: int
    tokens: int  # tokens in the texts (each epoch subsamples them)
    settings: PretrainSettings
    history: list[dict[str, Any]] = field(default_factory=list)  # one entry per epoch

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def save(self, path: str | Path) -> None:
        """Write a word2vec ``.vec`` file (every word but the padding token)."""
        from lstmcli.embed.vectors import write_vectors

        write_vectors(path, self.vocabulary[1:], self.vectors[1:])
