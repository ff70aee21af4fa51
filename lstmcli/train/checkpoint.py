"""Training checkpoints for ``--resume``: every variable, the optimizer and the position.

A checkpoint is ``RUN/checkpoints/ckpt-EEE-BBBBBB.npz`` (``allow_pickle=False``): all model
variables (weights and the dropout layers' random-generator states), the optimizer's
variables, and the training state as JSON (position, the epoch's running loss and accuracy,
history, best model, patience). ``state.json`` names the newest one and repeats its state.
Both are written atomically and ``state.json`` last; the previous checkpoint is kept too,
so a damaged newest one (a truncated copy, a flipped bit: the zip's CRC catches both) is
reported and skipped for the one before it.

Checkpoints are written only at complete states: after a whole batch (its update, its
count and its running means all taken), or after an epoch was closed (validation, best
model, patience). A resumed run then equals the run that was never interrupted.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import atomic
from lstmcli.core.errors import DataError, LstmcliWarning

STATE_FILE = "state.json"
FORMAT = 2  # 1: lstmcli before resume was exact (weights only, no generator states)
_NAME = re.compile(r"ckpt-(\d{3,})-(\d{6,})\.npz")
_BROKEN = (OSError, KeyError, ValueError, EOFError, TypeError, zipfile.BadZipFile)


@dataclass
class TrainState:
    epoch: int = 0  # the epoch in progress (0-based)
    batch: int = 0  # batches of that epoch already trained
    epoch_samples: int = 0  # samples of that epoch already trained
    epoch_means: dict[str, float] = field(default_factory=dict)  # their running loss, accuracy
    epoch_seconds: float = 0.0  # time spent on that epoch before the last resume
    history: list[dict[str, Any]] = field(default_factory=list)
    best_val_accuracy: float | None = None
    best_val_loss: float | None = None
    best_epoch: int | None = None
    wait: int = 0  # epochs without improvement, for --patience
    train_seconds: float = 0.0
    samples_trained: int = 0
    weights_file: str = ""
    done: bool = False
    format: int = FORMAT
    run_id: str = ""  # the run the checkpoint belongs to (spec.json's run_id)


@dataclass
class Checkpoint:
    path: Path
    state: TrainState
    variables: list[np.ndarray]
    optimizer: list[np.ndarray]


def save(folder: Path, model: Any, state: TrainState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    previous = state.weights_file
    state.weights_file = name = f"ckpt-{state.epoch:03d}-{state.batch:06d}.npz"
    arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    opt = getattr(model, "optimizer", None)
    if opt is not None and opt.built:
        arrays |= {f"o{i}": np.asarray(v.numpy()) for i, v in enumerate(opt.variables)}
    arrays["state"] = np.array(json.dumps(asdict(state)))
    with atomic.atomic_path(folder / name, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    atomic.write_json(folder / STATE_FILE, asdict(state))
    for old in folder.glob("ckpt-*.npz"):
        if old.name not in (name, previous):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


def _read(path: Path) -> Checkpoint:
    with np.load(path, allow_pickle=False) as z:
        if "state" not in z.files:
            raise ValueError("written by an older lstmcli, whose checkpoints cannot resume exactly")
        state = TrainState(**json.loads(str(z["state"])))
        count = {p: sum(k.startswith(p) and k[1:].isdigit() for k in z.files) for p in "vo"}
        variables = [z[f"v{i}"] for i in range(count["v"])]
        optimizer = [z[f"o{i}"] for i in range(count["o"])]
    if state.format != FORMAT or state.weights_file != path.name:
        raise ValueError(f"its state is for {state.weights_file!r}, format {state.format}")
    return Checkpoint(path, state, variables, optimizer)


def _position(path: Path) -> tuple[int, int]:
    m = _NAME.fullmatch(path.name)
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


def load(folder: Path) -> Checkpoint | None:
    """The newest readable checkpoint (None when the run has none). A damaged one is
    reported (a warning naming the file) and the previous one is used instead."""
    state_path = folder / STATE_FILE
    named: str | None = None
    problems: list[str] = []
    if state_path.is_file():
        try:
            named = str(json.loads(state_path.read_text(encoding="utf-8"))["weights_file"])
        except (*_BROKEN, UnicodeDecodeError) as exc:
            problems.append(f"{state_path} is damaged ({type(exc).__name__})")
    files = sorted(folder.glob("ckpt-*.npz"), key=_position, reverse=True)
    if named is not None and _NAME.fullmatch(named):
        files = [folder / named, *(f for f in files if f.name != named)]
    elif named is not None:
        problems.append(f"{state_path} names an unexpected file {named[:80]!r}")
    if not files and not problems:
        return None
    for path in files:
        try:
            found = _read(path)
        except _BROKEN as exc:
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            problems.append(f"checkpoint {path} is damaged or unreadable ({reason})")
            continue
        for problem in problems:
            warnings.warn(f"{problem}; resuming from {path.name} instead", LstmcliWarning, 2)
        return found
    raise DataError(f"--resume: no usable checkpoint: {problems[0]}; start a new run")


def load_state(folder: Path) -> TrainState | None:
    """The newest readable checkpoint's state (None when the run has none)."""
    found = load(folder)
    return found.state if found is not None else None


def restore(model: Any, ck: Checkpoint) -> None:
    """Put the checkpointed variables and optimizer state back into a compiled model."""
    _assign(model.variables, ck.variables, ck.path, "the model")
    if ck.optimizer:
        opt = model.optimizer
        if not opt.built:
            opt.build(model.trainable_variables)
        _assign(opt.variables, ck.optimizer, ck.path, "the optimizer")


def _assign(variables: list[Any], values: list[np.ndarray], path: Path, what: str) -> None:
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [tuple(a.shape) for a in values]:
        raise DataError(
            f"checkpoint {path} does not fit {what} of this run ({len(values)} arrays for "
            f"{len(variables)} variables, or other shapes); the run folder's files do not "
            "belong together: start a new run"
        )
    for var, value in zip(variables, values, strict=True):
        var.assign(value)
