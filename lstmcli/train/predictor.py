"""Fast batched prediction over ragged token ids: length buckets, big batches, XLA."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmcli.core.threads import usable_cores
from lstmcli.data.batching import bucket_lengths, plan_batches
from lstmcli.data.textpipe import Encoded, pad_batch


@dataclass
class Speed:
    """The settings that make evaluation fast (each a flag)."""

    bucketing: bool = True
    xla: bool = False  # measured: XLA barely speeds up the forward pass, and compiles per shape
    eval_batch_size: int = 512
    # Batches run in parallel threads (TensorFlow releases the GIL): one LSTM step is a
    # small product that cannot keep two cores busy. 25,000 IMDB reviews on 2 cores:
    # 5,342 reviews/s with one thread, 6,623 with two, 7,733 with two and one intra-op
    # thread each (what `evaluate` and `predict` set up, see ``eval_threads``).
    workers: int = field(default_factory=lambda: eval_workers())


def eval_workers() -> int:
    return max(1, min(4, usable_cores()))


def eval_threads() -> None:
    """Before TensorFlow starts, in a process that only predicts: split the cores between
    the parallel batches instead of letting each batch spread over all of them. A user's
    own TF_NUM_INTRAOP_THREADS wins."""
    import sys

    if "tensorflow" in sys.modules:  # too late to matter (and tests run in one process)
        return
    cores = usable_cores()
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, cores // eval_workers())))


def forward_fn(model: Any, xla: bool = False) -> Any:
    """The model's inference pass as one traced graph. Batches are always int32 token ids
    (``pad_batch``); a signature with unknown batch and length traces it exactly once, even
    when parallel threads make the first calls with different bucket lengths."""
    from lstmcli.backend.tf import tensorflow

    tf = tensorflow()
    signature = [tf.TensorSpec((None, None), tf.int32)]
    return tf.function(
        lambda x: model(x, training=False), jit_compile=xla, input_signature=signature
    )


def inference_graph(model: Any, spec: Any) -> Any:
    """``model`` (a run's layer-by-layer model) as the graph that predicts fastest on this
    device: ``backend.fused.inference_model``, the same weights."""
    from lstmcli.backend.device import gpu_in_use
    from lstmcli.backend.fused import inference_model

    return inference_model(model, spec, gpu_in_use())


def eval_lengths(enc: Encoded, seq_len: int, speed: Speed) -> list[int]:
    """The padded lengths inference uses. With XLA, a few fixed buckets (one compiled program
    each); without, every batch is padded to exactly its longest text: texts are sorted by
    length, so that is the least padding there is, and a traced (not compiled) graph costs
    nothing per new length."""
    if not speed.bucketing:
        return [seq_len]
    if speed.xla:
        return bucket_lengths(seq_len)
    exact = np.unique(np.clip(enc.lengths, 1, seq_len))
    return sorted({int(n) for n in exact} | {seq_len})


def predict_encoded(
    model: Any, enc: Encoded, seq_len: int, speed: Speed, forward: Any = None
) -> tuple[np.ndarray, float]:
    """Probabilities for every row of ``enc`` in input order, and the seconds it took.

    A damaged entry of the XLA program cache is deleted (with a warning) and the pass run
    again; a cache that cannot be written costs XLA (with a warning), not the prediction.
    Masked input on a GPU is padded after the text (cuDNN's layout), else in front; the
    probabilities are the same either way."""
    import dataclasses
    import warnings

    from lstmcli.backend import xlacache
    from lstmcli.core.errors import LstmcliWarning

    for _ in range(16):
        try:
            return _predict(model, enc, seq_len, speed, forward)
        except Exception as exc:
            reason = xlacache.unwritable(exc) if speed.xla else None
            if reason:
                message = f"XLA program cache {xlacache.cache_dir()} cannot be written ({reason}); predicting without XLA"
                warnings.warn(message, LstmcliWarning, stacklevel=2)
                speed, forward = dataclasses.replace(speed, xla=False), None
            elif not xlacache.drop_damaged(exc):
                raise
    return _predict(model, enc, seq_len, speed, forward)


def _predict(
    model: Any, enc: Encoded, seq_len: int, speed: Speed, forward: Any = None
) -> tuple[np.ndarray, float]:
    from lstmcli.backend.device import gpu_in_use, layout

    masked = any(getattr(layer, "mask_zero", False) for layer in model.layers)
    gpu = gpu_in_use()
    where = layout(masked, gpu)
    plan = plan_batches(enc.lengths, speed.eval_batch_size, eval_lengths(enc, seq_len, speed))
    fixed = model.inputs[0].shape[1]
    # XLA cannot compile cuDNN's kernels: on a GPU, --xla applies to SimpleRNN models only.
    forward = forward or forward_fn(model, speed.xla and not (gpu and _cudnn(model)))

    def run(batch: Any) -> tuple[Any, np.ndarray]:
        length = batch.length if fixed is None else int(fixed)
        return batch, np.asarray(forward(pad_batch(enc, batch.index, length, where)))

    out: np.ndarray | None = None
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, speed.workers)) as pool:
        for batch, probs in pool.map(run, plan):
            if out is None:
                out = np.zeros((len(enc), *probs.shape[1:]), dtype=np.float32)
            out[batch.index] = probs
    seconds = time.perf_counter() - start
    if out is None:
        out = np.zeros((0, int(model.outputs[0].shape[-1])), dtype=np.float32)
    return out, seconds


def _cudnn(model: Any) -> bool:
    """Whether Keras would run a recurrent layer of ``model`` with cuDNN on a GPU."""
    layers = [getattr(x, "forward_layer", x) for x in model.layers]
    return any(type(x).__name__ in ("LSTM", "GRU") and not x.recurrent_dropout for x in layers)
