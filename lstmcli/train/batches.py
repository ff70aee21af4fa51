"""Each epoch's batches: a seeded plan of rows and padded lengths, fed through ``tf.data``.

``epoch_plan`` is the one source of batch order. The plans of the epochs still to train are
turned into two tensors (row indices per batch, padded length per batch) and ``tf.data``
gathers and pads the rows itself, so no Python runs per batch and ``tf.distribute`` can
split each batch over replicas and workers.

>>> index, lengths = stack_plans([[Batch(np.array([4, 2]), 64)], [Batch(np.array([7]), 32)]], 2)
>>> index.tolist(), lengths.tolist()
([[4, 2], [7, -1]], [64, 32])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmcli.data.batching import Batch, bucket_lengths, plan_batches, sortish_batches
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


def stack_plans(plans: Sequence[Sequence[Batch]], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Batches of several plans, in order, as (batches, batch_size) row indices (-1 past the
    rows of a short batch) and (batches,) padded lengths."""
    batches = [b for plan in plans for b in plan]
    index = np.full((len(batches), batch_size), -1, dtype=np.int64)
    for i, b in enumerate(batches):
        index[i, : len(b.index)] = b.index
    return index, np.array([b.length for b in batches], dtype=np.int32)


def plan_tensors(
    split: VectorSplit, cfg: TrainConfig, seq_len: int, epochs: Sequence[int], skip: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The batches of ``epochs`` (the first one without its first ``skip`` batches)."""
    plans = [
        epoch_plan(split, cfg, seq_len, e)[skip if k == 0 else 0 :] for k, e in enumerate(epochs)
    ]
    return stack_plans(plans, cfg.batch_size)


def make_dataset(
    split: VectorSplit, spec: ModelSpec, index: np.ndarray, lengths: np.ndarray, layout: str
) -> Any:
    """(token ids, targets) batches: row ``index[i]`` padded to ``lengths[i]`` at the front,
    or after the text with ``layout="end"`` (masked input on a GPU, for cuDNN)."""
    from lstmcli.backend.tf import tensorflow, untuned

    tf = tensorflow()
    enc = split.enc.nonempty()  # no all-padding row: see textpipe.pad_batch
    # Every row fits its batch's padded length: the plan puts a row in a bucket at least as
    # long, and encode() already cut each text to seq_len.
    tokens = tf.RaggedTensor.from_row_splits(tf.constant(enc.ids), tf.constant(enc.offsets))
    y_all = tf.constant(targets(split.labels, spec))
    end = layout == "end"

    def batch(rows: Any, length: Any) -> tuple[Any, Any]:
        rows = tf.boolean_mask(rows, rows >= 0)
        x = tf.gather(tokens, rows)
        shape = tf.stack([x.nrows(), tf.cast(length, tf.int64)])
        if end:
            padded = x.to_tensor(0, shape=shape)
        else:
            # Front padding with ragged ops: reverse every row (and the row order), pad at
            # the end, reverse both axes back.
            flipped = tf.RaggedTensor.from_row_lengths(
                tf.reverse(x.flat_values, [0]), tf.reverse(x.row_lengths(), [0])
            )
            padded = tf.reverse(flipped.to_tensor(0, shape=shape), [0, 1])
        return padded, tf.gather(y_all, rows)

    ds = tf.data.Dataset.from_tensor_slices((index, lengths))
    ds = ds.map(batch, num_parallel_calls=2, deterministic=True)
    options = tf.data.Options()
    # Each worker builds the same batches and keeps its share of every one (the dataset
    # reads no files, so sharding by file cannot apply).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    # Two batch builders and two batches ahead keep the step fed; no autotuning thread
    # (``backend.tf.untuned``: deleting an autotuned iterator could stall the end of ``fit``).
    return untuned(ds.with_options(options)).prefetch(2)
