"""The model options (activations, no bias, pooling, --head none) against Keras: the NumPy
step-by-step pass, lstmcli's masked pooling layers, saved files and the spec read back."""

from __future__ import annotations

from pathlib import Path

import helpers
import numpy as np
import pytest

from lstmcli.backend import modelfile
from lstmcli.backend.build import build_model
from lstmcli.backend.reader import spec_from_model
from lstmcli.interpret import gates
from lstmcli.interpret import net as nets
from lstmcli.model.arith import layer_names
from lstmcli.model.limits import ACTIVATIONS
from lstmcli.model.spec import ModelSpec

TOL = 1e-5
IDS = np.array([[2, 3, 4, 5, 9, 7, 10, 8, 1, 11], [11, 6, 3, 4, 6, 6, 2, 5, 7, 9]])
SMALL = {"vocab": 12, "embed_dim": 4, "seq_len": 10}


def make(spec: ModelSpec, variable: bool = True, seed: int = 0):
    return helpers.make_model(spec, variable=variable, seed=seed, scale=0.6)


def sub_model(model, name: str):
    from lstmcli.backend.tf import keras

    return keras().Model(model.inputs[0], model.get_layer(name).output)


def keras_sequences(spec: ModelSpec, model, layer: int) -> np.ndarray:
    """Layer ``layer``'s (1-based) whole output sequence, same weights."""
    twin_spec = spec.replace(return_sequences=True, pool="last")
    twin = build_model(twin_spec, variable_length=True)
    twin.set_weights(model.get_weights())
    return np.asarray(sub_model(twin, layer_names(twin_spec)[layer])(IDS))


OPTION_CASES = {
    "lstm-hard-sigmoid-no-bias": ModelSpec(
        units=(5,), recurrent_activation="hard_sigmoid", use_bias=False, **SMALL
    ),
    "lstm-relu-no-unit-forget-bias": ModelSpec(
        units=(4, 3), activation="relu", unit_forget_bias=False, **SMALL
    ),
    "bi-lstm-softsign-elu": ModelSpec(
        units=(3,), bidirectional=True, activation="softsign", recurrent_activation="elu", **SMALL
    ),
    "gru-no-bias-hard-sigmoid": ModelSpec(
        cell="gru", units=(5,), use_bias=False, recurrent_activation="hard_sigmoid", **SMALL
    ),
    "bi-gru-linear": ModelSpec(
        cell="gru", units=(3, 2), bidirectional=True, activation="linear", **SMALL
    ),
    "simplernn-relu-no-bias": ModelSpec(
        cell="simplernn", units=(4,), activation="relu", use_bias=False, **SMALL
    ),
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_steps_follow_the_chosen_activations_and_bias(case: str) -> None:
    spec = OPTION_CASES[case]
    model = make(spec)
    net = nets.net_from_model(model)
    p = nets.run_net(net, *net.layout(list(IDS)), keep=spec.stacked - 1)
    for layer in range(1, spec.stacked + 1):
        want = keras_sequences(spec, model, layer)
        np.testing.assert_allclose(p.sequences[layer - 1], want, atol=TOL)
    np.testing.assert_allclose(p.probabilities, np.asarray(model(IDS)), atol=TOL)
    cell = net.layers[-1].cells[0]
    if not spec.use_bias:
        assert not cell.bias_in.any() and not cell.bias_rec.any()


def test_hard_sigmoid_gates_are_piecewise_linear() -> None:
    """With hard_sigmoid the gates reach exactly 0 and 1 (σ never does), as Keras computes."""
    spec = OPTION_CASES["lstm-hard-sigmoid-no-bias"]
    net = nets.net_from_model(helpers.make_model(spec, scale=3.0))
    t = nets.run_net(net, *net.layout(list(IDS)), keep=0).traces[0]
    gate_values = np.concatenate([t[q].ravel() for q in ("input", "forget", "output")])
    assert gate_values.min() == 0.0 and gate_values.max() == 1.0
    c_prev = np.concatenate([np.zeros((2, 1, 5)), t["cell"][:, :-1]], axis=1)
    np.testing.assert_allclose(t["cell"], t["forget"] * c_prev + t["input"] * t["candidate"])


def test_every_allowed_activation_equals_keras() -> None:
    from lstmcli.backend.tf import keras

    z = np.linspace(-7, 7, 141)
    for name in ACTIVATIONS:
        want = np.asarray(keras().activations.get(name)(z.astype("float32")))
        np.testing.assert_allclose(nets._ACT[name](z), want, atol=1e-6, err_msg=name)


POOL_CASES = {  # masked: Keras skips the padding of the shorter text, as net.layout does
    "max": ModelSpec(units=(4,), pool="max", mask_zero=True, **SMALL),
    "mean": ModelSpec(cell="gru", units=(4, 3), pool="mean", mask_zero=True, **SMALL),
    "max+mean-bi": ModelSpec(
        units=(3,), pool="max+mean", bidirectional=True, mask_zero=True, **SMALL
    ),
    "max+mean-no-head": ModelSpec(
        units=(3,), pool="max+mean", head="none", mask_zero=True, **SMALL
    ),
}


@pytest.mark.parametrize("case", list(POOL_CASES))
def test_pooled_head_input_equals_keras(case: str) -> None:
    spec = POOL_CASES[case]
    model = make(spec)
    net = nets.net_from_model(model)
    rows = [IDS[0][:6], IDS[1]]  # one text padded (masked), one not
    ids, mask = net.layout(rows)
    p = nets.run_net(net, ids, mask)
    pooled = layer_names(spec)[-1 if spec.head == "none" else -2]
    np.testing.assert_allclose(p.head_input, np.asarray(sub_model(model, pooled)(ids)), atol=TOL)
    assert p.head_input.shape == (2, spec.head_width)
    if spec.head == "none":
        assert p.probabilities is None
        np.testing.assert_allclose(p.head_input, np.asarray(model(ids)), atol=TOL)
    else:
        np.testing.assert_allclose(p.probabilities, np.asarray(model(ids)), atol=TOL)
        logit = p.head_input @ net.head_kernel + net.head_bias
        np.testing.assert_allclose(nets._ACT[net.head_activation](logit), p.probabilities)


@pytest.mark.parametrize("pool", ["max", "mean", "max+mean"])
def test_masked_pooling_ignores_padding_and_empty_texts(pool: str) -> None:
    """Padded to 10 or to 30, a text gets the same prediction (Keras's GlobalMaxPooling1D
    would let the padding in); a text with no words pools to 0, not NaN."""
    from lstmcli.data.textpipe import pad_front

    spec = ModelSpec(units=(4,), pool=pool, mask_zero=True, vocab=12, embed_dim=4, seq_len=30)
    model = make(spec, variable=True)
    rows = [IDS[0][:5], IDS[1], np.zeros(0, np.int64)]
    short, long = np.asarray(model(pad_front(rows, 10))), np.asarray(model(pad_front(rows, 30)))
    np.testing.assert_allclose(short, long, atol=1e-6)
    assert np.isfinite(short).all()
    net = nets.net_from_model(model)
    pooled = nets.run_net(net, *net.layout(rows)).head_input
    assert not pooled[2].any()


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec(units=(3,), pool="max+mean", vocab=12, embed_dim=4, seq_len=20),
        ModelSpec(units=(3,), pool="mean", bidirectional=True, vocab=12, embed_dim=4, seq_len=20),
    ],
    ids=["causal-max+mean", "bi-mean"],
)
def test_prefix_predictions_with_pooling(tmp_path: Path, spec: ModelSpec) -> None:
    from lstmcli.rundir.folder import open_run

    model = make(spec)
    run = open_run(helpers.make_run(tmp_path / "run", spec, model=model))
    text = "The movie was great, and FUN! Not boring."
    insp = gates.inspect_text(run, text, model=model)
    ids = run.encode([text]).row(0)
    for k in range(len(ids)):
        want = np.asarray(model(ids[None, : k + 1]))[0]
        np.testing.assert_allclose(insp.probabilities[k], want, atol=TOL)


def test_inspect_head_tail_words(tmp_path: Path) -> None:
    """A head+tail run reads (and inspect shows) the first k and the last T − k words."""
    from lstmcli.rundir.folder import open_run

    spec = ModelSpec(units=(3,), vocab=12, embed_dim=4, seq_len=4, truncate="head+tail")
    model = make(spec)
    run = open_run(helpers.make_run(tmp_path / "run", spec, model=model))
    insp = gates.inspect_text(run, "great fun the zorblax movie was", model=model)
    assert insp.words == ["great", "zorblax", "movie", "was"]
    assert insp.tokens == ["great", "[UNK]", "movie", "was"]
    assert any("the first 1 and the last 3 of 6 words" in n for n in insp.notes)


ROUND_TRIP = [
    ModelSpec(units=(4,), pool="max+mean", embedding_dropout=0.2, bidirectional=True, **SMALL),
    ModelSpec(units=(4, 3), use_bias=False, recurrent_activation="hard_sigmoid", **SMALL),
    ModelSpec(cell="gru", units=(4,), activation="relu", pool="mean", classes=3, **SMALL),
    ModelSpec(units=(4,), unit_forget_bias=False, pool="max", mask_zero=True, **SMALL),
    ModelSpec(features=64, seq_len=5, units=(128, 256), head="none"),
]


@pytest.mark.parametrize(
    "spec", ROUND_TRIP, ids=["pool-dropout-bi", "no-bias", "gru-relu-mean", "no-ufb", "seed-004"]
)
def test_saved_models_load_safely_and_read_back(spec: ModelSpec, tmp_path: Path) -> None:
    model = build_model(spec, seed=1)
    path = tmp_path / "m.keras"
    modelfile.save_model(model, path)
    loaded = modelfile.load_model(path)  # through the allow-list
    assert spec_from_model(loaded) == spec
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    shape = (2, spec.seq_len) if spec.token_input else (2, spec.seq_len, spec.features)
    batch = np.ones(shape, "int32" if spec.token_input else "float32")
    np.testing.assert_allclose(np.asarray(loaded(batch)), np.asarray(model(batch)), atol=1e-6)
