"""Length bucketing: group texts of similar length so each batch is padded only a little.

Reviews average ~216 tokens after cutting at 500, so padding every batch to 500 wastes over
half of the recurrent work. Batches here are padded to one of a few fixed bucket lengths,
so a compiled (XLA) step function is reused for every batch of the same bucket.

>>> plan = plan_batches(np.array([3, 50, 60, 300]), batch_size=2, buckets=[64, 500])
>>> [(list(b.index), b.length) for b in plan]
[([1, 2], 64), ([0, 3], 500)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Padded lengths of training batches (the sortish plans in ``train.batches`` round each batch
# up to one), at most 1.5x apart from 64 on, so no batch pads much beyond its longest text,
# whatever --seq-len is (the last length); each is one compiled XLA program. The lecture's
# T = 500 has the first seven and itself.
DEFAULT_EDGES = (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


@dataclass(frozen=True)
class Batch:
    index: np.ndarray  # rows of the split, in batch order
    length: int  # padded length


def bucket_lengths(seq_len: int, enabled: bool = True) -> list[int]:
    """Fixed bucket lengths up to ``seq_len`` (just ``[seq_len]`` when bucketing is off)."""
    if not enabled:
        return [seq_len]
    return sorted({e for e in DEFAULT_EDGES if e < seq_len} | {seq_len})


def plan_batches(
    lengths: np.ndarray,
    batch_size: int,
    buckets: list[int],
    rng: np.random.Generator | None = None,
) -> list[Batch]:
    """Split rows into batches padded to bucket lengths.

    Rows that do not fill a whole batch in their bucket move up to the next bucket, so only
    the very last batch can be smaller than ``batch_size``. With ``rng`` the rows inside each
    bucket and the order of the batches are shuffled; without, the plan is deterministic.
    """
    lengths = np.asarray(lengths)
    edges = np.asarray(buckets)
    which = np.searchsorted(edges, np.minimum(lengths, edges[-1]), side="left")
    batches: list[Batch] = []
    carry = np.zeros(0, dtype=np.int64)
    for b, length in enumerate(buckets):
        rows = np.flatnonzero(which == b)
        if rng is not None:
            rows = rng.permutation(rows)
        pool = np.concatenate([carry, rows])
        full = len(pool) // batch_size * batch_size
        for start in range(0, full, batch_size):
            batches.append(Batch(pool[start : start + batch_size], int(length)))
        carry = pool[full:]
    if len(carry):
        batches.append(Batch(carry, int(buckets[-1])))
    if rng is not None:
        order = rng.permutation(len(batches))
        batches = [batches[i] for i in order]
    return batches


def padded_steps(plan: list[Batch]) -> int:
    """Timesteps the recurrent layers will run over (rows × padded length), for reports."""
    return int(sum(len(b.index) * b.length for b in plan))


def sortish_batches(
    lengths: np.ndarray,
    batch_size: int,
    buckets: list[int],
    rng: np.random.Generator,
    chunk_batches: int = 50,
) -> list[Batch]:
    """Batches that are both shuffled and short (fastai's ``SortishSampler``).

    Shuffle all rows, cut them into chunks of ``chunk_batches`` batches, sort each chunk by
    length, batch it, and shuffle the batches. Each batch holds texts of similar length, so
    it is padded only to its own longest text (rounded up to a bucket length, so that one
    compiled step serves many batches), while every batch is still a random draw from a
    random chunk of the data rather than from one length bucket.
    """
    lengths = np.asarray(lengths)
    edges = np.asarray(buckets)
    order = rng.permutation(len(lengths))
    chunk = batch_size * chunk_batches
    batches: list[Batch] = []
    for start in range(0, len(order), chunk):
        rows = order[start : start + chunk]
        rows = rows[np.argsort(-lengths[rows], kind="stable")]  # longest first
        for b in range(0, len(rows), batch_size):
            index = rows[b : b + batch_size]
            longest = min(int(lengths[index].max(initial=1)), int(edges[-1]))
            length = int(edges[np.searchsorted(edges, longest, side="left")])
            batches.append(Batch(index, length))
    return [batches[i] for i in rng.permutation(len(batches))]
