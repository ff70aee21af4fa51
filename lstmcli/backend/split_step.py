"""A leaner training step for one CPU: the batch's gradient in parts, on the cores at once.

Keras's own step (``model.compile(jit_compile=True)``) is one XLA program that reads the
variables, runs forward and backward and applies the optimizer. On a CPU that program runs
on one core, and a recurrent step at batch 32 is too small for XLA to spread over two.
This step is three XLA programs called from one traced (not compiled) step:

- ``part``: forward and backward over some rows of the batch, on the variables' *values*
  (``model.stateless_call``), returning the summed loss, the predictions and the gradients;
- the step cuts the batch into ``parts`` pieces (rows ``n·i//parts`` on) and calls ``part``
  on each: the calls do not depend on each other, so TensorFlow runs them at the same time
  on its intra-op threads (one XLA program per thread);
- ``apply``: the optimizer on the gradients summed over the parts and divided by the batch
  size, which is the gradient of the batch's mean loss, as in Keras's step.

The embedding's gradient stays sparse (``tf.IndexedSlices``: one row per token, the parts'
rows concatenated), so the optimizer sees what Keras's step gives it and updates the
embedding the same way (Keras's RMSprop keeps a sparse gradient's squares per token before
summing them, which a dense gradient would not). ``tests/test_split_step.py`` holds the
weights after several steps equal to Keras's step to float rounding, for one-way, stacked,
pooled and bidirectional models, GRU and SimpleRNN.

Measured (``python bench/split_step.py lstm bilstm``: batch 32, a quarter of the rows padded,
this 2-core machine, one run; Keras's step → two parts): the lecture LSTM 9.96 → 8.43 ms at
128 steps, 17.0 → 12.8 ms at 256, 38.0 → 22.2 ms at 500 (1.18×, 1.33×, 1.71×); a Bi-LSTM
15.9 → 13.3, 27.3 → 21.8, 53.2 → 40.1 ms (1.19×, 1.25×, 1.33×). In one part the LSTM's step
is faster than Keras's too (1.07–1.48×: Keras's one program costs more per time step past
~400 steps), the Bi-LSTM's slower (0.72–0.96×), so ``train`` uses the step only where there
are two cores or more.

Used for a single CPU device with XLA, when every update the step makes is the optimizer's:
not with dropout (each part would draw the same random masks), weight regularisers
(``model.losses``) or a Keras without the loss tracker this step reports to. Anything else
keeps Keras's step (``install`` returns False). ``--no-split-step`` turns it off.
"""

from __future__ import annotations

import itertools
from typing import Any

from lstmcli.backend.tf import keras, tensorflow

MAX_PARTS = 2  # measured on 2 cores only; more parts would each be smaller still


def parts_for(cores: int) -> int:
    """How many parts a batch is cut into on a machine with ``cores`` usable cores."""
    return max(1, min(MAX_PARTS, cores))


def install(model: Any, classes: int, parts: int) -> bool:
    """Make ``fit`` train the just-compiled ``model`` (its loss: binary cross-entropy for one
    class, else sparse categorical) with this step; False (and the model left as it was)
    where the step would not equal Keras's."""
    if model.losses or not hasattr(model, "_loss_tracker") or model.optimizer is None:
        return False
    tf, k = tensorflow(), keras()
    if classes == 1:
        loss_fn = k.losses.BinaryCrossentropy(reduction="sum")
    else:
        loss_fn = k.losses.SparseCategoricalCrossentropy(reduction="sum")
    # The outer step is traced, not compiled: only a traced graph runs the parts at once.
    model.jit_compile = False
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    part = tf.function(_part_fn(model, loss_fn), jit_compile=True)
    apply = tf.function(_apply_fn(model), jit_compile=True)
    model.train_step = _step_fn(model, part, apply, parts)
    return True


def _part_fn(model: Any, loss_fn: Any) -> Any:
    tf = tensorflow()

    def part(values: list[Any], fixed: list[Any], x: Any, y: Any) -> tuple[Any, Any, Any]:
        """Summed loss, predictions and gradients of some rows (variables as values)."""
        with tf.GradientTape() as tape:
            tape.watch(values)
            y_pred, _ = model.stateless_call(values, fixed, x, training=True)
            total = loss_fn(y, y_pred)
        grads = tape.gradient(total, values)
        return [g if isinstance(g, tf.IndexedSlices) else tf.convert_to_tensor(g)
                for g in grads], total, y_pred  # fmt: skip

    return part


def _apply_fn(model: Any) -> Any:
    def apply(grads: list[Any]) -> None:
        model.optimizer.apply(grads, model.trainable_variables)

    return apply


def _mean(grads: list[Any], n: Any) -> Any:
    """The parts' gradients of one variable, summed and divided by the batch size ``n``."""
    tf = tensorflow()
    if isinstance(grads[0], tf.IndexedSlices):
        values = tf.concat([g.values for g in grads], 0) / n
        return tf.IndexedSlices(
            values, tf.concat([g.indices for g in grads], 0), grads[0].dense_shape
        )
    return tf.add_n(grads) / n


def _step_fn(model: Any, part: Any, apply: Any, parts: int) -> Any:
    tf = tensorflow()

    def train_step(data: Any) -> Any:
        x, y = data[0], data[1]
        n = tf.shape(x)[0]
        # Values read once, before any part runs: every part sees the same weights.
        values = [tf.identity(v.value) for v in model.trainable_variables]
        fixed = [tf.identity(v.value) for v in model.non_trainable_variables]
        cuts = [n * i // parts for i in range(parts + 1)]
        outs = [part(values, fixed, x[a:b], y[a:b]) for a, b in itertools.pairwise(cuts)]
        size = tf.cast(n, "float32")
        apply([_mean([o[0][i] for o in outs], size) for i in range(len(values))])
        model._loss_tracker.update_state(tf.add_n([o[1] for o in outs]) / size, sample_weight=n)
        y_pred = tf.concat([o[2] for o in outs], 0)
        return model.compute_metrics(x, y, y_pred, sample_weight=None)

    return train_step
