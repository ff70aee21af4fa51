"""``lstmcli shapes``: walk a batch through the model and say what each tensor is and why.

Pure arithmetic (no TensorFlow) unless ``--check`` asks Keras to confirm each shape.

>>> walk = explain(ModelSpec(features=16, seq_len=8, units=(32, 32, 32), classes=10))
>>> [s.row.output_shape for s in walk.steps]
[(None, 8, 32), (None, 8, 32), (None, 32), (None, 10)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmcli.model.arith import LayerRow, Shape, layer_rows
from lstmcli.model.cells import CELLS
from lstmcli.model.spec import ModelSpec


@dataclass(frozen=True)
class Tensor:
    symbol: str
    shape: Shape
    meaning: str


@dataclass
class ShapeStep:
    row: LayerRow
    what: str
    why: str = ""
    timestep: tuple[Tensor, ...] = ()
    equations: tuple[str, ...] = ()
    confirmed: bool | None = None  # set by --check
    keras_shape: Shape | None = None


@dataclass
class ShapeWalk:
    spec: ModelSpec
    batch: int | None
    input: Tensor
    steps: list[ShapeStep]
    notes: list[str] = field(default_factory=list)
    checked: bool = False


def _recurrent_step(spec: ModelSpec, row: LayerRow, index: int) -> ShapeStep:
    h = (row.output_shape[-1] or 0) // (2 if spec.bidirectional else 1)
    x = row.input_shape[-1]
    cell = CELLS[spec.cell]
    g = cell.gates
    tensors = [
        Tensor("x_t", (None, x), "this timestep's slice of the input"),
        Tensor("h_{t-1}", (None, h), "hidden state from the previous step"),
    ]
    if spec.cell == "lstm":
        tensors.append(Tensor("c_{t-1}", (None, h), "cell state (the conveyor belt)"))
    tensors += [
        Tensor("W", (x, g * h), f"kernel, {g} blocks side by side"),
        Tensor("U", (h, g * h), "recurrent kernel"),
        Tensor("z", (None, g * h), f"pre-activations, split into {cell.letters}"),
        Tensor("h_t", (None, h), "new hidden state"),
    ]
    last = index == spec.stacked - 1
    t = spec.seq_len
    if row.output_shape == (None, t, row.output_shape[-1]):
        why = "return_sequences=True: every h_t is kept, " + (
            "because the next recurrent layer needs a sequence"
            if not last
            else f"because --pool {spec.pool} reads every step"
            if spec.pool != "last"
            else "because the head is applied at every timestep"
            if spec.head == "dense"
            else "and the model ends here (--head none)"
        )
    else:
        why = "return_sequences=False: only the last state h_T is passed on"
    if spec.bidirectional:
        why += f"; Bidirectional runs a second copy backwards and concatenates: 2·{h} = {2 * h}"
    return ShapeStep(
        row=row,
        what=f"reads the sequence one timestep at a time, carrying a state of {h} numbers",
        why=why,
        timestep=tuple(tensors),
        equations=equations(spec),
    )


def equations(spec: ModelSpec) -> tuple[str, ...]:
    """The cell's equations with this spec's activations; a line saying when there is no b."""
    cell = CELLS[spec.cell]
    out = []
    for line in cell.equations:
        if spec.activation != "tanh":
            line = line.replace("tanh(", f"{spec.activation}(")
        if spec.recurrent_activation != "sigmoid":
            line = line.replace("σ(", f"{spec.recurrent_activation}(")
        out.append(line)
    if not spec.use_bias:
        out.append("use_bias=False: no bias b (every b above is 0, and not a weight)")
    return tuple(out)


def _plain_step(spec: ModelSpec, row: LayerRow) -> ShapeStep:
    """The layers without weights: embedding dropout, pooling, concatenation."""
    d = row.input_shape[-1]
    steps = "the unmasked steps" if spec.mask_zero else "all T steps"
    what, why = {
        "SpatialDropout1D": (
            f"while training, drops whole embedding channels (rate {spec.embedding_dropout:g})",
            "the same channels for every word of a text; identity at prediction time",
        ),
        "MaskedGlobalMaxPooling1D": (
            f"for each of the {d} features, the largest value over {steps}",
            "max pooling: a feature that fired anywhere in the text counts",
        ),
        "MaskedGlobalAveragePooling1D": (
            f"for each of the {d} features, the mean over {steps}",
            "mean pooling: every step contributes equally",
        ),
        "Concatenate": (
            f"[max ‖ mean] side by side: {d} + {d} = {2 * d}",
            "the head reads both pooled vectors",
        ),
    }[row.type]
    return ShapeStep(row=row, what=what, why=why)


def explain(spec: ModelSpec, batch: int | None = None) -> ShapeWalk:
    rows = layer_rows(spec)
    t = spec.seq_len
    steps: list[ShapeStep] = []
    notes: list[str] = []
    if spec.token_input:
        inp = Tensor("token ids", (None, t), f"integers in [0, {spec.vocab}); 0 is padding")
        notes.append(
            "Padding: shorter texts are padded with 0 at the front, so the last state h_T comes "
            "right after the last real word; padded at the end, an unmasked LSTM reads hundreds "
            "of padding steps after the review and forgets it."
            + (
                " --mask-zero skips padded steps entirely."
                if spec.mask_zero
                else " --mask-zero would skip padded steps entirely."
            )
        )
        if spec.truncate != "pre":
            kept = (
                f"its first {t} tokens"
                if spec.truncate == "post"
                else "its first {} and its last {} tokens".format(*spec.head_tail)
            )
            notes.append(f"Truncation (--truncate {spec.truncate}): a text longer than {t} "
                         f"tokens keeps {kept}.")  # fmt: skip
    else:
        inp = Tensor(
            "vectors", (None, t, spec.features), f"{t} timesteps of {spec.features} numbers"
        )
    recurrent_index = 0
    for row in rows:
        if row.type == "Embedding":
            steps.append(
                ShapeStep(
                    row=row,
                    what=f"each index becomes a vector of {spec.embed_dim} numbers "
                    f"(a row of the {spec.vocab}×{spec.embed_dim} table)",
                    why="a lookup, not a multiplication: no multiply-adds",
                )
            )
        elif not row.weights:
            steps.append(_plain_step(spec, row))
        elif row.type == "Dense":
            act = spec.head_activation
            per = (
                "at every timestep"
                if spec.return_sequences
                else "on the final state"
                if spec.pool == "last"
                else f"on the {spec.pool} pooled vector"
            )
            meaning = (
                "P(positive)" if spec.classes == 1 else f"probabilities over {spec.classes} classes"
            )
            steps.append(ShapeStep(row=row, what=f"{act} head applied {per}", why=meaning))
        else:
            steps.append(_recurrent_step(spec, row, recurrent_index))
            recurrent_index += 1
    return ShapeWalk(spec=spec, batch=batch, input=inp, steps=steps, notes=notes)
