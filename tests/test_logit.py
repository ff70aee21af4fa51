"""The logit split over the head's inputs and over the words, against Keras and ``predict``."""

from __future__ import annotations

from pathlib import Path

import helpers
import numpy as np
import pytest

from lstmcli.interpret import gates, logit
from lstmcli.interpret import net as nets
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import open_run
from lstmcli.train.evaluation import predict_texts
from lstmcli.train.predictor import Speed

TEXT = "The movie was great, and FUN! Not boring... zorblax"
TEXTS = [TEXT, "a boring bad movie", "great fun and not boring at all"]
BASE = ModelSpec(units=(4,), vocab=12, embed_dim=4, seq_len=100, mask_zero=True)  # as `train`
SPECS = {
    "lstm": BASE,
    "gru": BASE.replace(cell="gru"),
    "simplernn": BASE.replace(cell="simplernn"),
    "stacked-lstm": BASE.replace(units=(4, 3)),
    "bi-lstm": BASE.replace(bidirectional=True),
    "bi-gru-stacked": BASE.replace(cell="gru", units=(3, 2), bidirectional=True),
    "multiclass-lstm": BASE.replace(classes=3),
    "multiclass-bi-gru": BASE.replace(cell="gru", bidirectional=True, classes=3),
}
LABELS = {1: ("neg", "pos"), 3: ("low", "mid", "high")}


def make(folder: Path, spec: ModelSpec, seed: int = 3, variable: bool = True):
    model = helpers.make_model(spec, variable=variable, seed=seed, scale=0.6)
    run = helpers.make_run(folder, spec, model=model, labels=LABELS[spec.classes])
    return open_run(run), model


def keras_head_inputs(spec: ModelSpec, model, run, texts: list[str]) -> np.ndarray:
    """What the Dense head reads for each text, from Keras itself (padding masked)."""
    from lstmcli.backend.tf import keras
    from lstmcli.data.textpipe import pad_front
    from lstmcli.model.arith import layer_names

    enc = run.encode(texts)
    ids = pad_front([enc.row(i) for i in range(len(texts))], int(enc.lengths.max()))
    name = layer_names(spec)[spec.stacked]  # index 0 is the embedding
    return np.asarray(keras().Model(model.inputs[0], model.get_layer(name).output)(ids))


@pytest.mark.parametrize("case", list(SPECS))
def test_contributions_and_bias_are_the_logit_of_predict(tmp_path: Path, case: str) -> None:
    spec = SPECS[case]
    run, model = make(tmp_path / "run", spec)
    rows = predict_texts(run, TEXTS, Speed(True, False, 64, workers=1))
    heads = keras_head_inputs(spec, model, run, TEXTS)
    for text, row, v in zip(TEXTS, rows, heads, strict=True):
        e = gates.inspect_text(run, text, layer=None, model=model).explained
        assert len(e.contributions) == spec.units[-1] * (2 if spec.bidirectional else 1)
        assert e.contributions.sum() + e.bias == pytest.approx(e.logit, abs=1e-12)
        np.testing.assert_allclose(e.inputs, v, atol=1e-5)  # the head's input is Keras's
        kernel, bias = (np.asarray(w, np.float64) for w in model.layers[-1].get_weights())
        np.testing.assert_allclose(e.weights, kernel[:, e.column], atol=0)
        probs = np.array([row["probabilities"][n] for n in LABELS[spec.classes]], np.float64)
        if spec.classes == 1:
            p = probs[1]
            assert e.label == "pos"
            assert e.logit == pytest.approx(np.log(p / (1 - p)), abs=1e-5)
        else:  # z_k of the softmax input: log p_k = z_k − log Σ exp z
            z = v @ kernel + bias
            assert e.label == row["label"] == LABELS[3][int(np.argmax(z))]
            assert e.logit == pytest.approx(z[e.column], abs=1e-5)
            log_p = np.log(probs[e.column])
            assert e.logit - np.log(np.exp(z).sum()) == pytest.approx(log_p, abs=1e-5)


@pytest.mark.parametrize("case", ["lstm", "bi-gru-stacked", "multiclass-lstm"])
def test_word_deltas_add_up_and_follow_each_prefix(tmp_path: Path, case: str) -> None:
    spec = SPECS[case]
    run, model = make(tmp_path / "run", spec)
    insp = gates.inspect_text(run, TEXT, layer=None, model=model)
    e = insp.explained
    assert len(e.deltas) == len(insp.words) == 9
    assert e.start + e.deltas.sum() == pytest.approx(e.logit, abs=1e-12)
    # nothing read: the state is zero, so the head gives its bias
    assert e.start == pytest.approx(e.bias, abs=1e-12)
    from lstmcli.data.textpipe import pad_front

    ids = run.encode([TEXT]).row(0)
    batch = pad_front([ids[: k + 1] for k in range(len(ids))], len(ids))  # masked padding
    outs = np.asarray(model(batch), np.float64)
    for k, out in enumerate(outs):
        assert e.prefix[k] == insp.logits[k][e.column]
        if spec.classes == 1:
            assert e.prefix[k] == pytest.approx(np.log(out[0] / (1 - out[0])), abs=1e-4)
        else:  # softmax ignores a shift of z: compare z − mean(z) with log p − mean(log p)
            z = insp.logits[k]
            np.testing.assert_allclose(z - z.mean(), np.log(out) - np.log(out).mean(), atol=1e-4)


def test_fixed_length_unmasked_model_starts_from_its_padding(tmp_path: Path) -> None:
    spec = BASE.replace(seq_len=12, mask_zero=False)
    run, model = make(tmp_path / "run", spec, variable=False)
    insp = gates.inspect_text(run, "great fun", model=model)
    e = insp.explained
    padding = np.asarray(model(np.zeros((1, 12), np.int32)), np.float64)[0, 0]
    assert e.start == pytest.approx(np.log(padding / (1 - padding)), abs=1e-4)
    assert e.start != pytest.approx(e.bias, abs=1e-3)
    assert e.start + e.deltas.sum() == pytest.approx(e.logit, abs=1e-9)


@pytest.mark.parametrize("case", ["lstm", "bi-lstm"])
def test_deciders_are_the_top_contributions(tmp_path: Path, case: str) -> None:
    spec = SPECS[case]
    run, model = make(tmp_path / "run", spec.replace(units=(8,)))
    insp = gates.inspect_text(run, TEXT, layer=None, model=model)
    e = insp.explained
    size = np.abs(e.contributions)
    for k in (1, 3, 5):
        chosen = insp.deciders(k)
        assert len(chosen) == k
        picked = [insp.directions.index(f.direction) * 8 + f.unit for f in e.features]
        cols = [picked.index(d * 8 + u) for d, u in chosen]
        assert min(size[cols]) >= max(np.delete(size, cols))  # no other unit adds more
        assert list(size[cols]) == sorted(size[cols], reverse=True)
    assert insp.deciders(3, unit=2) == [(d, 2) for d in range(len(insp.directions))]


def test_moved_most_names_the_largest_moves_each_way() -> None:
    deltas = np.array([0.1, -0.5, 0.7, 0.0, -0.2, 0.3, -0.9])
    assert logit.moved_most(deltas, 2) == ([2, 5], [6, 1])
    assert logit.moved_most(np.array([0.2, 0.1]), 3) == ([0, 1], [])


def test_features_name_every_number_the_head_reads(tmp_path: Path) -> None:
    spec = SPECS["bi-gru-stacked"]
    _, model = make(tmp_path / "run", spec)
    net = nets.net_from_model(model)
    features = net.features()
    assert [f.direction for f in features] == ["forward"] * 2 + ["backward"] * 2
    assert [f.unit for f in features] == [0, 1, 0, 1]
    assert {f.pool for f in features} == {"last"}
    assert len(features) == net.head_kernel.shape[0]
