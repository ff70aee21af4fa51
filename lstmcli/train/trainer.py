"""Training: ``model.fit`` over each epoch's seeded batch plan, with checkpoints and resume.

``train`` returns a ``TrainResult``; what happens along the way reaches the caller through
a ``TrainEvents`` object (the CLI draws Rich progress bars from it). Nothing here prints.

``fit`` is told how many batches an epoch has. Left to find out, it runs one more step at
each epoch's end, which meets the end of the data: that step fails, but not before it has
advanced the optimizer's step count and the dropout generators, which a resumed run could
not repeat. A resumed part-epoch therefore gets a ``fit`` of its own (with the batches it
has left), and an epoch whose batches were all trained before the interruption is closed
(validation, best model, patience) without one.

Each ``fit`` gets a ``tf.data`` pipeline of exactly the batches it trains, built from the
seeded plans (``batches.plan_tensors``): the plan stays the one source of batch order, and
``tf.distribute`` can split each batch over replicas and workers (``cluster``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import signals
from lstmcli.core.errors import DataError
from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.batches import epoch_plan, make_dataset, plan_tensors
from lstmcli.train.config import Interrupted, TrainConfig, TrainEvents
from lstmcli.train.loop import TrainCallback
from lstmcli.train.optim import make_optimizer

MAX_CACHE_REPAIRS = 16
FIT_EPOCHS = 32  # the plans of at most this many epochs are held as tensors at once


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
    resume: ckpt.Checkpoint | None = None,
    callbacks: Sequence[Any] = (),
    run_id: str = "",
    cluster: Any = None,
) -> TrainResult:
    """Train from scratch, or from the checkpoint ``resume``; ``callbacks``: more Keras
    callbacks for every ``fit`` (TensorBoard), called after the one that validates, so they
    see ``val_loss`` and ``val_accuracy``; ``run_id``: the run's id, which its models carry;
    ``cluster`` (``distribute.Cluster``, default: this one device): the strategy scope the
    model is built in, the batch layout and whether XLA may compile the step."""
    from lstmcli.train.distribute import Cluster

    events = events or TrainEvents()
    cluster = cluster or Cluster.single()
    model, infer = _build(vec, spec, cfg, embedding_init, cluster)
    state = resume.state if resume is not None else ckpt.TrainState(run_id=run_id)
    # Multi-worker: every worker goes on from the chief's position (only it has checkpoints).
    state, restored = cluster.agree_state(state, resume is not None)
    if restored:
        with cluster.scope():  # on every worker alike: creating variables is collective there
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            if resume is not None:
                ckpt.restore(model, resume)
        cluster.share_weights(model)
    with signals.deferred() as stop:
        cb = TrainCallback(vec, spec, cfg, run_dir, state, events, stop, infer)
        cb.set_model(model)
        if restored:
            cb.saved_at = (state.epoch, state.batch)
        try:
            _fit_all(model, cb, list(callbacks), cluster.layout(spec))
        except KeyboardInterrupt as exc:  # a second signal: the state may be half-updated
            raise _forced(cb, exc) from None
        finally:
            events.train_end()
        if not state.done:
            state.done = True
            cb.save_checkpoint(force=True)
    if stop.signum is not None:  # it came after the last complete state was looked at
        raise Interrupted(state, stop.signum)
    return TrainResult(state, model)


def _build(
    vec: Vectorized, spec: ModelSpec, cfg: TrainConfig, init: np.ndarray | None, cluster: Any
) -> tuple[Any, Any]:
    """The compiled model, its variables created in the cluster's strategy scope: the
    layer-by-layer model, or on a CPU the same weights in ``backend.fused``'s faster graph;
    and the graph validation predicts with (``fused.inference_model``, same weights)."""
    from lstmcli.backend.build import build_model
    from lstmcli.backend.fused import inference_model, training_model

    steps = len(epoch_plan(vec.train, cfg, spec.seq_len, 0))
    with cluster.scope():
        model = build_model(spec, variable_length=True, seed=cfg.seed)
        if init is not None:
            model.get_layer("embedding").set_weights([init])
        # On a CPU, stacks and pooling train as one loop over the same variables (in the
        # same order, so checkpoints and saved models do not change); a GPU keeps cuDNN.
        infer = inference_model(model, spec, cluster.gpu) if cfg.fused else model
        if cfg.fused and not cluster.gpu:
            model = training_model(model, spec) or model
        cfg = dataclasses.replace(cfg, xla=cluster.xla(spec, cfg.xla))
        compile_model(model, spec, cfg, steps)
        _split(model, spec, cfg, cluster)
    return model, infer


def _split(model: Any, spec: ModelSpec, cfg: TrainConfig, cluster: Any) -> None:
    """Keras's compiled step swapped for ``backend.split_step``'s where it equals it (one CPU
    device, XLA, no dropout: each part would draw the same masks) and is faster (two cores or
    more: in one part it is slower than Keras's for a Bi-LSTM, ``bench/split_step.py``)."""
    from lstmcli.backend import split_step
    from lstmcli.core.threads import usable_cores

    dropout = spec.dropout or spec.recurrent_dropout or spec.embedding_dropout
    one_cpu = cluster.kind == "one" and not cluster.gpu
    if not (cfg.split_step and cfg.xla and one_cpu) or dropout:
        return
    parts = split_step.parts_for(usable_cores())
    if parts > 1:
        split_step.install(model, spec.classes, parts)


def _batches(cb: TrainCallback, last: int, layout: str) -> Any:
    """The tf.data batches from the state's position to the end of epoch ``last - 1``."""
    st = cb.state
    index, lengths = plan_tensors(
        cb.vec.train, cb.cfg, cb.spec.seq_len, range(st.epoch, last), st.batch
    )
    return make_dataset(cb.vec.train, cb.spec, index, lengths, layout)


def _fit_all(model: Any, cb: TrainCallback, more: list[Any], layout: str) -> None:
    from lstmcli.backend import xlacache

    st, epochs = cb.state, cb.cfg.epochs
    repairs = 0
    xlacache.align_trace_names()  # the same step gets the same cached program in every run
    while st.epoch < epochs and not st.done:
        # Every epoch has as many batches (the count does not depend on the shuffle).
        steps = len(cb.plan(st.epoch)) - st.batch
        if steps <= 0:  # trained, but stopped before it was closed
            cb.close_epoch(st.epoch)
            continue
        # A part-epoch alone; whole epochs together, at most FIT_EPOCHS of them per dataset.
        last = st.epoch + 1 if st.batch else min(epochs, st.epoch + FIT_EPOCHS)
        try:
            model.fit(_batches(cb, last, layout), shuffle=False, epochs=last, initial_epoch=st.epoch,
                      steps_per_epoch=steps, callbacks=[cb, *more], verbose=0)  # fmt: skip
        except Exception as exc:
            # A damaged XLA program in the cache fails the step that would run it, before
            # it runs: the state is still complete, so go on from it once the entry is gone.
            repairs += 1
            reason = xlacache.unwritable(exc)
            if reason:
                raise DataError(
                    f"cannot write the XLA program cache {xlacache.cache_dir()} ({reason}); "
                    "free some space (or set LSTMCLI_XLA_CACHE=0) and run again"
                ) from None
            if repairs > MAX_CACHE_REPAIRS or not xlacache.drop_damaged(exc):
                raise
        if model.stop_training:  # patience (st.done) or another callback stopped it
            break


def _forced(cb: TrainCallback, exc: KeyboardInterrupt) -> BaseException:
    signum = getattr(exc, "signum", signals.STOP_SIGNALS[0])
    if cb.saved_at is None:
        return exc
    epoch, batch = cb.saved_at
    return Interrupted(dataclasses.replace(cb.state, epoch=epoch, batch=batch), signum, forced=True)
