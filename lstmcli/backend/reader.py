"""Read a loaded Keras model back: its parts, and the ``ModelSpec`` it was built from.

``model_parts`` is the one reading of an lstmcli-shaped model's layers (``summary --model``,
runs, and ``inspect``'s NumPy recomputation all use it); other shapes are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmcli.backend.layers import POOL_CLASSES
from lstmcli.core.errors import ModelFileError, UsageError
from lstmcli.model.cells import CELLS
from lstmcli.model.spec import ModelSpec

_POOL_KIND = {cls: kind for kind, cls in POOL_CLASSES.items()}
_RECURRENT = {c.keras_class for c in CELLS.values()}
_SKIPPED = ("InputLayer", "Dropout")


@dataclass
class Parts:
    """The layers of an lstmcli model, in order."""

    embedding: Any | None  # None: vector input
    embedding_dropout: float
    recurrent: list[Any] = field(default_factory=list)  # LSTM/GRU/SimpleRNN or Bidirectional
    pool: str = "last"
    head: Any | None = None  # the Dense head; None with --head none


def _kind(layer: Any) -> str:
    return type(layer).__name__


def _concat_order(layer: Any) -> list[str]:
    """The pooling kinds feeding a Concatenate, in its input order."""
    node = layer._inbound_nodes[0]
    return [_POOL_KIND.get(_kind(t._keras_history[0]), "?") for t in node.input_tensors]


def model_parts(model: Any) -> Parts:
    """Split a model into embedding → dropout → recurrent layers → pooling → head."""
    layers = [lyr for lyr in model.layers if _kind(lyr) not in _SKIPPED]
    emb = layers.pop(0) if layers and _kind(layers[0]) == "Embedding" else None
    rate = 0.0
    if layers and _kind(layers[0]) == "SpatialDropout1D":
        rate = float(layers.pop(0).rate)
    head = layers.pop() if layers and _kind(layers[-1]) == "Dense" else None
    pools = []
    while layers and (_kind(layers[-1]) in _POOL_KIND or _kind(layers[-1]) == "Concatenate"):
        pools.insert(0, layers.pop())
    kinds = [_POOL_KIND[_kind(p)] for p in pools if _kind(p) != "Concatenate"]
    concat = [p for p in pools if _kind(p) == "Concatenate"]
    shape = (kinds, len(concat))
    if shape == (["max", "mean"], 1) and _concat_order(concat[0]) == ["max", "mean"]:
        pool = "max+mean"
    elif shape in ((["max"], 0), (["mean"], 0), ([], 0)):
        pool = kinds[0] if kinds else "last"
    else:
        raise ModelFileError("the model's pooling layers are not arranged as lstmcli builds them")
    for lyr in layers:
        inner = lyr.forward_layer if _kind(lyr) == "Bidirectional" else lyr
        if _kind(inner) not in _RECURRENT:
            raise ModelFileError(f"layer {lyr.name} ({_kind(lyr)}) is not one lstmcli builds")
    if not layers:
        raise ModelFileError("the model has no recurrent layer")
    return Parts(emb, rate, layers, pool, head)


def _inner(layer: Any) -> Any:
    return layer.forward_layer if _kind(layer) == "Bidirectional" else layer


def _activation(fn: Any) -> str:
    return getattr(fn, "__name__", str(fn))


def _cell_options(inner: Any) -> dict[str, Any]:
    cell = inner.cell
    kw = {
        "dropout": float(inner.dropout),
        "recurrent_dropout": float(inner.recurrent_dropout),
        "activation": _activation(cell.activation),
        "use_bias": bool(cell.use_bias),
    }
    if hasattr(cell, "recurrent_activation"):
        kw["recurrent_activation"] = _activation(cell.recurrent_activation)
    if hasattr(cell, "unit_forget_bias") and cell.use_bias:
        kw["unit_forget_bias"] = bool(cell.unit_forget_bias)
    return kw


def spec_from_model(model: Any) -> ModelSpec:
    """Read the layers of an lstmcli-shaped model into a spec; refuse other shapes."""
    parts = model_parts(model)
    input_shape = tuple(model.inputs[0].shape)
    seq_len = input_shape[1]
    kw: dict[str, Any] = {"seq_len": int(seq_len) if seq_len is not None else 500}
    if parts.embedding is not None:
        emb = parts.embedding
        kw.update(
            vocab=int(emb.input_dim), embed_dim=int(emb.output_dim),
            mask_zero=bool(emb.mask_zero), trainable_embedding=bool(emb.trainable),
        )  # fmt: skip
    else:
        kw["features"] = int(input_shape[-1])
    kw.update(embedding_dropout=parts.embedding_dropout, pool=parts.pool)
    if parts.head is None:
        kw["head"] = "none"
    else:
        kw["classes"] = int(parts.head.units)
    inners = [_inner(lyr) for lyr in parts.recurrent]
    cells = {next(c.key for c in CELLS.values() if c.keras_class == _kind(i)) for i in inners}
    directions = {_kind(lyr) == "Bidirectional" for lyr in parts.recurrent}
    options = [_cell_options(i) for i in inners]
    if len(cells) != 1 or len(directions) != 1 or any(o != options[0] for o in options):
        raise ModelFileError(
            "the model mixes cell types, directions or cell options; lstmcli cannot describe it"
        )
    last_rs = bool(inners[-1].return_sequences) and parts.pool == "last"
    kw.update(
        cell=cells.pop(), units=tuple(int(i.units) for i in inners),
        bidirectional=directions.pop(), return_sequences=last_rs, **options[0],
    )  # fmt: skip
    try:
        return ModelSpec(**kw)
    except UsageError as exc:  # a hand-made model with options lstmcli does not offer
        raise ModelFileError(f"lstmcli cannot describe this model ({exc})") from None
