"""Training: one ``model.fit`` over length-bucketed batches, with checkpoints and resume.

``train`` returns a ``TrainResult``; what happens along the way reaches the caller through
a ``TrainEvents`` object (the CLI draws Rich progress bars from it). Nothing here prints.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli import checkpoint as ckpt
from lstmcli.batching import bucket_lengths, plan_batches
from lstmcli.spec import ModelSpec
from lstmcli.textpipe import pad_batch
from lstmcli.vcache import Vectorized, VectorSplit


@dataclass
class TrainConfig:
    epochs: int = 3
    batch_size: int = 32
    optimizer: str = "rmsprop"
    lr: float | None = None
    seed: int = 0
    patience: int | None = None
    checkpoint_every: int = 100  # batches
    # Length-grouped training batches are ~1.65× faster per epoch but, measured on IMDB (lecture
    # LSTM, 3 epochs, seeds 0 and 1), cost 1.7 points of test accuracy: batches of similar
    # lengths give noisier steps. So training batches are random unless asked for;
    # validation and test predictions are always bucketed (exact with the mask).
    bucketing: bool = False
    xla: bool = True
    eval_batch_size: int = 512


class TrainEvents:
    """Hooks the CLI overrides; the defaults do nothing."""

    def epoch_begin(self, epoch: int, epochs: int, batches: int, skip: int) -> None: ...
    def batch_end(self, batch: int, logs: dict[str, float]) -> None: ...
    def epoch_end(self, row: dict[str, Any]) -> None: ...
    def checkpoint(self, state: ckpt.TrainState) -> None: ...
    def train_end(self) -> None: ...


class Interrupted(Exception):
    """Training stopped by Ctrl-C after a checkpoint was written."""

    def __init__(self, state: ckpt.TrainState) -> None:
        super().__init__(f"interrupted in epoch {state.epoch + 1} after {state.batch} batches")
        self.state = state


@dataclass
class TrainResult:
    state: ckpt.TrainState
    model: Any
    notes: list[str] = field(default_factory=list)


def epoch_plan(split: VectorSplit, cfg: TrainConfig, seq_len: int, epoch: int) -> list[Any]:
    rng = np.random.default_rng([cfg.seed, epoch])
    buckets = bucket_lengths(seq_len)
    if not cfg.bucketing:
        # One padded length for every batch: the smallest bucket that holds the longest text
        # (500 on IMDB, 64 on short texts), so short-text data is not padded to --seq-len.
        longest = int(split.enc.lengths.max(initial=1))
        buckets = [next(b for b in buckets if b >= min(longest, seq_len))]
    return plan_batches(split.enc.lengths, cfg.batch_size, buckets, rng)


def targets(labels: np.ndarray, spec: ModelSpec) -> np.ndarray:
    return labels.astype("float32")[:, None] if spec.classes == 1 else labels.astype("int64")


def make_dataset(split: VectorSplit, spec: ModelSpec, plans: Any) -> Any:
    """A tf.data pipeline whose generator asks ``plans()`` for this epoch's batches."""
    from lstmcli.tf import tensorflow

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


def compile_model(model: Any, spec: ModelSpec, cfg: TrainConfig) -> None:
    from lstmcli.tf import keras

    k = keras()
    opt_cls = {"rmsprop": k.optimizers.RMSprop, "adam": k.optimizers.Adam}[cfg.optimizer]
    optimizer = opt_cls() if cfg.lr is None else opt_cls(learning_rate=cfg.lr)
    loss = "binary_crossentropy" if spec.classes == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=cfg.xla)


def train(
    vec: Vectorized,
    spec: ModelSpec,
    cfg: TrainConfig,
    run_dir: Path,
    events: TrainEvents | None = None,
    embedding_init: np.ndarray | None = None,
    resume: ckpt.TrainState | None = None,
) -> TrainResult:
    from lstmcli.kbuild import build_model
    from lstmcli.trainloop import TrainCallback

    events = events or TrainEvents()
    model = build_model(spec, variable_length=True, seed=cfg.seed)
    if embedding_init is not None:
        model.get_layer("embedding").set_weights([embedding_init])
    compile_model(model, spec, cfg)
    state = resume or ckpt.TrainState()
    if resume is not None:
        ckpt.restore(run_dir / "checkpoints", model, resume)
    cb = TrainCallback(vec, spec, cfg, run_dir, state, events)
    train_ds = make_dataset(vec.train, spec, cb.train_batches)
    if state.done or state.epoch >= cfg.epochs:
        return TrainResult(state, model)
    # Keras warns when a generator-fed epoch ends without a known length; that is by design here.
    warnings.filterwarnings("ignore", message=".*ran out of data.*")
    try:
        model.fit(
            train_ds,
            shuffle=False,  # the batch plans are already shuffled, per epoch and seed
            epochs=cfg.epochs,
            initial_epoch=state.epoch,
            callbacks=[cb],
            verbose=0,
        )
    except KeyboardInterrupt:
        cb.save_checkpoint()
        raise Interrupted(state) from None
    finally:
        events.train_end()
    state.done = True
    cb.save_checkpoint()
    return TrainResult(state, model)


def now() -> float:
    return time.perf_counter()
