"""Build a Keras model from a ``ModelSpec``.

Layer names are given explicitly (the same as ``arith.layer_names``) so that tables, saved
files and tests never depend on how many models Keras built before in the process.
"""

from __future__ import annotations

from typing import Any

from lstmcli.backend.layers import pooling_layer
from lstmcli.backend.tf import keras
from lstmcli.model.arith import layer_names, pool_kinds
from lstmcli.model.cells import CELLS
from lstmcli.model.spec import ModelSpec


def build_model(spec: ModelSpec, variable_length: bool = False, seed: int | None = None) -> Any:
    """Return an uncompiled ``keras.Model``.

    ``variable_length`` builds the input as (None,) timesteps so one model serves every
    length bucket during training; the weights are identical either way.
    """
    k = keras()
    if seed is not None:
        k.utils.set_random_seed(seed)
    t = None if variable_length else spec.seq_len
    names = iter(layer_names(spec))
    if spec.token_input:
        inputs = k.Input(shape=(t,), dtype="int32", name="tokens")
        x = k.layers.Embedding(
            spec.vocab,
            spec.embed_dim,
            mask_zero=spec.mask_zero,
            trainable=spec.trainable_embedding,
            name=next(names),
        )(inputs)
    else:
        inputs = k.Input(shape=(t, spec.features), name="vectors")
        x = inputs
    if spec.embedding_dropout:
        x = k.layers.SpatialDropout1D(spec.embedding_dropout, name=next(names))(x)
    cell_cls = getattr(k.layers, CELLS[spec.cell].keras_class)
    for i, h in enumerate(spec.units):
        last = i == spec.stacked - 1
        name = next(names)
        layer = cell_cls(
            h,
            return_sequences=(not last) or spec.return_sequences or spec.pool != "last",
            dropout=spec.dropout,
            recurrent_dropout=spec.recurrent_dropout,
            name=f"{spec.cell}_cell_{i}" if spec.bidirectional else name,
            **_cell_kwargs(spec),
        )
        if spec.bidirectional:
            layer = k.layers.Bidirectional(layer, name=name)
        x = layer(x)
    pooled = [pooling_layer(kind, next(names))(x) for kind in pool_kinds(spec)]
    if pooled:
        x = pooled[0] if len(pooled) == 1 else k.layers.Concatenate(name=next(names))(pooled)
    if spec.head == "dense":
        x = k.layers.Dense(spec.classes, activation=spec.head_activation, name=next(names))(x)
    return k.Model(inputs, x, name="lstmcli")


def _cell_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """The recurrent layer's options; Keras's defaults are left out (SimpleRNN has no gates)."""
    kw: dict[str, Any] = {"activation": spec.activation, "use_bias": spec.use_bias}
    if spec.cell != "simplernn":
        kw["recurrent_activation"] = spec.recurrent_activation
    if spec.cell == "lstm":
        kw["unit_forget_bias"] = spec.unit_forget_bias
    return kw
