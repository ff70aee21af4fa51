"""Each epoch's batches: a seeded plan of rows and padded lengths, fed through ``tf.data``."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmcli.data.batching import bucket_lengths, plan_batches, sortish_batches
from lstmcli.data.textpipe import pad_batch
from lstmcli.data.vcache import VectorSplit
from lstmcli.model.spec import ModelSpec
from lstmcli.train.config import TrainConfig


def epoch_plan(split: VectorSplit, cfg: TrainConfig, seq_len: int, epoch: int) -> list[Any]:
    """This epoch's batches, the same for the same seed and epoch (``--resume`` relies on it)."""
    rng = np.random.default_rng([cfg.seed, epoch])
    buckets = bucket_lengths(seq_len)
    if cfg.batching == "sortish":
        return sortish_batches(split.enc.lengths, cfg.batch_size, buckets, rng)
    if cfg.batching == "random":
        # One padded length for every batch: the smallest bucket that holds the longest text
        # (500 on IMDB, 64 on short texts), so short-text data is not padded to --seq-len.
        longest = int(split.enc.lengths.max(initial=1))
        buckets = [next(b for b in buckets if b >= min(longest, seq_len))]
    return plan_batches(split.enc.lengths, cfg.batch_size, buckets, rng)


def targets(labels: np.ndarray, spec: ModelSpec) -> np.ndarray:
    return labels.astype("float32")[:, None] if spec.classes == 1 else labels.astype("int64")


def make_dataset(split: VectorSplit, spec: ModelSpec, plans: Any) -> Any:
    """A tf.data pipeline whose generator asks ``plans()`` for this epoch's batches."""
    from lstmcli.backend.tf import tensorflow

    tf = tensorflow()
    y_all = targets(split.labels, spec)

    def gen() -> Any:
        for b in plans():
            yield pad_batch(split.enc, b.index, b.length), y_all[b.index]

    y_shape = (None, 1) if spec.classes == 1 else (None,)
    sig = (
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec(y_shape, tf.float32 if spec.classes == 1 else tf.int64),
    )
    # prefetch: padding the next batches in NumPy overlaps with the step running in C++.
    return tf.data.Dataset.from_generator(gen, output_signature=sig).prefetch(4)
