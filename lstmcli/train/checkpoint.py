"""Training checkpoints for ``--resume``: weights, optimizer state and the position in the data.

A checkpoint is two files in ``RUN/checkpoints/``: ``ckpt-EEE-BBBBBB.npz`` (model weights and
optimizer variables, ``allow_pickle=False``) and ``state.json`` naming it. Both are written
atomically and ``state.json`` last, so a kill at any moment leaves the previous complete
checkpoint in place.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import atomic
from lstmcli.core.errors import DataError

STATE_FILE = "state.json"


@dataclass
class TrainState:
    epoch: int = 0  # the epoch in progress (0-based)
    batch: int = 0  # batches of that epoch already trained
    history: list[dict[str, Any]] = field(default_factory=list)
    best_val_accuracy: float | None = None
    best_val_loss: float | None = None
    best_epoch: int | None = None
    wait: int = 0  # epochs without improvement, for --patience
    train_seconds: float = 0.0
    samples_trained: int = 0
    weights_file: str = ""
    done: bool = False


def save(folder: Path, model: Any, state: TrainState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"ckpt-{state.epoch:03d}-{state.batch:06d}.npz"
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    opt = getattr(model, "optimizer", None)
    if opt is not None and opt.built:
        arrays |= {f"o{i}": np.asarray(v.numpy()) for i, v in enumerate(opt.variables)}
    with atomic.atomic_path(folder / name, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    state.weights_file = name
    atomic.write_json(folder / STATE_FILE, asdict(state))
    for old in folder.glob("ckpt-*.npz"):
        if old.name != name:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


def load_state(folder: Path) -> TrainState | None:
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return TrainState(**data)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise DataError(f"checkpoint {path} is corrupt ({exc}); start a new run") from None


def restore(folder: Path, model: Any, state: TrainState) -> None:
    """Put the checkpointed weights and optimizer variables back into a compiled model."""
    if not re.fullmatch(r"ckpt-\d{3,}-\d{6,}\.npz", state.weights_file):
        raise DataError(
            f"checkpoint {folder / STATE_FILE} names an unexpected file; start a new run"
        )
    path = folder / state.weights_file
    try:
        with np.load(path, allow_pickle=False) as z:
            weights = [z[f"w{i}"] for i in range(sum(k.startswith("w") for k in z.files))]
            opt_vars = [z[f"o{i}"] for i in range(sum(k.startswith("o") for k in z.files))]
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise DataError(f"checkpoint {path} is unreadable ({exc}); start a new run") from None
    model.set_weights(weights)
    if opt_vars:
        opt = model.optimizer
        if not opt.built:
            opt.build(model.trainable_variables)
        if len(opt.variables) != len(opt_vars):
            raise DataError(f"checkpoint {path} does not match this optimizer; start a new run")
        for var, value in zip(opt.variables, opt_vars, strict=True):
            var.assign(value)
