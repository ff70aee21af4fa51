"""Property test: the arithmetic equals what Keras builds, for many generated specs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmcli.backend.build import build_model
from lstmcli.backend.summary import keras_output_shapes
from lstmcli.model.arith import summarize
from lstmcli.model.limits import ACTIVATIONS, HEADS, POOLS, TRUNCATIONS
from lstmcli.model.spec import ModelSpec


@st.composite
def specs(draw: st.DrawFn) -> ModelSpec:
    vector = draw(st.booleans())
    n_layers = draw(st.integers(1, 3))
    cell = draw(st.sampled_from(["lstm", "gru", "simplernn"]))
    pool = draw(st.sampled_from(POOLS))
    head = draw(st.sampled_from(HEADS))
    use_bias = draw(st.booleans())
    seq_len = draw(st.integers(1, 6))
    truncations = [t for t in TRUNCATIONS if t != "head+tail" or seq_len >= 4]
    return ModelSpec(
        cell=cell,
        units=tuple(draw(st.lists(st.integers(1, 12), min_size=n_layers, max_size=n_layers))),
        bidirectional=draw(st.booleans()),
        dropout=draw(st.sampled_from([0.0, 0.2])),
        vocab=draw(st.integers(2, 60)),
        embed_dim=draw(st.integers(1, 9)),
        seq_len=seq_len,
        mask_zero=False if vector else draw(st.booleans()),
        features=draw(st.integers(1, 7)) if vector else None,
        classes=1 if head == "none" else draw(st.integers(1, 5)),
        return_sequences=False if pool != "last" else draw(st.booleans()),
        trainable_embedding=draw(st.booleans()),
        pool=pool,
        head=head,
        truncate="pre" if vector else draw(st.sampled_from(truncations)),
        embedding_dropout=0.0 if vector else draw(st.sampled_from([0.0, 0.3])),
        use_bias=use_bias,
        activation=draw(st.sampled_from(ACTIVATIONS)),
        recurrent_activation=(
            "sigmoid" if cell == "simplernn" else draw(st.sampled_from(ACTIVATIONS))
        ),
        unit_forget_bias=draw(st.booleans()) if cell == "lstm" and use_bias else True,
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(specs())
def test_formulas_and_shapes_match_keras(spec: ModelSpec) -> None:
    s = summarize(spec)
    model = build_model(spec)
    assert s.totals.total_params == model.count_params()
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert s.totals.trainable_params == trainable
    by_name = {layer.name: layer for layer in model.layers}
    actual = keras_output_shapes(spec, batch=2)
    for row in s.layers:
        layer = by_name[row.name]
        assert row.params == layer.count_params(), row.name
        assert sorted(w.shape for w in row.weights) == sorted(tuple(w.shape) for w in layer.weights)
        assert row.output_shape == actual[row.name], row.name
        assert row.output_shape == tuple(layer.output.shape), row.name
    assert [row.name for row in s.layers] == [
        lyr.name for lyr in model.layers if type(lyr).__name__ != "InputLayer"
    ]
    assert s.layers[-1].output_shape == tuple(model.output.shape)
