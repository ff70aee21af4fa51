"""A model does not depend on where its padding went: front-padded and end-padded masked
batches predict the same, and the end-padded layout is exactly what cuDNN accepts.

On a GPU, training and prediction pad masked texts at the end (``backend/device.layout``),
because Keras's cuDNN LSTM/GRU refuse any other mask (``_assert_valid_mask`` in
keras/src/backend/tensorflow/rnn.py); on the CPU they pad in front. These tests run on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmcli.data.batching import bucket_lengths, plan_batches
from lstmcli.data.textpipe import Encoded, pad_batch
from lstmcli.data.vcache import VectorSplit
from lstmcli.model.spec import ModelSpec
from lstmcli.train.batches import make_dataset, stack_plans
from tests.helpers import make_model

SPECS = {
    "lstm": ModelSpec(cell="lstm", units=(6,)),
    "gru": ModelSpec(cell="gru", units=(6,)),
    "simplernn": ModelSpec(cell="simplernn", units=(6,)),
    "stacked": ModelSpec(cell="lstm", units=(6, 5, 4)),
    "bidirectional": ModelSpec(cell="gru", units=(5, 4), bidirectional=True),
    "bidirectional-simplernn": ModelSpec(cell="simplernn", units=(5,), bidirectional=True),
}
COMMON = {"vocab": 40, "embed_dim": 7, "seq_len": 24, "mask_zero": True}


def texts(n: int = 19, seed: int = 0) -> Encoded:
    """Ragged token ids of every length from 0 (a text of punctuation only) to seq_len."""
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([[0, 1, 24], rng.integers(1, 25, size=n - 3)])
    return Encoded.from_rows([rng.integers(1, 40, size=k).astype(np.int32) for k in lengths])


@pytest.mark.parametrize("name", list(SPECS))
def test_front_and_end_padding_predict_the_same(name: str) -> None:
    spec = SPECS[name].replace(**COMMON)
    model = make_model(spec, scale=1.0)  # weights large enough that every step matters
    enc = texts()
    rows = np.arange(len(enc))
    front = model(pad_batch(enc, rows, 24, "front"), training=False).numpy()
    end = model(pad_batch(enc, rows, 24, "end"), training=False).numpy()
    longer = model(pad_batch(enc, rows, 40, "end"), training=False).numpy()
    assert front.std() > 0.01  # the rows really differ: the comparison is not trivial
    np.testing.assert_allclose(end, front, atol=1e-5, rtol=0)
    np.testing.assert_allclose(longer, front, atol=1e-5, rtol=0)


def test_end_layout_gives_the_mask_cudnn_demands() -> None:
    import tensorflow as tf
    from keras.src.backend.tensorflow.rnn import _assert_valid_mask

    model = make_model(SPECS["lstm"].replace(**COMMON))
    enc, rows = texts(), np.arange(19)
    embedding = model.get_layer("embedding")
    end_mask = embedding.compute_mask(tf.constant(pad_batch(enc, rows, 24, "end")))
    m = end_mask.numpy()
    counts = m.sum(axis=1)
    assert (counts >= 1).all()  # no fully masked row (the empty text reads as one [UNK])
    assert (m == (np.arange(24)[None, :] < counts[:, None])).all()  # True…True then False…False
    _assert_valid_mask(end_mask)  # Keras's own check passes…
    front_mask = embedding.compute_mask(tf.constant(pad_batch(enc, rows, 24, "front")))
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded"):
        _assert_valid_mask(front_mask)  # …and refuses what the CPU layout gives


@pytest.mark.parametrize("layout", ["front", "end"])
def test_tf_data_batches_equal_the_numpy_layout(layout: str) -> None:
    """The training pipeline (ragged gather in tf.data) builds, batch for batch, what
    ``pad_batch`` builds, in the order of the seeded batch plan."""
    enc = texts(37, seed=3)
    labels = np.arange(37) % 2
    plan = plan_batches(enc.lengths, 8, bucket_lengths(24), np.random.default_rng(5))
    index, lengths = stack_plans([plan], 8)
    ds = make_dataset(VectorSplit(enc, labels), ModelSpec(**COMMON), index, lengths, layout)
    got = list(ds.as_numpy_iterator())
    assert len(got) == len(plan) == ds.cardinality().numpy()
    for (x, y), batch in zip(got, plan, strict=True):
        np.testing.assert_array_equal(x, pad_batch(enc, batch.index, batch.length, layout))
        np.testing.assert_array_equal(y[:, 0], labels[batch.index].astype("float32"))


def test_tf_data_pipeline_has_no_autotuning_thread() -> None:
    """Deleting an iterator whose autotuner is asleep waits for it to wake, up to 60 s in
    TensorFlow 2.21 (bench/tfdata_teardown.py measures it): the training pipeline runs
    without one, with fixed parallelism instead."""
    enc = texts(12, seed=4)
    plan = plan_batches(enc.lengths, 4, bucket_lengths(24), np.random.default_rng(0))
    index, lengths = stack_plans([plan], 4)
    ds = make_dataset(VectorSplit(enc, np.zeros(12)), ModelSpec(**COMMON), index, lengths, "front")
    assert ds.options().autotune.enabled is False
    assert len(list(ds.as_numpy_iterator())) == len(plan)


@pytest.mark.slow
def test_training_with_the_gpu_layout_gives_the_same_model(tmp_path) -> None:
    """The GPU path's batches (end padding, no XLA), run here on the CPU, train the same
    weights as the CPU path's (front padding), epoch for epoch and batch for batch."""
    from lstmcli.data.request import DataRequest
    from lstmcli.train.config import TrainConfig
    from lstmcli.train.distribute import Cluster
    from lstmcli.train.runner import run_training

    spec = ModelSpec(cell="gru", units=(6,), vocab=300, embed_dim=6, seq_len=40, mask_zero=True)
    req = DataRequest(name_or_path="sample", seed=0, limit=300, eval_limit=100)
    cfg = TrainConfig(epochs=2, batch_size=16, xla=False, optimizer="adam", lr=0.01)
    runs = {}
    for gpu in (False, True):
        cluster = Cluster(gpu=gpu)
        assert cluster.layout(spec) == ("end" if gpu else "front")
        out = run_training(req, spec, cfg, tmp_path / str(gpu), cluster=cluster, use_cache=False)
        runs[gpu] = (out, make_model_weights(tmp_path / str(gpu)))
    (front, w_front), (end, w_end) = runs[False], runs[True]
    assert [r["val_loss"] for r in end.state.history] == pytest.approx(
        [r["val_loss"] for r in front.state.history], abs=1e-5
    )
    for a, b in zip(w_front, w_end, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def make_model_weights(run) -> list[np.ndarray]:
    from lstmcli.backend.modelfile import load_model

    return load_model(run / "model.keras").get_weights()
