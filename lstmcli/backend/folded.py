"""Prediction with the embedding folded into an LSTM's input product: a lone LSTM or Bi-LSTM.

Keras's LSTM computes ``x_t·W + b`` again at every step, from the embedding row of token
``t``. That product depends on the token alone, so for prediction this graph computes it
once per distinct token of the batch (``rows·W + b``, one matrix product over the batch's
vocabulary) and each step only looks its row up: the loop is left with ``h·U``, the gates
and the lookup. A Bi-LSTM's two directions advance together, as one product over a leading
axis of 2 (forward, backward) on the two cells' weights stacked once per batch.

Masked steps (token 0) need no per-step mask either. Keras's masked LSTM leaves its states
as they were on a masked step, which is the same as leaving the step out; so each row's
tokens are moved behind its zeros, in order (and, for the backward direction, reversed
first). The states are then zero until a row's first token, and a zero state stays exactly
zero through a padding step when its input gate is shut: the padding token's row carries
-inf in the input gate's columns, so ``i = σ(-inf) = 0``, ``c' = f·0 + 0·g = 0`` and
``h' = o·tanh(0) = 0``. That holds for σ in {sigmoid, hard_sigmoid} and tanh-like
activations with ``act(0) = 0`` (``foldable`` checks the names).

``fused.inference_model`` predicts with this graph on a CPU (``evaluate``, ``predict``,
validation, the test split after training); its predictions equal the layer-by-layer
model's to float rounding (``tests/test_folded.py``). Measured on the 25,000 IMDB test
reviews, 2 cores, batches of 256-1,024 (``lstmcli evaluate``): a Bi-LSTM(32) 5,714-6,227 →
8,408-9,228 reviews/s, the lecture LSTM(32) 10,215-11,597 → 15,581-17,748.
"""

from __future__ import annotations

import functools
from typing import Any

from lstmcli.backend.tf import keras, tensorflow
from lstmcli.model.arith import layer_names
from lstmcli.model.spec import ModelSpec

# σ(-inf) = 0 shuts the input gate of a padding step; act(0) = 0 keeps h' = o·act(0) = 0.
GATES = ("sigmoid", "hard_sigmoid")
ACTIVATIONS = ("tanh", "relu", "linear", "softsign")


def foldable(spec: ModelSpec) -> bool:
    """Whether ``folded_model`` stands for this spec: token ids into one LSTM layer (either
    way) whose last state goes to the head."""
    return (
        spec.token_input
        and spec.cell == "lstm"
        and spec.stacked == 1
        and spec.pool == "last"
        and not spec.return_sequences
        and spec.recurrent_activation in GATES
        and spec.activation in ACTIVATIONS
    )


def folded_model(model: Any, spec: ModelSpec) -> Any:
    """A ``keras.Model`` over ``model``'s embedding, LSTM cells and head (the same variables)
    that predicts as ``model`` does, with the input product folded into a per-batch table."""
    k = keras()
    names = layer_names(spec)
    first = 1 + (1 if spec.embedding_dropout else 0)  # dropout is the identity in prediction
    embedding, recurrent = model.get_layer(names[0]), model.get_layer(names[first])
    if spec.bidirectional:
        cells = [recurrent.forward_layer.cell, recurrent.backward_layer.cell]
    else:
        cells = [recurrent.cell]
    inputs = k.Input(shape=model.inputs[0].shape[1:], dtype="int32")
    x = _layer_class()(embedding, cells, name="folded_lstm")(inputs)
    if spec.head == "dense":
        x = model.get_layer(names[-1])(x)
    return k.Model(inputs, x, name=f"{model.name}_folded")


def _behind_zeros(ids: Any) -> Any:
    """Each row's non-zero ids moved behind its zeros, in order (a stable sort on id != 0)."""
    tf = tensorflow()
    order = tf.argsort(tf.cast(ids != 0, tf.int32), axis=1, stable=True)
    return tf.gather(ids, order, batch_dims=1)


def _table(embedding: Any, cells: list[Any], ids: Any, masked: bool) -> tuple[Any, Any]:
    """``rows·W + b`` for each distinct id of ``ids`` (directions, B, T), stacked per
    direction: (directions, distinct, 4h), and each token's row in it (directions, B, T).
    With a mask, the padding id's input gate is shut (-inf)."""
    tf = tensorflow()
    distinct, where = tf.unique(tf.reshape(ids, [-1]))
    rows = tf.gather(embedding.embeddings.value, distinct)
    kernels = tf.stack([c.kernel.value for c in cells])
    table = tf.matmul(rows[None], kernels)
    if cells[0].use_bias:
        table = table + tf.stack([c.bias.value for c in cells])[:, None, :]
    if masked:
        h, n = cells[0].units, tf.size(distinct)
        shut = tf.where(tf.equal(distinct, 0)[:, None], float("-inf"), 0.0)
        shut = tf.concat(
            [tf.broadcast_to(shut, tf.stack([n, h])), tf.zeros(tf.stack([n, 3 * h]))], 1
        )
        table = table + shut[None]
    return table, tf.reshape(where, tf.shape(ids))


@functools.cache
def _layer_class() -> Any:
    """The folded layer's class, made on first use (TensorFlow is imported inside only)."""
    k = keras()

    class FoldedLSTM(k.layers.Layer):
        """Embedding and a lone LSTM (one cell, or a Bi-LSTM's two) in one loop: returns the
        last state, forward and backward concatenated as ``Bidirectional`` does."""

        def __init__(self, embedding: Any, cells: list[Any], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.embedding, self.cells = embedding, cells
            self.mask_zero = bool(embedding.mask_zero)  # what the predictor's layout reads

        def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
            return None

        def compute_output_shape(self, input_shape: Any) -> tuple[Any, int]:
            return (input_shape[0], self.cells[0].units * len(self.cells))

        def call(self, ids: Any) -> Any:
            tf = tensorflow()
            ids = tf.cast(ids, tf.int32)
            seqs = [ids, tf.reverse(ids, axis=[1])][: len(self.cells)]
            if self.mask_zero:
                seqs = [_behind_zeros(s) for s in seqs]
            table, where = _table(self.embedding, self.cells, tf.stack(seqs), self.mask_zero)
            return _run(self.cells, table, tf.transpose(where, [2, 0, 1]))

    return FoldedLSTM


def _run(cells: list[Any], table: Any, steps: Any) -> Any:
    """The recurrence over ``steps`` (T, directions, B): rows of ``table`` at each step."""
    tf = tensorflow()
    recurrent = tf.stack([c.recurrent_kernel.value for c in cells])
    act, gate = cells[0].activation, cells[0].recurrent_activation
    dirs, batch, units = len(cells), tf.shape(steps)[2], cells[0].units
    zero = tf.zeros(tf.stack([dirs, batch, units]))

    def step(t: Any, h: Any, c: Any) -> tuple[Any, Any, Any]:
        z = tf.gather(table, steps[t], batch_dims=1) + tf.matmul(h, recurrent)
        i, f, g, o = tf.split(z, 4, axis=-1)  # Keras's gate order
        c = gate(f) * c + gate(i) * act(g)
        return t + 1, gate(o) * act(c), c

    count = tf.shape(steps)[0]
    _, h, _ = tf.while_loop(lambda t, *_: t < count, step, (tf.constant(0), zero, zero))
    return tf.concat(tf.unstack(h, num=dirs), axis=-1) if dirs == 2 else h[0]
