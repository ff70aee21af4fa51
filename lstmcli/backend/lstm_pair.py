"""A Bi-LSTM's two directions as one batched step: the fused graph's fastest path.

``backend/fused.py`` runs a Bi-LSTM's top layer as one loop whose step advances the forward
cell on step t and the backward cell on step T-1-t. When both are plain LSTM cells (no
dropout), that step is written out here as products over a leading axis of 2 (forward,
backward) on the two cells' weights stacked once per batch: two matrix products a step
instead of four, and each gate's arithmetic once instead of twice. Per-step overhead is most
of the cost of a small recurrent step on a CPU, so this is 1.87x the layer-by-layer training
step of a 32-unit Bi-LSTM (bench/step_cost.py). tests/test_fused.py holds its predictions and
gradients equal to Keras's own cells.
"""

from __future__ import annotations

from typing import Any

from lstmcli.backend.tf import keras


def pool_step(kind: str, state: Any, out: Any) -> Any:
    """A pooling state after one more step's output: a running sum (mean) or max."""
    return state + out if kind == "mean" else keras().ops.maximum(state, out)


def pool_initial(pools: list[str], width: int, batch_size: Any) -> list[Any]:
    """Pooling states before the first step: a sum of 0 (mean), a max of -inf."""
    ops = keras().ops
    shape = (batch_size, width)
    return [ops.zeros(shape) if p == "mean" else ops.full(shape, -float("inf")) for p in pools]


def split_pair(inputs: Any, d: int) -> tuple[Any, Any, Any, Any]:
    """A two-direction step's input [x_t, mask_t, x_(T-1-t), mask_(T-1-t)] (``d``: the width
    of x) as (forward x, forward keep, backward x, backward keep); keep is True where unmasked."""
    return (inputs[:, :d], inputs[:, d : d + 1] > 0.5,
            inputs[:, d + 1 : 2 * d + 1], inputs[:, 2 * d + 1 :] > 0.5)  # fmt: skip


def stack_weights(fwd: Any, bwd: Any) -> dict[str, Any]:
    """The two cells' kernels, recurrent kernels and biases (None without bias), stacked."""
    ops = keras().ops
    cells = (fwd, bwd)
    return {
        "kernel": ops.stack([c.kernel.value for c in cells]),
        "recurrent": ops.stack([c.recurrent_kernel.value for c in cells]),
        "bias": ops.stack([c.bias.value for c in cells])[:, None, :] if fwd.use_bias else None,
    }


def plain_lstm(cell: Any) -> bool:
    """An LSTM cell whose step ``lstm_pair_step`` computes exactly: no dropout of either kind."""
    return type(cell).__name__ == "LSTMCell" and not cell.dropout and not cell.recurrent_dropout


def lstm_pair_step(both: Any, inputs: Any, states: list[Any]) -> Any:
    """One step of both directions' LSTM cells as batched products over a leading axis of 2
    (forward, backward): two products a step instead of four, and every gate's arithmetic
    once. Keras's LSTMCell step, written out: z = x·W + h·U + b, split into i, f, c̃, o in that
    order; c' = σ(f)·c + σ(i)·tanh(c̃); h' = σ(o)·tanh(c') (σ and tanh: the cell's recurrent
    activation and activation). A masked step keeps the direction's states."""
    ops = keras().ops
    half = len(states) // 2
    xf, keep_f, xb, keep_b = split_pair(inputs, both.width_in)
    x, keep = ops.stack([xf, xb]), ops.stack([keep_f, keep_b])
    h, c = ops.stack([states[0], states[half]]), ops.stack([states[1], states[half + 1]])
    w = both.stacked
    z = ops.matmul(x, w["kernel"]) + ops.matmul(h, w["recurrent"])
    if w["bias"] is not None:
        z = z + w["bias"]
    i, f, cc, o = ops.split(z, 4, axis=-1)
    act, rec = both.fwd.activation, both.fwd.recurrent_activation
    c_new = rec(f) * c + rec(i) * act(cc)
    h_new = rec(o) * act(c_new)
    out = h_new
    h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
    new = [[h_new[j], c_new[j]] for j in range(2)]
    for p, k in zip(both.pools, range(2, half), strict=True):
        old = ops.stack([states[k], states[half + k]])
        step = ops.where(keep, pool_step(p, old, out), old)
        new[0].append(step[0])
        new[1].append(step[1])
    return out[0], new[0] + new[1]
