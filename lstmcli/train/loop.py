"""The Keras callback that drives a training run: batch plans, progress, checkpoints,
best-model saving and patience (kept here, not in EarlyStopping, so it survives --resume)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lstmcli.backend.tf import keras
from lstmcli.core import atomic
from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import RunFiles
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.batches import epoch_plan
from lstmcli.train.config import TrainConfig, TrainEvents

HISTORY_COLUMNS = [
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
    "samples_per_s",
]


def _base() -> type:
    return keras().callbacks.Callback


class TrainCallback(_base()):  # type: ignore[misc]
    def __init__(
        self, vec: Vectorized, spec: ModelSpec, cfg: TrainConfig, run_dir: Path,
        state: ckpt.TrainState, events: TrainEvents,
    ) -> None:  # fmt: skip
        super().__init__()
        self.vec, self.spec, self.cfg, self.files = vec, spec, cfg, RunFiles(run_dir)
        self.state, self.events = state, events
        self.epoch = state.epoch
        self.skip = state.batch
        self.t0 = time.perf_counter()
        self.samples_this_epoch = 0
        self.forward: Any = None

    # -- data ------------------------------------------------------------------------
    def train_batches(self) -> Any:
        plan = epoch_plan(self.vec.train, self.cfg, self.spec.seq_len, self.epoch)
        skip, self.skip = self.skip, 0
        self.state.batch = skip
        return iter(plan[skip:])

    # -- Keras hooks -------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch
        self.state.epoch = epoch
        n = len(epoch_plan(self.vec.train, self.cfg, self.spec.seq_len, epoch))
        self.events.epoch_begin(epoch, self.cfg.epochs, n, self.skip)
        self.t0 = time.perf_counter()
        self.samples_this_epoch = 0

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.state.batch += 1
        self.samples_this_epoch += self.cfg.batch_size
        self.events.batch_end(self.state.batch, dict(logs or {}))
        if self.cfg.checkpoint_every and self.state.batch % self.cfg.checkpoint_every == 0:
            self.save_checkpoint()

    def validate(self) -> dict[str, float]:
        """Validation with the fast inference path (one traced graph, big bucketed batches)
        rather than Keras's own, which would compile a separate XLA program per shape."""
        from lstmcli.core import metrics
        from lstmcli.train.predictor import Speed, forward_fn, predict_encoded

        if self.forward is None:
            self.forward = forward_fn(self.model)
        speed = Speed(True, False, self.cfg.eval_batch_size)
        probs, _ = predict_encoded(
            self.model, self.vec.val.enc, self.spec.seq_len, speed, self.forward
        )
        m = metrics.compute(probs, self.vec.val.labels, self.vec.label_names)
        return {"val_loss": m.loss, "val_accuracy": m.accuracy}

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        seconds = time.perf_counter() - self.t0
        val = self.validate()
        if logs is not None:  # the callbacks after this one (TensorBoard) see them too
            logs.update(val)
        logs = dict(logs or {}) | val
        samples = min(self.samples_this_epoch, len(self.vec.train))
        row = {
            "epoch": epoch + 1,
            "loss": float(logs.get("loss", float("nan"))),
            "accuracy": float(logs.get("accuracy", float("nan"))),
            "val_loss": float(logs.get("val_loss", float("nan"))),
            "val_accuracy": float(logs.get("val_accuracy", float("nan"))),
            "seconds": round(seconds, 3),
            "samples_per_s": round(samples / seconds, 1) if seconds > 0 else None,
        }
        st = self.state
        st.history.append(row)
        st.train_seconds += seconds
        st.samples_trained += samples
        if (
            st.best_val_accuracy is None
            or row["val_accuracy"] > st.best_val_accuracy
            or (
                row["val_accuracy"] == st.best_val_accuracy
                and row["val_loss"] < (st.best_val_loss or 0)
            )
        ):
            st.best_val_accuracy, st.best_val_loss = row["val_accuracy"], row["val_loss"]
            st.best_epoch, st.wait = epoch + 1, 0
            self.save_best()
        else:
            st.wait += 1
            if self.cfg.patience is not None and st.wait >= self.cfg.patience:
                self.model.stop_training = True
        self.write_history()
        st.epoch, st.batch = epoch + 1, 0
        self.save_checkpoint()
        self.events.epoch_end(row)

    # -- files -------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        ckpt.save(self.files.checkpoints, self.model, self.state)
        self.events.checkpoint(self.state)

    def save_best(self) -> None:
        """Save a clean copy (no optimizer, no compile config) of the current weights."""
        from lstmcli.backend.build import build_model
        from lstmcli.backend.modelfile import save_model

        clean = build_model(self.spec, variable_length=True)
        clean.set_weights(self.model.get_weights())
        save_model(clean, self.files.model)

    def write_history(self) -> None:
        lines = [",".join(HISTORY_COLUMNS)]
        for row in self.state.history:
            lines.append(
                ",".join("" if row.get(c) is None else str(row.get(c)) for c in HISTORY_COLUMNS)
            )
        atomic.write_text(self.files.history, "\n".join(lines) + "\n")
