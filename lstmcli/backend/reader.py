"""Turn a loaded Keras model back into a ``ModelSpec`` (for ``summary --model`` and runs)."""

from __future__ import annotations

from typing import Any

from lstmcli.core.errors import ModelFileError
from lstmcli.model.cells import CELLS
from lstmcli.model.spec import ModelSpec


def spec_from_model(model: Any) -> ModelSpec:
    """Read the layers of an lstmcli-shaped model into a spec; refuse other shapes."""
    layers = [lyr for lyr in model.layers if type(lyr).__name__ not in ("InputLayer", "Dropout")]
    kw: dict[str, Any] = {}
    input_shape = tuple(model.inputs[0].shape)
    seq_len = input_shape[1]
    kw["seq_len"] = int(seq_len) if seq_len is not None else 500
    if layers and type(layers[0]).__name__ == "Embedding":
        emb = layers.pop(0)
        kw.update(
            vocab=int(emb.input_dim),
            embed_dim=int(emb.output_dim),
            mask_zero=bool(emb.mask_zero),
            trainable_embedding=bool(emb.trainable),
        )
    else:
        kw["features"] = int(input_shape[-1])
    if not layers or type(layers[-1]).__name__ != "Dense":
        raise ModelFileError("the model does not end in a Dense head; lstmcli cannot describe it")
    head = layers.pop()
    kw["classes"] = int(head.units)
    units, cells = [], set()
    bidirectional = set()
    last_rs = False
    for lyr in layers:
        name = type(lyr).__name__
        inner = lyr
        if name == "Bidirectional":
            inner = lyr.forward_layer
            bidirectional.add(True)
        else:
            bidirectional.add(False)
        cls = type(inner).__name__
        if cls not in {c.keras_class for c in CELLS.values()}:
            raise ModelFileError(f"layer {lyr.name} ({name}) is not one lstmcli builds")
        cells.add(next(c.key for c in CELLS.values() if c.keras_class == cls))
        units.append(int(inner.units))
        kw["dropout"] = float(inner.dropout)
        kw["recurrent_dropout"] = float(inner.recurrent_dropout)
        last_rs = bool(inner.return_sequences)
    if len(cells) != 1 or len(bidirectional) != 1:
        raise ModelFileError("the model mixes cell types or directions; lstmcli cannot describe it")
    kw.update(
        cell=cells.pop(), units=tuple(units), bidirectional=bidirectional.pop(),
        return_sequences=last_rs,
    )  # fmt: skip
    return ModelSpec(**kw)
