"""Training: one ``model.fit`` over length-bucketed batches, with checkpoints and resume.

``train`` returns a ``TrainResult``; what happens along the way reaches the caller through
a ``TrainEvents`` object (the CLI draws Rich progress bars from it). Nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import RunFiles
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.batches import epoch_plan, fit_epochs
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
    cluster: Any = None,
) -> TrainResult:
    """Fit ``spec`` on ``vec``; ``callbacks`` are more Keras callbacks (TensorBoard), called
    after the one that validates, so they see ``val_loss`` and ``val_accuracy``. ``cluster``
    (``distribute.Cluster``, default: this one device) gives the strategy scope the model is
    built in, the batch layout and whether XLA may compile the step."""
    from lstmcli.backend.build import build_model
    from lstmcli.train.distribute import Cluster

    events = events or TrainEvents()
    cluster = cluster or Cluster.single()
    steps = len(epoch_plan(vec.train, cfg, spec.seq_len, 0))
    with cluster.scope():
        model = build_model(spec, variable_length=True, seed=cfg.seed)
        if embedding_init is not None:
            model.get_layer("embedding").set_weights([embedding_init])
        compile_model(model, spec, dataclasses.replace(cfg, xla=cluster.xla(spec, cfg.xla)), steps)
    # Multi-worker: every worker goes on from the chief's position (only it has checkpoints).
    state, restore = cluster.agree_state(resume or ckpt.TrainState(), resume is not None)
    if restore:
        with cluster.scope():  # on every worker alike: creating variables is collective there
            model.optimizer.build(model.trainable_variables)
            if resume is not None:
                ckpt.restore(RunFiles(run_dir).checkpoints, model, resume)
        cluster.share_weights(model)
    cb = TrainCallback(vec, spec, cfg, run_dir, state, events)
    if state.done or state.epoch >= cfg.epochs:
        return TrainResult(state, model)
    try:
        start = (state.epoch, state.batch)
        fit_epochs(model, vec.train, spec, cfg, start, [cb, *callbacks], cluster.layout(spec))
    except KeyboardInterrupt:
        cb.save_checkpoint()
        raise Interrupted(state) from None
    finally:
        events.train_end()
    state.done = True
    cb.save_checkpoint()
    return TrainResult(state, model)
