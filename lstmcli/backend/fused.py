"""A faster training graph over the same weights: the recurrence in one loop, pooling inside it.

A Keras recurrent layer that returns its whole sequence (into the next layer of a stack, or
into max/mean pooling) stores every step's output in a TensorArray, and under XLA on a CPU
the backward pass through that array costs as much again as the recurrence itself
(``bench/step_cost.py``: an LSTM returning its sequence into mean pooling takes 2.1x the
training step of one returning its last state; three stacked LSTMs 5.8x one). The
sequence is not needed when all that follows is the next layer's step or a running max and
sum, so this graph runs

- the layers of a one-way stack as one ``keras.layers.StackedRNNCells`` (layer ``i`` at step
  ``t`` reads layer ``i-1`` at step ``t``, exactly as the stack does), and
- max and mean pooling as two more states of the top layer's loop (a running max and sum
  over the unmasked steps; the mean divides by the number of unmasked steps),

calling the model's own cells and layers, so its variables are the model's, in the model's
order (checked: ``training_model`` returns None otherwise). It is what ``fit`` runs, and
what a one-way model predicts with on a CPU (``inference_model``: validation, ``evaluate``,
``predict``); saved models, summaries and inspection keep the layer-by-layer model,
whose predictions this graph equals to float rounding (``tests/test_fused.py``). Masked
steps leave every state as it was, as they leave the stacked layers' states and outputs.

A Bi-LSTM's lower layers stay as they are (each needs the whole sequence of the other
direction); its top layer runs both directions in one loop, pooled or not (two LSTM cells
without dropout as one batched step: ``backend/lstm_pair.py``). A one-way model with one
layer returning its last state gains nothing and is left alone.
"""

from __future__ import annotations

import functools
from typing import Any

from lstmcli.backend.lstm_pair import (
    lstm_pair_step,
    plain_lstm,
    pool_initial,
    pool_step,
    split_pair,
    stack_weights,
)
from lstmcli.backend.tf import keras
from lstmcli.model.arith import layer_names, pool_kinds
from lstmcli.model.spec import ModelSpec


def fusable(spec: ModelSpec) -> bool:
    """Whether ``training_model`` has a faster graph for this spec."""
    if spec.return_sequences:
        return False
    return spec.pool != "last" or spec.bidirectional or spec.stacked > 1


def training_model(model: Any, spec: ModelSpec) -> Any | None:
    """A ``keras.Model`` over ``model``'s layers and variables with the fused recurrence, or
    None when the spec gains nothing from one (or the variables would not line up)."""
    if not fusable(spec):
        return None
    k = keras()
    names = layer_names(spec)
    first = 1 if spec.token_input else 0
    first += 1 if spec.embedding_dropout else 0
    recurrent = [model.get_layer(n) for n in names[first : first + spec.stacked]]
    inputs = k.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
    x = inputs
    for name in names[:first]:
        x = model.get_layer(name)(x)
    if spec.bidirectional:
        for layer in recurrent[:-1]:
            x = layer(x)
        top = recurrent[-1]
        cells = [[top.forward_layer.cell], [top.backward_layer.cell]]
    else:
        cells = [[layer.cell for layer in recurrent]]
    x = _layer_class()(cells, pool_kinds(spec), name="fused_recurrence")(x)
    if spec.head == "dense":
        x = model.get_layer(names[-1])(x)
    fused = k.Model(inputs, x, name=f"{model.name}_fused")
    ours, theirs = fused.variables, model.variables
    if len(ours) != len(theirs) or any(a is not b for a, b in zip(ours, theirs, strict=True)):
        return None  # a Keras whose variable order differs: train the model as built
    return fused


def inference_model(model: Any, spec: ModelSpec, gpu: bool = False) -> Any:
    """The graph to predict with (no XLA) on a CPU: a lone LSTM or Bi-LSTM with its input
    product folded into a table (``backend/folded.py``, 1.4-1.5x faster); a one-way stack or
    pooled model as the fused loop, which predicts faster there too; anything else as built.
    Measured on 5,000 reviews of IMDB-like lengths, exact-length batches, 2 cores: 3 stacked
    LSTMs 1.33x, 2 stacked 1.17x, an LSTM into mean pooling 1.1-1.6x faster; a pooled or
    stacked Bi-LSTM 1.2-1.3x *slower* without XLA (one loop of a batched step costs more ops
    than two plain ones), so it keeps its layers, as does any model on a GPU (cuDNN)."""
    from lstmcli.backend.folded import foldable, folded_model

    if gpu:
        return model
    if foldable(spec):
        return folded_model(model, spec)
    if spec.bidirectional:
        return model
    return training_model(model, spec) or model


@functools.cache
def _layer_class() -> Any:
    """The fused layer's class, made on first use (TensorFlow is imported inside only)."""
    pool_states = _pool_states_class()
    return _fused_class(pool_states, _both_ways_class())


def _pool_states_class() -> Any:
    k = keras()

    class PoolStates(k.layers.Layer):
        """A 'cell' on top of a stack: passes its input on and keeps a running sum and max."""

        def __init__(self, width: int, pools: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.width, self.pools = width, pools
            self.state_size = [width] * len(pools)
            self.output_size = width

        def build(self, input_shape: Any) -> None:
            self.built = True

        def get_initial_state(self, batch_size: Any = None) -> list[Any]:
            return pool_initial(self.pools, self.width, batch_size)

        def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
            new = [pool_step(p, s, inputs) for p, s in zip(self.pools, states, strict=True)]
            return inputs, new

    return PoolStates


def _both_ways_class() -> Any:
    k = keras()
    ops = k.ops

    class BothWays(k.layers.Layer):
        """A Bi-LSTM's top layer as one 'cell': each step advances the forward cell on step t
        and the backward cell on step T-1-t (inputs carry both, with their masks), and keeps
        each direction's pooling states. One loop instead of two halves the per-step overhead,
        which is most of the cost of a small recurrent step on a CPU. Masked steps leave a
        direction's states as they were, as Keras's masked RNN does."""

        def __init__(
            self, fwd: Any, bwd: Any, width_in: int, pools: list[str], **kwargs: Any
        ) -> None:
            super().__init__(**kwargs)
            self.fwd, self.bwd, self.width_in, self.pools = fwd, bwd, width_in, pools
            self.n = len(_sizes(fwd))
            one = [*_sizes(fwd), *[fwd.units] * len(pools)]
            self.state_size = one + one
            self.output_size = fwd.units
            # Two LSTM cells without dropout advance as one batched step (backend/lstm_pair.py);
            # their weights, stacked once per batch outside the loop, are put here.
            self.batched = all(plain_lstm(c) for c in (fwd, bwd))
            object.__setattr__(self, "stacked", {})

        def build(self, input_shape: Any) -> None:
            self.built = True

        def get_initial_state(self, batch_size: Any = None) -> list[Any]:
            one = [ops.zeros((batch_size, d)) for d in _sizes(self.fwd)]
            one += pool_initial(self.pools, self.fwd.units, batch_size)
            return one + one

        def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
            if self.batched:
                return lstm_pair_step(self, inputs, states)
            half = len(self.state_size) // 2
            xf, keep_f, xb, keep_b = split_pair(inputs, self.width_in)
            parts = [(xf, keep_f, self.fwd, states[:half]), (xb, keep_b, self.bwd, states[half:])]
            new, first = [], None
            for x, keep, cell, old in parts:
                out, rec = cell(x, list(old[: self.n]), training=training)
                rec = list(rec) if isinstance(rec, (list, tuple)) else [rec]
                new += [ops.where(keep, r, o) for r, o in zip(rec, old[: self.n], strict=True)]
                for p, s in zip(self.pools, old[self.n :], strict=True):
                    new.append(ops.where(keep, pool_step(p, s, out), s))
                first = out if first is None else first
            return first, new

    return BothWays


def _fused_class(pool_states: Any, both_ways: Any) -> Any:
    k = keras()
    ops = k.ops

    class FusedRecurrence(k.layers.Layer):
        """The top of the recurrence in one loop; returns the top layer's last output, or
        its pooled statistics in the order the layer-by-layer model concatenates them."""

        def __init__(self, cells: list[list[Any]], pools: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.supports_masking = True
            self.pools = pools
            # Tracked first, so that the variables come in the layer-by-layer model's order.
            self.cells = [stack[0] for stack in cells] if len(cells) == 2 else cells[0]
            if len(cells) == 2:
                fwd, bwd = cells[0][0], cells[1][0]
                self.both = both_ways(fwd, bwd, fwd.kernel.shape[0], pools)
                self.loop = k.layers.RNN(self.both, return_state=True)
            else:
                self.both = None
                width = cells[0][-1].units
                stacked = [*cells[0], pool_states(width, pools)] if pools else cells[0]
                self.loop = k.layers.RNN(k.layers.StackedRNNCells(stacked), return_state=True)

        def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
            return None

        def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
            b, t = ops.shape(inputs)[0], ops.shape(inputs)[1]
            keep = (
                ops.ones((b, t), dtype=inputs.dtype)
                if mask is None
                else ops.cast(mask, inputs.dtype)
            )
            count = ops.sum(keep, axis=1, keepdims=True)
            if self.both is None:
                end = self.loop(inputs, mask=mask, training=training)
                tops = [_states(end)] if self.pools else [end[0]]
            else:
                tops = _both_ways(self.loop, self.both, inputs, keep, training)
            if not self.pools:
                return ops.concatenate(tops, axis=-1) if len(tops) > 1 else tops[0]
            return _pooled(self.pools, tops, count)

    return FusedRecurrence


def _sizes(cell: Any) -> list[int]:
    """A cell's state widths as a list (an LSTM has two states, a GRU or SimpleRNN one)."""
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def _states(end: list[Any]) -> list[Any]:
    """The pooling states among what a ``return_state`` RNN returned: the last cell's."""
    pooled = end[-1]
    return list(pooled) if isinstance(pooled, (list, tuple)) else [pooled]


def _pooled(pools: list[str], tops: list[list[Any]], count: Any) -> Any:
    """Max and mean from each direction's running states, concatenated as the layer-by-layer
    model does: [max fwd, max bwd, mean fwd, mean bwd]."""
    ops = keras().ops
    out = []
    for i, kind in enumerate(pools):
        stats = [top[i] for top in tops]
        if kind == "mean":
            out += [s / ops.maximum(count, 1.0) for s in stats]
        else:  # no unmasked step: 0, as the layer-by-layer model's max pooling
            out += [ops.where(count > 0, s, ops.zeros_like(s)) for s in stats]
    return ops.concatenate(out, axis=-1) if len(out) > 1 else out[0]


def _both_ways(loop: Any, both: Any, inputs: Any, keep: Any, training: Any) -> list[Any]:
    """Run the two directions in one loop: each direction's last output, or pooling states."""
    ops = keras().ops
    keep = ops.expand_dims(keep, -1)
    z = ops.concatenate([inputs, keep, ops.flip(inputs, axis=1), ops.flip(keep, axis=1)], axis=-1)
    if both.batched:  # both directions' weights as one [2, ...] stack, once per batch
        both.stacked.update(stack_weights(both.fwd, both.bwd))
    if training:  # the cells' dropout masks, drawn once per batch as Keras's RNN does
        for cell in (both.fwd, both.bwd):
            cell.get_dropout_mask(inputs[:, 0, :])
            cell.get_recurrent_dropout_mask(ops.zeros((ops.shape(inputs)[0], cell.units)))
    try:
        end = loop(z, training=training)
    finally:
        for cell in (both.fwd, both.bwd):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
    states, half, n = end[1:], len(both.state_size) // 2, both.n
    if not both.pools:
        return [states[0], states[half]]
    return [states[n:half], states[half + n :]]
