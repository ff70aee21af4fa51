"""Training: one ``model.fit`` over length-bucketed batches, with checkpoints and resume.

``train`` returns a ``TrainResult``; what happens along the way reaches the caller through
a ``TrainEvents`` object (the CLI draws Rich progress bars from it). Nothing here prints.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import RunFiles
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.batches import epoch_plan, make_dataset
from lstmcli.train.config import Interrupted, TrainConfig, TrainEvents
from lstmcli.train.loop import TrainCallback
from lstmcli.train.optim import make_optimizer


@dataclass
class TrainResult:
    state: ckpt.TrainState
    model: Any
    notes: list[str] = field(default_factory=list)


def compile_model(
    model: Any, spec: ModelSpec, cfg: TrainConfig, steps_per_epoch: int | None = None
) -> None:
    optimizer = make_optimizer(cfg, steps_per_epoch)  # issue 15: schedule and clipping
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
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Fit ``spec`` on ``vec``; ``callbacks`` are more Keras callbacks (TensorBoard), called
    after the one that validates, so they see ``val_loss`` and ``val_accuracy``."""
    from lstmcli.backend.build import build_model

    events = events or TrainEvents()
    model = build_model(spec, variable_length=True, seed=cfg.seed)
    if embedding_init is not None:
        model.get_layer("embedding").set_weights([embedding_init])
    compile_model(model, spec, cfg, len(epoch_plan(vec.train, cfg, spec.seq_len, 0)))
    state = resume or ckpt.TrainState()
    if resume is not None:
        ckpt.restore(RunFiles(run_dir).checkpoints, model, resume)
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
            callbacks=[cb, *callbacks],
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
