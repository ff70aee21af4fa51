"""The fused training graph (backend/fused.py) against the layer-by-layer model it stands for:
same variables in the same order, same predictions and gradients, and training through
`lstmcli train` that matches `--no-fused` step for step."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke, padded_tokens, small_spec

from lstmcli.backend.build import build_model
from lstmcli.backend.fused import fusable, inference_model, training_model
from lstmcli.model.spec import ModelSpec

SPECS = [
    {"pool": "max+mean"},
    {"pool": "mean", "cell": "gru"},
    {"units": (8, 6, 5)},
    {"units": (8, 6), "pool": "max", "cell": "simplernn"},
    {"bidirectional": True},
    {"bidirectional": True, "pool": "max+mean", "embedding_dropout": 0.2},
    {"units": (8, 6), "bidirectional": True, "pool": "mean", "cell": "gru"},
    {"units": (8, 6), "bidirectional": True, "cell": "simplernn"},
    {"pool": "max", "mask_zero": False},
    {"units": (8, 6), "pool": "max+mean", "head": "none"},
    {"bidirectional": True, "pool": "max", "activation": "relu", "use_bias": False},
]


def _tokens() -> np.ndarray:
    return padded_tokens(6)  # row 2, no word at all, pools to 0 like the layer-by-layer model


def test_which_specs_are_fused() -> None:
    assert not fusable(ModelSpec())  # the lecture LSTM: one layer, last state: nothing to gain
    assert fusable(ModelSpec(units=(8, 8)))
    assert fusable(ModelSpec(pool="max"))
    assert fusable(ModelSpec(bidirectional=True))
    assert not fusable(ModelSpec(units=(8, 8), return_sequences=True))
    assert (
        training_model(build_model(ModelSpec(vocab=50), variable_length=True), ModelSpec(vocab=50))
        is None
    )


@pytest.mark.parametrize(
    "kw", SPECS, ids=[",".join(f"{k}={v}" for k, v in s.items()) for s in SPECS]
)
def test_same_variables_predictions_and_gradients(kw: dict) -> None:
    import tensorflow as tf

    spec = small_spec(kw)
    model = build_model(spec, variable_length=True, seed=0)
    fused = training_model(model, spec)
    assert fused is not None
    assert len(fused.variables) == len(model.variables)
    assert all(a is b for a, b in zip(fused.variables, model.variables, strict=True))
    x = _tokens()
    want, got = model.predict_on_batch(x), fused.predict_on_batch(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)
    if kw.get("head") == "none" and spec.mask_zero:
        assert not got[2].any()  # a text with no word pools to 0
    weights = np.random.default_rng(1).normal(size=want.shape).astype("float32")
    grads = []
    for m in (model, fused):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(m(x, training=False) * weights)
        grads.append(
            [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
        )
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-5)


@pytest.mark.parametrize("kw", [{"units": (8, 6), "dropout": 0.3, "recurrent_dropout": 0.2},
                                {"bidirectional": True, "pool": "max", "dropout": 0.3}])  # fmt: skip
def test_dropout_trains_under_xla_and_is_off_for_prediction(kw: dict) -> None:
    spec = small_spec(kw)
    model = build_model(spec, variable_length=True, seed=0)
    fused = training_model(model, spec)
    fused.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=True)
    x, y = _tokens(), np.array([[0], [1], [0], [1], [0], [1]], dtype="float32")
    losses = [float(fused.train_on_batch(x, y)) for _ in range(3)]
    assert all(np.isfinite(losses))
    np.testing.assert_allclose(fused.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)


FAST = ["--epochs", "1", "--units", "8,6", "--embed-dim", "8", "--vocab", "300", "--seq-len", "40",
        "--pool", "max+mean", "--limit", "300", "--no-xla", "--json"]  # fmt: skip


def test_train_fused_matches_layer_by_layer(tmp_path: Path) -> None:
    runs = {}
    for flag in ("--fused", "--no-fused"):
        out = tmp_path / flag.strip("-")
        result = invoke(["train", "sample", *FAST, flag, "--output", str(out)])
        assert result.exit_code == 0, result.output
        runs[flag] = json.loads(result.stdout)["history"]
        info = json.loads((out / "spec.json").read_text())
        assert info["train"]["fused"] is (flag == "--fused")
    for a, b in zip(runs["--fused"], runs["--no-fused"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    # the saved model is the layer-by-layer one, loadable and evaluated as any other run
    rows = list(csv.DictReader((tmp_path / "fused" / "history.csv").open()))
    assert len(rows) == 1
    result = invoke(["evaluate", str(tmp_path / "fused"), "--json"])
    assert result.exit_code == 0, result.output


def test_two_lstm_directions_run_as_one_batched_step_unless_dropout() -> None:
    for kw, batched in [({}, True), ({"dropout": 0.2}, False), ({"cell": "gru"}, False)]:
        spec = small_spec({"bidirectional": True, **kw})
        fused = training_model(build_model(spec, variable_length=True, seed=0), spec)
        assert fused.get_layer("fused_recurrence").both.batched is batched


def test_prediction_runs_the_fused_loop_only_where_it_is_faster() -> None:
    """evaluate, predict and validation predict with a one-way stack or pooled model's fused
    loop on a CPU (same weights, same probabilities through the bucketed path), and with the
    layers as built for a pooled Bi-LSTM, a lone GRU's last state, or on a GPU."""
    from lstmcli.data.textpipe import Encoded
    from lstmcli.train.predictor import Speed, predict_encoded

    rng = np.random.default_rng(4)
    lengths = rng.integers(1, 13, 40)
    enc = Encoded(rng.integers(1, 300, lengths.sum()).astype("int32"),
                  np.concatenate([[0], np.cumsum(lengths)]).astype("int64"))  # fmt: skip
    for kw in ({"units": (8, 6, 5)}, {"pool": "max+mean", "cell": "gru"}):
        spec = small_spec(kw)
        model = build_model(spec, variable_length=True, seed=0)
        fast = inference_model(model, spec)
        assert fast is not model and fast.get_layer("fused_recurrence") is not None
        assert inference_model(model, spec, gpu=True) is model
        speed = Speed(eval_batch_size=16)
        want, _ = predict_encoded(model, enc, 12, speed)
        got, _ = predict_encoded(fast, enc, 12, speed)
        np.testing.assert_allclose(got, want, atol=1e-5)
    for kw in ({"bidirectional": True, "pool": "max"}, {"units": (8,), "cell": "gru"}):
        spec = small_spec(kw)
        model = build_model(spec, variable_length=True, seed=0)
        assert inference_model(model, spec) is model
    # a lone LSTM or Bi-LSTM predicts with backend/folded.py's graph (tests/test_folded.py)
