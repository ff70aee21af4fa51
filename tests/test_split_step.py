"""The split training step (backend/split_step.py) against Keras's own compiled step: the
same weights, optimizer state and logged loss after several steps, for the graphs `train`
runs (the lecture LSTM, fused stacks, pooling, Bi-LSTMs, GRU, SimpleRNN, several classes),
batches with padding, a short batch and a batch of one row (an empty part); and `train`
uses it only where it is equal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke, small_spec

from lstmcli.backend import split_step
from lstmcli.backend.build import build_model
from lstmcli.backend.fused import training_model
from lstmcli.model.spec import ModelSpec
from lstmcli.train.config import TrainConfig
from lstmcli.train.trainer import compile_model

SPECS = [
    {},
    {"cell": "gru", "pool": "mean"},
    {"cell": "simplernn", "units": (8, 6)},
    {"units": (8, 6, 5), "pool": "max+mean"},
    {"bidirectional": True},
    {"bidirectional": True, "pool": "max", "classes": 3},
    {"mask_zero": False, "classes": 4},
]


def _batches(classes: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    out = []
    for n in (6, 6, 5, 1):  # a short batch cuts unevenly; one row leaves a part empty
        x = rng.integers(1, 300, (n, 12)).astype("int32")
        x[0, :4] = 0  # padded at the front
        x[:, 10:] = 0 if n == 6 else x[:, 10:]  # and a padded tail in two batches
        y = rng.integers(0, max(2, classes), (n, 1) if classes == 1 else (n,))
        out.append((x, y.astype("float32" if classes == 1 else "int64")))
    return out


def _model(spec: ModelSpec, optimizer: str, **cfg: object) -> object:
    model = build_model(spec, variable_length=True, seed=0)
    model = training_model(model, spec) or model
    config = TrainConfig(optimizer=optimizer, xla=True, **cfg)
    compile_model(model, spec, config, steps_per_epoch=4)
    return model


@pytest.mark.parametrize("kw", SPECS, ids=[",".join(f"{k}={v}" for k, v in s.items()) or "lecture" for s in SPECS])  # fmt: skip
def test_split_step_equals_keras_step(kw: dict) -> None:
    spec = small_spec(kw)
    optimizer = "adam" if spec.classes > 1 else "rmsprop"
    keras_model, split = _model(spec, optimizer), _model(spec, optimizer)
    assert split_step.install(split, spec.classes, parts=2)
    assert not split.jit_compile  # the outer step is traced; its parts are compiled
    for x, y in _batches(spec.classes) * 2:
        want = keras_model.train_on_batch(x, y, return_dict=True)
        got = split.train_on_batch(x, y, return_dict=True)
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5, abs=1e-6)
        assert got["accuracy"] == pytest.approx(want["accuracy"])
    for a, b in zip(keras_model.get_weights(), split.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, atol=1e-5)
    opt_a, opt_b = keras_model.optimizer.variables, split.optimizer.variables
    for a, b in zip(opt_a, opt_b, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-6)
    assert int(split.optimizer.iterations) == int(keras_model.optimizer.iterations) == 8


def test_split_step_follows_the_schedule_and_clipping() -> None:
    """The optimizer's own schedule and clipping act on the summed gradient as on Keras's:
    a cosine over 2 epochs of 4 steps ends at a learning rate of 0 after the 8 steps."""
    spec = small_spec({})
    cfg = {"lr_schedule": "cosine", "epochs": 2, "clipnorm": 0.05}
    keras_model, split = _model(spec, "rmsprop", **cfg), _model(spec, "rmsprop", **cfg)
    assert split_step.install(split, spec.classes, parts=2)
    for x, y in _batches(1) * 2:
        keras_model.train_on_batch(x, y)
        split.train_on_batch(x, y)
    for a, b in zip(keras_model.get_weights(), split.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, atol=1e-5)
    assert float(split.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)


def test_parts_per_core_count() -> None:
    assert [split_step.parts_for(c) for c in (0, 1, 2, 3, 64)] == [1, 1, 2, 2, 2]


def _split_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> bool:
    """Whether `train` swapped Keras's step for the split one."""
    import lstmcli.train.trainer as trainer

    out = tmp_path / "-".join(f.strip("-") for f in flags) if flags else tmp_path / "default"
    args = ["train", "sample", "--epochs", "1", "--units", "8", "--embed-dim", "8", "--vocab",
            "300", "--seq-len", "40", "--limit", "120", "--json", "--output", str(out), *flags]  # fmt: skip
    seen: list[bool] = []
    real = trainer._build

    def spy(*args: object, **kw: object) -> object:
        model, infer = real(*args, **kw)
        seen.append("train_step" in vars(model))
        return model, infer

    with monkeypatch.context() as patch:
        patch.setattr(trainer, "_build", spy)
        result = invoke(args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "spec.json").read_text())["train"]["split_step"] is (
        "--no-split-step" not in flags
    )
    assert len(seen) == 1
    return seen[0]


def test_train_uses_the_split_step_only_where_it_is_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _split_used(tmp_path, monkeypatch)
    assert not _split_used(tmp_path, monkeypatch, "--no-split-step")
    # each part would draw the same dropout masks
    assert not _split_used(tmp_path, monkeypatch, "--dropout", "0.2")
    assert not _split_used(
        tmp_path, monkeypatch, "--no-xla"
    )  # uncompiled parts would not run at once
