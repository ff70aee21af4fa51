"""The NumPy step-by-step pass of ``gates`` against Keras's own layers."""

from __future__ import annotations

from pathlib import Path

import helpers
import numpy as np
import pytest

from lstmcli.backend.build import build_model
from lstmcli.interpret import gates
from lstmcli.interpret import net as nets
from lstmcli.model.spec import ModelSpec

TOL = 1e-5


def randomize(model, seed: int = 0, scale: float = 0.6) -> None:
    """Give every weight (biases included) random values so that no term hides behind a zero."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()]
    )


def make(spec: ModelSpec, variable: bool = True, seed: int = 0):
    model = build_model(spec, variable_length=variable, seed=seed)
    randomize(model, seed)
    return model


def keras_sequences(spec: ModelSpec, model, layer: int, variable: bool = True) -> np.ndarray:
    """Layer ``layer``'s return_sequences=True output, same weights."""
    from lstmcli.backend.tf import keras
    from lstmcli.model.arith import layer_names

    twin = build_model(spec.replace(return_sequences=True), variable_length=variable)
    twin.set_weights(model.get_weights())
    name = layer_names(spec)[layer]  # index 0 is the embedding
    return keras().Model(twin.inputs[0], twin.get_layer(name).output)


def keras_layer_output(spec: ModelSpec, model, layer: int):
    from lstmcli.backend.tf import keras
    from lstmcli.model.arith import layer_names

    return keras().Model(model.inputs[0], model.get_layer(layer_names(spec)[layer]).output)


IDS = np.array([[2, 3, 4, 5, 9, 7, 10, 8, 1, 11], [11, 6, 3, 4, 6, 6, 2, 5, 7, 9]])

CASES = {
    "lstm": (ModelSpec(cell="lstm", units=(5,), vocab=12, embed_dim=4, seq_len=10), 1),
    "gru": (ModelSpec(cell="gru", units=(5,), vocab=12, embed_dim=4, seq_len=10), 1),
    "simplernn": (ModelSpec(cell="simplernn", units=(5,), vocab=12, embed_dim=4, seq_len=10), 1),
    "stacked-lstm-layer2": (ModelSpec(units=(4, 3), vocab=12, embed_dim=4, seq_len=10), 2),
    "stacked-gru-layer1": (ModelSpec(cell="gru", units=(4, 3), vocab=12, embed_dim=4), 1),
    "bi-lstm": (ModelSpec(units=(3,), bidirectional=True, vocab=12, embed_dim=4), 1),
    "bi-gru-stacked-layer2": (
        ModelSpec(cell="gru", units=(3, 2), bidirectional=True, vocab=12, embed_dim=4),
        2,
    ),
    "bi-simplernn": (
        ModelSpec(cell="simplernn", units=(3,), bidirectional=True, vocab=12, embed_dim=4),
        1,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_steps_equal_keras_sequences(case: str) -> None:
    spec, layer = CASES[case]
    model = make(spec)
    net = nets.net_from_model(model)
    ids, mask = net.layout(list(IDS))
    p = nets.run_net(net, ids, mask, keep=layer - 1)
    want = np.asarray(keras_sequences(spec, model, layer)(IDS))
    np.testing.assert_allclose(p.sequences[layer - 1], want, atol=TOL)
    # per direction: the kept traces are the halves of Keras's concatenated output
    h = spec.units[layer - 1]
    for d, trace in enumerate(p.traces):
        np.testing.assert_allclose(trace["hidden"], want[..., d * h : (d + 1) * h], atol=TOL)
        assert set(trace) == set(gates.QUANTITIES[spec.cell])
    # the final state is the Keras layer's own output, and the head gives model(x)
    final = np.asarray(keras_layer_output(spec, model, layer)(IDS))
    np.testing.assert_allclose(p.finals[layer - 1], final, atol=TOL)
    if layer == spec.stacked:
        np.testing.assert_allclose(np.concatenate(p.states[layer - 1], axis=-1), final, atol=TOL)
    np.testing.assert_allclose(p.probabilities, np.asarray(model(IDS)), atol=TOL)


def test_backward_direction_is_in_input_order() -> None:
    spec, _ = CASES["bi-lstm"]
    model = make(spec)
    net = nets.net_from_model(model)
    p = nets.run_net(net, *net.layout(list(IDS)), keep=0)
    fwd, bwd = p.traces
    # the backward direction's final state sits at the first token, the forward one at the last
    np.testing.assert_allclose(p.states[0][0], fwd["hidden"][:, -1], atol=1e-12)
    np.testing.assert_allclose(p.states[0][1], bwd["hidden"][:, 0], atol=1e-12)


def test_lstm_gates_follow_keras_equations() -> None:
    spec, _ = CASES["lstm"]
    net = nets.net_from_model(make(spec))
    p = nets.run_net(net, *net.layout([IDS[0]]), keep=0)
    t = p.traces[0]
    for q in ("input", "forget", "output"):
        assert ((t[q] > 0) & (t[q] < 1)).all()
    c_prev = np.vstack([np.zeros((1, 5)), t["cell"][0, :-1]])
    np.testing.assert_allclose(
        t["cell"][0], t["forget"][0] * c_prev + t["input"][0] * t["candidate"][0], atol=1e-12
    )
    np.testing.assert_allclose(t["hidden"], t["output"] * np.tanh(t["cell"]), atol=1e-12)


def test_gru_update_mixes_old_state_and_candidate() -> None:
    spec, _ = CASES["gru"]
    net = nets.net_from_model(make(spec))
    t = nets.run_net(net, *net.layout([IDS[1]]), keep=0).traces[0]
    h_prev = np.vstack([np.zeros((1, 5)), t["hidden"][0, :-1]])
    want = t["update"][0] * h_prev + (1 - t["update"][0]) * t["candidate"][0]
    np.testing.assert_allclose(t["hidden"][0], want, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_fixed_length_masked_model_skips_padding(bidirectional: bool) -> None:
    spec = ModelSpec(units=(4,), vocab=12, embed_dim=4, seq_len=12, mask_zero=True,
                     bidirectional=bidirectional)  # fmt: skip
    model = make(spec, variable=False)
    net = nets.net_from_model(model)
    assert net.fixed_len == 12
    rows = [IDS[0][:7], IDS[1]]
    ids, mask = net.layout(rows)
    assert ids.shape == (2, 12) and mask.sum() == 17
    p = nets.run_net(net, ids, mask, keep=0)
    np.testing.assert_allclose(p.probabilities, np.asarray(model(ids)), atol=TOL)
    want = np.asarray(keras_sequences(spec, model, 1, variable=False)(ids))
    np.testing.assert_allclose(p.sequences[0][mask], want[mask], atol=TOL)


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec(cell="gru", units=(4,), vocab=12, embed_dim=4, seq_len=12),
        # pooled: without a mask the pools read the padding too, as Keras's do
        ModelSpec(units=(4,), pool="max+mean", vocab=12, embed_dim=4, seq_len=12),
    ],
    ids=["gru", "lstm-max+mean"],
)
def test_fixed_length_unmasked_model_reads_its_padding(spec: ModelSpec) -> None:
    model = make(spec, variable=False)
    net = nets.net_from_model(model)
    ids, mask = net.layout([IDS[0][:5]])
    assert mask.all()
    p = nets.run_net(net, ids, mask)
    np.testing.assert_allclose(p.probabilities, np.asarray(model(ids)), atol=TOL)


# ----------------------------------------------------------------------------- runs


def make_run(folder: Path, spec: ModelSpec, variable: bool = True, seed: int = 0):
    from lstmcli.rundir.folder import open_run

    model = make(spec, variable, seed)
    return open_run(helpers.make_run(folder, spec, model=model)), model


SMALL = ModelSpec(units=(3,), vocab=12, embed_dim=4, seq_len=20)
TEXT = "The movie was great, and FUN! Not boring."


@pytest.mark.parametrize(
    "spec",
    [SMALL, SMALL.replace(bidirectional=True), SMALL.replace(units=(3, 2), cell="gru")],
    ids=["lstm", "bi-lstm", "stacked-gru"],
)
def test_prefix_predictions_are_the_model_on_each_prefix(tmp_path: Path, spec: ModelSpec) -> None:
    run, model = make_run(tmp_path / "run", spec)
    insp = gates.inspect_text(run, TEXT, layer=spec.stacked, model=model)
    assert insp.words == ["the", "movie", "was", "great", "and", "fun", "not", "boring"]
    ids = run.encode([TEXT]).row(0)
    for k in range(len(ids)):
        want = np.asarray(model(ids[None, : k + 1]))[0]
        np.testing.assert_allclose(insp.probabilities[k], want, atol=TOL)


def test_inspect_text_unknown_words_and_truncation(tmp_path: Path) -> None:
    run, model = make_run(tmp_path / "run", SMALL.replace(seq_len=4))
    # like pad_sequences, a text longer than seq_len keeps its end
    insp = gates.inspect_text(run, "great fun the zorblax movie was", model=model)
    assert insp.tokens == ["the", "[UNK]", "movie", "was"]
    assert insp.words == ["the", "zorblax", "movie", "was"]
    assert any("last 4 of 6" in n for n in insp.notes)
    assert insp.traces[0]["forget"].shape == (4, 3)


def test_inspect_fixed_length_run_hides_padding(tmp_path: Path) -> None:
    run, model = make_run(tmp_path / "run", SMALL.replace(seq_len=10), variable=False)
    insp = gates.inspect_text(run, "great fun", model=model)
    assert insp.traces[0]["hidden"].shape == (2, 3)
    assert any("8 padding steps" in n for n in insp.notes)
    padded = run.padded(["great fun"], 10)
    np.testing.assert_allclose(insp.probabilities[-1], np.asarray(model(padded))[0], atol=TOL)


def test_inspect_errors(tmp_path: Path) -> None:
    from lstmcli.core.errors import UsageError

    run, model = make_run(tmp_path / "run", SMALL)
    with pytest.raises(UsageError, match=r"--layer 2: the model has 1 recurrent layer; use 1\.\.1"):
        gates.inspect_text(run, TEXT, layer=2, model=model)
    with pytest.raises(UsageError, match="no words"):
        gates.inspect_text(run, "  ... !! ", model=model)
