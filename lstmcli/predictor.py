"""Fast batched prediction over ragged token ids: length buckets, big batches, XLA."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmcli.batching import bucket_lengths, plan_batches
from lstmcli.textpipe import Encoded, pad_batch


@dataclass
class Speed:
    """The settings that make evaluation fast (each a flag)."""

    bucketing: bool = True
    xla: bool = False  # measured: XLA barely speeds up the forward pass, and compiles per shape
    eval_batch_size: int = 512


def forward_fn(model: Any, xla: bool = False) -> Any:
    """The model's inference pass as one traced graph (shapes generalised, so traced once)."""
    from lstmcli.tf import tensorflow

    tf = tensorflow()
    return tf.function(lambda x: model(x, training=False), jit_compile=xla, reduce_retracing=True)


def predict_encoded(
    model: Any, enc: Encoded, seq_len: int, speed: Speed, forward: Any = None
) -> tuple[np.ndarray, float]:
    """Probabilities for every row of ``enc`` in input order, and the seconds it took."""
    plan = plan_batches(
        enc.lengths, speed.eval_batch_size, bucket_lengths(seq_len, speed.bucketing)
    )
    fixed = model.inputs[0].shape[1]
    forward = forward or forward_fn(model, speed.xla)
    out: np.ndarray | None = None
    start = time.perf_counter()
    for batch in plan:
        length = batch.length if fixed is None else int(fixed)
        x = pad_batch(enc, batch.index, length)
        probs = np.asarray(forward(x))
        if out is None:
            out = np.zeros((len(enc), *probs.shape[1:]), dtype=np.float32)
        out[batch.index] = probs
    seconds = time.perf_counter() - start
    if out is None:
        out = np.zeros((0, int(model.outputs[0].shape[-1])), dtype=np.float32)
    return out, seconds
