"""Pure arithmetic of a ``ModelSpec``: layer shapes, weight shapes, parameter formulas.

No TensorFlow here: ``lstmcli shapes`` and the summary rows come from these functions, and
``tests/test_keras_agreement.py`` holds them equal to what Keras builds.

>>> rows = layer_rows(ModelSpec())
>>> [(r.name, r.output_shape, r.params) for r in rows]
[('embedding', (None, 500, 32), 320000), ('lstm', (None, 32), 8320), ('dense', (None, 1), 33)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmcli.model.cells import CELLS
from lstmcli.model.spec import ModelSpec

Shape = tuple[int | None, ...]
BYTES_PER_PARAM = 4  # float32 weights


@dataclass(frozen=True)
class Weight:
    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class LayerRow:
    """One layer as the summary table shows it."""

    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    weights: tuple[Weight, ...]
    params: int
    formula: str
    trainable: bool = True
    macs: int = 0  # multiply-adds per sample, one forward pass


@dataclass(frozen=True)
class ModelTotals:
    total_params: int
    trainable_params: int
    non_trainable_params: int
    param_bytes: int
    macs_per_sample: int


@dataclass
class Summary:
    """What ``lstmcli summary`` shows: rows, totals and Keras's own count when it was computed."""

    spec: ModelSpec
    layers: list[LayerRow]
    totals: ModelTotals
    keras_params: int | None = None
    source: str = "flags"
    notes: list[str] = field(default_factory=list)

    @property
    def agrees_with_keras(self) -> bool | None:
        if self.keras_params is None:
            return None
        return self.keras_params == self.totals.total_params


# Keras's automatic name of each extra layer (the build passes these names explicitly).
DROPOUT_NAME = "spatial_dropout1d"
POOL_NAMES = {"max": "global_max_pooling1d", "mean": "global_average_pooling1d"}
# Keras's GlobalMaxPooling1D ignores masks, and its GlobalAveragePooling1D divides 0 by 0 for
# a text with no words; lstmcli's masked versions (backend/layers.py) pool unmasked steps only.
POOL_TYPES = {"max": "MaskedGlobalMaxPooling1D", "mean": "MaskedGlobalAveragePooling1D"}
CONCAT_NAME = "concatenate"


def pool_kinds(spec: ModelSpec) -> list[str]:
    """The pooling layers, in the order they are built and concatenated."""
    return [] if spec.pool == "last" else spec.pool.split("+")


def layer_names(spec: ModelSpec) -> list[str]:
    """Keras's own automatic names for a freshly built model, in order (Input excluded)."""
    names = ["embedding"] if spec.token_input else []
    names += [DROPOUT_NAME] if spec.embedding_dropout else []
    base = "bidirectional" if spec.bidirectional else spec.cell
    names += [base if i == 0 else f"{base}_{i}" for i in range(spec.stacked)]
    pools = pool_kinds(spec)
    names += [POOL_NAMES[p] for p in pools] + ([CONCAT_NAME] if len(pools) > 1 else [])
    return names + (["dense"] if spec.head == "dense" else [])


def recurrent_formula(cell: str, h: int, x: int, use_bias: bool = True) -> tuple[str, int]:
    """Parameter formula of one direction of one recurrent layer, numbers filled in."""
    return CELLS[cell].formula(h, x, use_bias)


def recurrent_weights(
    cell: str, h: int, x: int, prefix: str = "", use_bias: bool = True
) -> tuple[Weight, ...]:
    facts = CELLS[cell]
    g, bias = facts.gates, facts.bias_shape(h)
    weights = (
        Weight(f"{prefix}kernel", (x, g * h)),
        Weight(f"{prefix}recurrent_kernel", (h, g * h)),
    )
    return weights + ((Weight(f"{prefix}bias", bias),) if use_bias else ())


def layer_rows(spec: ModelSpec) -> list[LayerRow]:
    names = iter(layer_names(spec))
    rows: list[LayerRow] = []
    if spec.token_input:
        rows.append(_embedding_row(spec, next(names)))
        x = spec.embed_dim
    else:
        x = spec.features or 0
    if spec.embedding_dropout:
        rows.append(_no_weights(next(names), "SpatialDropout1D", (None, spec.seq_len, x)))
    for i, h in enumerate(spec.units):
        rows.append(_recurrent_row(spec, next(names), i, h, x))
        x = (2 if spec.bidirectional else 1) * h
    pools = pool_kinds(spec)
    for kind in pools:
        rows.append(_no_weights(next(names), POOL_TYPES[kind], (None, spec.seq_len, x), (None, x)))
    if len(pools) > 1:
        x *= len(pools)
        rows.append(_no_weights(next(names), "Concatenate", (None, x // 2), (None, x)))
    if spec.head == "dense":
        rows.append(_head_row(spec, next(names), x))
    return rows


def _no_weights(name: str, type_name: str, shape: Shape, out: Shape | None = None) -> LayerRow:
    """A layer with no weights (dropout, pooling, concatenation): 0 parameters."""
    return LayerRow(name, type_name, shape, out or shape, (), 0, "0")


def _embedding_row(spec: ModelSpec, name: str) -> LayerRow:
    t, v, e = spec.seq_len, spec.vocab, spec.embed_dim
    return LayerRow(
        name=name, type="Embedding", input_shape=(None, t), output_shape=(None, t, e),
        weights=(Weight("embeddings", (v, e)),), params=v * e, formula=f"{v}·{e} = {v * e:,}",
        trainable=spec.trainable_embedding,
    )  # fmt: skip


def _recurrent_row(spec: ModelSpec, name: str, i: int, h: int, x: int) -> LayerRow:
    t, cell, bias = spec.seq_len, CELLS[spec.cell], spec.use_bias
    last = i == spec.stacked - 1
    sequences = not last or spec.return_sequences or spec.pool != "last"
    directions = 2 if spec.bidirectional else 1
    formula, n = recurrent_formula(spec.cell, h, x, bias)
    if spec.bidirectional:
        weights = recurrent_weights(spec.cell, h, x, "forward_", bias)
        weights += recurrent_weights(spec.cell, h, x, "backward_", bias)
        formula, n = f"2·({formula})", 2 * n
        type_name = f"Bidirectional({cell.keras_class})"
    else:
        weights, type_name = recurrent_weights(spec.cell, h, x, use_bias=bias), cell.keras_class
    out = directions * h
    return LayerRow(
        name=name, type=type_name, input_shape=(None, t, x),
        output_shape=(None, t, out) if sequences else (None, out), weights=weights, params=n,
        formula=f"{formula} = {n:,}", macs=directions * t * cell.gates * h * (h + x),
    )  # fmt: skip


def _head_row(spec: ModelSpec, name: str, x: int) -> LayerRow:
    t, k, seq = spec.seq_len, spec.classes, spec.return_sequences
    return LayerRow(
        name=name, type="Dense", input_shape=(None, t, x) if seq else (None, x),
        output_shape=(None, t, k) if seq else (None, k),
        weights=(Weight("kernel", (x, k)), Weight("bias", (k,))), params=x * k + k,
        formula=f"{x}·{k}+{k} = {x * k + k:,}", macs=(t if seq else 1) * x * k,
    )  # fmt: skip


def totals(rows: list[LayerRow]) -> ModelTotals:
    total = sum(r.params for r in rows)
    trainable = sum(r.params for r in rows if r.trainable)
    return ModelTotals(
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        param_bytes=total * BYTES_PER_PARAM,
        macs_per_sample=sum(r.macs for r in rows),
    )


def summarize(spec: ModelSpec, keras_params: int | None = None, source: str = "flags") -> Summary:
    rows = layer_rows(spec)
    return Summary(
        spec=spec, layers=rows, totals=totals(rows), keras_params=keras_params, source=source
    )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.2f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
