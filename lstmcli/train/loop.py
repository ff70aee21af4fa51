"""The Keras callback that drives a training run: batch plans, progress, checkpoints,
best-model saving and patience (kept here, not in EarlyStopping, so it survives --resume).

The position (epoch, batch) lives in ``TrainState``; each epoch's batches come from a plan
seeded by (seed, epoch), so any position can be resumed: the generator starts the plans at
``state.batch``. An epoch's logged loss and accuracy are running means over all its
samples; a resumed epoch combines the means saved at the checkpoint with Keras's own over
the batches trained since. Stop signals are looked at only at complete states (see
``core.signals.deferred``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lstmcli.backend.tf import keras
from lstmcli.core import atomic
from lstmcli.core.signals import StopRequest
from lstmcli.data.batching import Batch
from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.check import model_name
from lstmcli.rundir.folder import RunFiles
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.batches import epoch_plan
from lstmcli.train.config import Interrupted, TrainConfig, TrainEvents

HISTORY_COLUMNS = [
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
    "samples_per_s",
]
MEANS = ("loss", "accuracy")


def _base() -> type:
    return keras().callbacks.Callback


class TrainCallback(_base()):  # type: ignore[misc]
    def __init__(
        self, vec: Vectorized, spec: ModelSpec, cfg: TrainConfig, run_dir: Path,
        state: ckpt.TrainState, events: TrainEvents, stop: StopRequest | None = None,
        infer: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.vec, self.spec, self.cfg, self.files = vec, spec, cfg, RunFiles(run_dir)
        self.state, self.events, self.stop = state, events, stop or StopRequest()
        self.plans: dict[int, list[Batch]] = {}
        self.t0 = time.perf_counter()
        self.start = self.state.batch, self.state.epoch_samples, dict(self.state.epoch_means)
        self.saved_at: tuple[int, int] | None = None
        self.forward: Any = None
        self.infer = infer  # the graph validation predicts with (default: the trained one)

    # -- data ------------------------------------------------------------------------
    def plan(self, epoch: int) -> list[Batch]:
        if epoch not in self.plans:
            self.plans = {epoch: epoch_plan(self.vec.train, self.cfg, self.spec.seq_len, epoch)}
        return self.plans[epoch]

    # -- Keras hooks -------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        st = self.state
        if st.epoch != epoch:  # pragma: no cover - fit starts where the state says
            raise RuntimeError(f"fit started epoch {epoch}, the state is at {st.epoch}")
        # What this epoch had already trained before this fit (a resumed part-epoch).
        self.start = st.batch, st.epoch_samples, dict(st.epoch_means)
        self.events.epoch_begin(epoch, self.cfg.epochs, len(self.plan(epoch)), st.batch)
        self.t0 = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        st = self.state
        st.epoch_samples += len(self.plan(st.epoch)[st.batch].index)
        st.batch += 1
        st.epoch_means = self.combined(logs)
        self.events.batch_end(st.batch, dict(st.epoch_means))
        if self.cfg.checkpoint_every and st.batch % self.cfg.checkpoint_every == 0:
            self.save_checkpoint()
        self.stop_if_asked()

    def combined(self, logs: Any) -> dict[str, float]:
        """Running means over the whole epoch: those saved before this fit, and Keras's
        (over the samples trained since) weighted by their sample counts."""
        _, before, means = self.start
        since = self.state.epoch_samples - before
        new = {key: float((logs or {}).get(key, float("nan"))) for key in MEANS}
        if not before or not since:
            return new if since else {key: means.get(key, float("nan")) for key in MEANS}
        total = before + since
        return {key: (means.get(key, float("nan")) * before + new[key] * since) / total
                for key in MEANS}  # fmt: skip

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.close_epoch(epoch, logs)

    def close_epoch(self, epoch: int, logs: Any = None) -> None:
        """Validation, history, best model, patience, checkpoint: the epoch's end."""
        st = self.state
        seconds = st.epoch_seconds + time.perf_counter() - self.t0
        means = self.combined(logs) if logs else dict(st.epoch_means)
        val = self.validate()
        if logs is not None:  # the callbacks after this one (TensorBoard) see them too
            logs.update(means | val)
        samples = st.epoch_samples
        row = {
            "epoch": epoch + 1,
            "loss": float(means.get("loss", float("nan"))),
            "accuracy": float(means.get("accuracy", float("nan"))),
            "val_loss": float(val["val_loss"]),
            "val_accuracy": float(val["val_accuracy"]),
            "seconds": round(seconds, 3),
            "samples_per_s": round(samples / seconds, 1) if seconds > 0 else None,
        }
        st.history.append(row)
        st.train_seconds += seconds
        st.samples_trained += samples
        if self.improved(row):
            st.best_val_accuracy, st.best_val_loss = row["val_accuracy"], row["val_loss"]
            st.best_epoch, st.wait = epoch + 1, 0
            self.save_best()
        else:
            st.wait += 1
            if self.cfg.patience is not None and st.wait >= self.cfg.patience:
                st.done = True  # stopped early: a resume has nothing left to do
                if self.model is not None:
                    self.model.stop_training = True
        self.write_history()
        st.epoch, st.batch, st.epoch_samples, st.epoch_means, st.epoch_seconds = (
            epoch + 1, 0, 0, {}, 0.0,
        )  # fmt: skip
        self.start = 0, 0, {}
        self.save_checkpoint()
        self.events.epoch_end(row)
        self.stop_if_asked()

    def improved(self, row: dict[str, Any]) -> bool:
        st = self.state
        return (
            st.best_val_accuracy is None
            or row["val_accuracy"] > st.best_val_accuracy
            or (
                row["val_accuracy"] == st.best_val_accuracy
                and row["val_loss"] < (st.best_val_loss or 0)
            )
        )

    def validate(self) -> dict[str, float]:
        """Validation with the fast inference path (one traced graph, big bucketed batches)
        rather than Keras's own, which would compile a separate XLA program per shape."""
        from lstmcli.core import metrics
        from lstmcli.train.predictor import Speed, forward_fn, predict_encoded

        model = self.infer if self.infer is not None else self.model
        if self.forward is None:
            self.forward = forward_fn(model)
        speed = Speed(True, False, self.cfg.eval_batch_size)
        probs, _ = predict_encoded(model, self.vec.val.enc, self.spec.seq_len, speed, self.forward)
        m = metrics.compute(probs, self.vec.val.labels, self.vec.label_names)
        return {"val_loss": m.loss, "val_accuracy": m.accuracy}

    def stop_if_asked(self) -> None:
        """At a complete state: if a stop signal came, checkpoint here and stop."""
        signum = self.stop.signum
        if signum is None:
            return
        self.save_checkpoint()
        raise Interrupted(self.state, signum)

    # -- files -------------------------------------------------------------------------
    def save_checkpoint(self, force: bool = False) -> None:
        st = self.state
        if self.saved_at == (st.epoch, st.batch) and not force:
            return
        if st.batch:  # the time this part-epoch has taken so far travels with it
            st.epoch_seconds += time.perf_counter() - self.t0
            self.t0 = time.perf_counter()
        ckpt.save(self.files.checkpoints, self.model, st)
        self.saved_at = (st.epoch, st.batch)
        self.events.checkpoint(st)

    def save_best(self) -> None:
        """Save a clean copy (no optimizer, no compile config) of the current weights."""
        from lstmcli.backend.build import build_model
        from lstmcli.backend.modelfile import save_model

        clean = build_model(self.spec, variable_length=True, name=model_name(self.state.run_id))
        clean.set_weights(self.model.get_weights())
        save_model(clean, self.files.model)

    def write_history(self) -> None:
        lines = [",".join(HISTORY_COLUMNS)]
        for row in self.state.history:
            lines.append(
                ",".join("" if row.get(c) is None else str(row.get(c)) for c in HISTORY_COLUMNS)
            )
        atomic.write_text(self.files.history, "\n".join(lines) + "\n")
