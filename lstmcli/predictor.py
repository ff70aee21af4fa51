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
    """How the settings that make training and evaluation fast are chosen (each a flag)."""

    bucketing: bool = True
    xla: bool = True
    eval_batch_size: int = 256


def compile_for_inference(model: Any, xla: bool) -> None:
    """Compile a loaded model (no optimizer needed) so predict runs as one XLA program."""
    loss = "binary_crossentropy" if model.outputs[0].shape[-1] == 1 else (
        "sparse_categorical_crossentropy"
    )
    model.compile(loss=loss, jit_compile=xla)


def predict_encoded(model: Any, enc: Encoded, seq_len: int, speed: Speed) -> tuple[np.ndarray, float]:
    """Probabilities for every row of ``enc`` in input order, and the seconds it took."""
    plan = plan_batches(enc.lengths, speed.eval_batch_size, bucket_lengths(seq_len, speed.bucketing))
    fixed = model.inputs[0].shape[1]
    out: np.ndarray | None = None
    start = time.perf_counter()
    for batch in plan:
        length = batch.length if fixed is None else int(fixed)
        x = pad_batch(enc, batch.index, length)
        probs = np.asarray(model.predict_on_batch(x))
        if out is None:
            out = np.zeros((len(enc), *probs.shape[1:]), dtype=np.float32)
        out[batch.index] = probs
    seconds = time.perf_counter() - start
    if out is None:
        out = np.zeros((0, int(model.outputs[0].shape[-1])), dtype=np.float32)
    return out, seconds
