"""The folded prediction graph (backend/folded.py) against the layer-by-layer model: same
variables, same predictions wherever the zeros of a row are (front, end, middle, all), masked
or not, one direction or two, and through the predictor's bucketed path."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import padded_tokens, small_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmcli.backend.build import build_model
from lstmcli.backend.folded import foldable, folded_model
from lstmcli.backend.fused import inference_model
from lstmcli.model.spec import ModelSpec

SPECS = [
    {},
    {"bidirectional": True},
    {"mask_zero": False},
    {"bidirectional": True, "mask_zero": False},
    {"bidirectional": True, "use_bias": False, "classes": 3},
    {"recurrent_activation": "hard_sigmoid", "activation": "relu"},
    {"bidirectional": True, "embedding_dropout": 0.2, "dropout": 0.3},
    {"bidirectional": True, "head": "none"},
    {"unit_forget_bias": False, "activation": "softsign"},
]


def _tokens() -> np.ndarray:
    x = padded_tokens(7)
    x[4, [2, 3, 8]] = 0  # zeros between words: masked steps inside the text
    x[5, :11] = 0  # one word
    return x


@pytest.mark.parametrize(
    "kw", SPECS, ids=[",".join(f"{k}={v}" for k, v in s.items()) or "lecture" for s in SPECS]
)
@pytest.mark.parametrize("fixed", [False, True], ids=["any-length", "fixed-length"])
def test_same_variables_and_predictions(kw: dict, fixed: bool) -> None:
    spec = small_spec(kw)
    assert foldable(spec)
    model = build_model(spec, variable_length=not fixed, seed=0)
    folded = folded_model(model, spec)
    assert {id(v) for v in folded.variables} <= {id(v) for v in model.variables}
    assert folded.inputs[0].shape == model.inputs[0].shape
    x = _tokens()
    want = model.predict_on_batch(x)
    got = folded.predict_on_batch(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)
    if kw.get("head") == "none" and spec.mask_zero:
        assert not got[2].any()  # no word: the zero state, as Keras's masked LSTM leaves it


def test_which_specs_fold() -> None:
    assert foldable(ModelSpec()) and foldable(ModelSpec(bidirectional=True))
    assert not foldable(ModelSpec(cell="gru"))
    assert not foldable(ModelSpec(units=(8, 8)))
    assert not foldable(ModelSpec(pool="max"))
    assert not foldable(ModelSpec(return_sequences=True))
    assert not foldable(ModelSpec(features=5))
    # a padding step keeps the zero state only when act(0) = 0 and the gate can shut
    assert not foldable(ModelSpec(activation="sigmoid"))
    assert not foldable(ModelSpec(recurrent_activation="tanh"))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(st.integers(0, 49), min_size=0, max_size=9), min_size=1, max_size=5),
    bidirectional=st.booleans(),
    mask_zero=st.booleans(),
)
def test_any_rows_predict_as_keras(
    rows: list[list[int]], bidirectional: bool, mask_zero: bool
) -> None:
    spec = ModelSpec(vocab=50, embed_dim=4, seq_len=9, units=(3,), mask_zero=mask_zero,
                     bidirectional=bidirectional)  # fmt: skip
    model, folded = _pair(spec)
    x = np.zeros((len(rows), 9), dtype="int32")
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
    np.testing.assert_allclose(folded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)


_PAIRS: dict = {}


def _pair(spec: ModelSpec) -> tuple:
    """The layer-by-layer model and its folded graph, built once per spec across examples."""
    if spec not in _PAIRS:
        model = build_model(spec, variable_length=True, seed=1)
        _PAIRS[spec] = (model, folded_model(model, spec))
    return _PAIRS[spec]


def test_evaluate_and_predict_use_it_on_a_cpu_only() -> None:
    """Through the predictor (exact-length batches sorted by length, parallel threads), the
    folded graph's probabilities equal the layers'; a GPU keeps the layers (cuDNN)."""
    from lstmcli.data.textpipe import Encoded
    from lstmcli.train.predictor import Speed, predict_encoded

    rng = np.random.default_rng(4)
    lengths = rng.integers(0, 13, 40)
    enc = Encoded(rng.integers(1, 300, lengths.sum()).astype("int32"),
                  np.concatenate([[0], np.cumsum(lengths)]).astype("int64"))  # fmt: skip
    for kw in ({}, {"bidirectional": True}, {"bidirectional": True, "mask_zero": False}):
        spec = small_spec(kw)
        model = build_model(spec, variable_length=True, seed=0)
        fast = inference_model(model, spec)
        assert fast.get_layer("folded_lstm") is not None
        assert inference_model(model, spec, gpu=True) is model
        speed = Speed(eval_batch_size=16)
        want, _ = predict_encoded(model, enc, 12, speed)
        got, _ = predict_encoded(fast, enc, 12, speed)
        np.testing.assert_allclose(got, want, atol=1e-5)
