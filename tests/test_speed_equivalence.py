"""The speed-ups change nothing the model computes: bucketing and the vectorised cache give
the same predictions as the plain padded-to-T model, and a stale cache is rebuilt."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import numpy as np
import pytest

from lstmcli.backend.build import build_model
from lstmcli.data.batching import bucket_lengths, plan_batches
from lstmcli.data.prepare import vectorize
from lstmcli.data.request import DataRequest
from lstmcli.data.textpipe import Encoded, pad_front
from lstmcli.model.spec import ModelSpec
from lstmcli.train.predictor import Speed, forward_fn, predict_encoded


def ragged(rng: np.random.Generator, n: int, vocab: int, max_len: int) -> Encoded:
    lengths = rng.integers(1, max_len + 1, n)
    ids = rng.integers(2, vocab, lengths.sum()).astype(np.int32)
    return Encoded(ids, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def test_plan_covers_every_row_once() -> None:
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 500, 1000)
    plan = plan_batches(lengths, 32, bucket_lengths(500), np.random.default_rng(0))
    seen = np.concatenate([b.index for b in plan])
    assert sorted(seen.tolist()) == list(range(1000))
    assert all(lengths[b.index].max() <= b.length for b in plan)
    assert sum(len(b.index) < 32 for b in plan) <= 1  # only the last batch may be short
    assert len({b.length for b in plan}) <= len(bucket_lengths(500))


def test_bucket_lengths_grow_by_at_most_half_up_to_any_seq_len() -> None:
    """The lecture's T = 500 keeps its eight lengths; a longer T gets lengths of its own on
    the way up, so a review of 400 words pads to 512, not to T = 1000."""
    assert bucket_lengths(500) == [32, 64, 96, 128, 192, 256, 384, 500]
    assert bucket_lengths(1000) == [32, 64, 96, 128, 192, 256, 384, 512, 768, 1000]
    assert bucket_lengths(4000)[-3:] == [1536, 2048, 4000]
    for t in (40, 500, 1000, 2000, 5000):
        edges = bucket_lengths(t)
        assert edges[-1] == t and edges == sorted(set(edges))
        inner = edges[1:-1]  # from 64 on, without T itself
        assert all(b <= 2048 and b / a <= 1.5 for a, b in itertools.pairwise(inner))
    assert bucket_lengths(1000, enabled=False) == [1000]


def test_bucketed_predictions_equal_padded_to_full_length() -> None:
    for cell, bi in (("lstm", False), ("gru", True), ("simplernn", False)):
        spec = ModelSpec(cell=cell, bidirectional=bi, units=(6, 5), vocab=50, embed_dim=4,
                         seq_len=40, mask_zero=True)  # fmt: skip
        model = build_model(spec, variable_length=True, seed=3)
        enc = ragged(np.random.default_rng(0), 70, 50, 40)
        bucketed, _ = predict_encoded(model, enc, 40, Speed(bucketing=True, eval_batch_size=16))
        plain = np.asarray(model(pad_front([enc.row(i) for i in range(len(enc))], 40)))
        np.testing.assert_allclose(bucketed, plain, atol=1e-5)
        unbucketed, _ = predict_encoded(model, enc, 40, Speed(bucketing=False, eval_batch_size=7))
        np.testing.assert_allclose(unbucketed, plain, atol=1e-5)


def test_inference_pass_is_traced_once_for_every_bucket() -> None:
    """Parallel bucketed batches of many lengths share one traced graph (no retracing, and
    none of TensorFlow's retracing warnings in the middle of `train` or `evaluate`)."""
    spec = ModelSpec(units=(4,), vocab=50, embed_dim=3, seq_len=300, mask_zero=True)
    model = build_model(spec, variable_length=True, seed=0)
    forward = forward_fn(model)
    enc = ragged(np.random.default_rng(2), 200, 50, 300)
    predict_encoded(model, enc, 300, Speed(bucketing=True, eval_batch_size=8), forward)
    assert forward.experimental_get_tracing_count() == 1


def write_csv(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    good, bad = ["great", "superb", "fun"], ["awful", "dull", "boring"]
    lines = ["text,label"]
    for i in range(n):
        words = [*rng.choice(good if i % 2 else bad, 4).tolist(), "movie", "plot"]
        lines.append(f"{' '.join(words)},{'pos' if i % 2 else 'neg'}")
    path.write_text("\n".join(lines) + "\n")


def test_cache_hit_then_stale_cache_rebuilt(tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    write_csv(data, 60, 0)
    req = DataRequest(name_or_path=str(data))
    first = vectorize(req, vocab=100, seq_len=20)
    second = vectorize(req, vocab=100, seq_len=20)
    assert not first.from_cache and second.from_cache
    assert second.vocabulary == first.vocabulary
    np.testing.assert_array_equal(second.train.enc.ids, first.train.enc.ids)
    np.testing.assert_array_equal(second.val.labels, first.val.labels)
    # other settings → another entry
    assert not vectorize(req, vocab=50, seq_len=20).from_cache
    # the data changes → the entry is stale and rebuilt
    time.sleep(0.01)
    write_csv(data, 80, 1)
    os.utime(data, (time.time() + 5, time.time() + 5))
    third = vectorize(req, vocab=100, seq_len=20)
    assert not third.from_cache
    assert len(third.train) + len(third.val) == 80


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    from lstmcli.core import paths

    data = tmp_path / "reviews.csv"
    write_csv(data, 40, 0)
    req = DataRequest(name_or_path=str(data))
    vectorize(req, vocab=100, seq_len=20)
    for entry in paths.vector_cache_dir().glob("*.npz"):
        entry.write_bytes(b"garbage")
    assert not vectorize(req, vocab=100, seq_len=20).from_cache


def test_random_training_batches_use_one_length_fitted_to_the_data() -> None:
    from lstmcli.data.vcache import VectorSplit
    from lstmcli.train.batches import epoch_plan
    from lstmcli.train.config import TrainConfig

    rng = np.random.default_rng(3)
    short = VectorSplit(ragged(rng, 100, 50, 40), np.zeros(100, np.int64))
    longest = int(short.enc.lengths.max())
    plan = epoch_plan(short, TrainConfig(batch_size=8, batching="random"), seq_len=500, epoch=0)
    # Random batches (no length grouping), all padded to the smallest bucket ≥ the longest text.
    assert {b.length for b in plan} == {min(e for e in bucket_lengths(500) if e >= longest)}
    assert sorted(np.concatenate([b.index for b in plan]).tolist()) == list(range(100))
    lengths_per_batch = [short.enc.lengths[b.index] for b in plan]
    assert np.std([x.mean() for x in lengths_per_batch]) > 0  # mixed, not sorted by length
    bucketed = epoch_plan(short, TrainConfig(batch_size=8, bucketing=True), 500, 0)
    assert len({b.length for b in bucketed}) > 1


def test_long_texts_keep_their_end_like_pad_sequences() -> None:
    """Texts longer than seq_len keep their last tokens (Keras pad_sequences' default), so a
    review's closing verdict is what the final state has just read."""
    from lstmcli.data.textpipe import encode

    vocabulary = ["", "[UNK]", "a", "b", "c", "d", "e"]
    enc = encode(["a b c d e", "b c"], vocabulary, seq_len=3)
    assert enc.row(0).tolist() == [4, 5, 6]  # c d e
    assert enc.row(1).tolist() == [3, 4]
    padded = pad_front([np.array([2, 3, 4, 5]), np.array([6])], 3)
    assert padded.tolist() == [[3, 4, 5], [0, 0, 6]]


def test_sortish_batches_are_short_shuffled_and_reproducible() -> None:
    from lstmcli.data.batching import padded_steps, sortish_batches
    from lstmcli.data.vcache import VectorSplit
    from lstmcli.train.batches import epoch_plan
    from lstmcli.train.config import TrainConfig

    rng = np.random.default_rng(5)
    split = VectorSplit(ragged(rng, 1000, 50, 500), np.zeros(1000, np.int64))
    lengths = split.enc.lengths
    cfg = TrainConfig(batch_size=16, batching="sortish", seed=2)
    plan = epoch_plan(split, cfg, seq_len=500, epoch=1)
    edges = bucket_lengths(500)
    assert sorted(np.concatenate([b.index for b in plan]).tolist()) == list(range(1000))
    for b in plan:  # each batch padded to the smallest bucket that holds its longest text
        longest = min(int(lengths[b.index].max()), 500)
        assert b.length == min(e for e in edges if e >= longest)
    # Far less padding than one padded length for all, yet the batch order is mixed.
    random = epoch_plan(split, TrainConfig(batch_size=16, seed=2, batching="random"), 500, 1)
    assert padded_steps(plan) < 0.7 * padded_steps(random)
    means = [lengths[b.index].mean() for b in plan]
    assert not (np.all(np.diff(means) <= 0) or np.all(np.diff(means) >= 0))
    # The same seed and epoch give the same plan (resume relies on it); another epoch differs.
    again = epoch_plan(split, cfg, 500, 1)
    assert all(np.array_equal(a.index, b.index) for a, b in zip(plan, again, strict=True))
    other = epoch_plan(split, cfg, 500, 2)
    assert not all(np.array_equal(a.index, b.index) for a, b in zip(plan, other, strict=False))
    small = sortish_batches(lengths[:10], 4, edges, np.random.default_rng(0))
    assert [len(b.index) for b in small].count(2) == 1  # only one short batch per chunk end


def test_batching_flag_is_checked_and_bucketing_still_works() -> None:
    from lstmcli.core.errors import UsageError
    from lstmcli.train.config import TrainConfig

    assert TrainConfig().batching == "sortish"  # the default (README: Speed)
    assert TrainConfig(bucketing=True).batching == "bucket"
    with pytest.raises(UsageError, match="--batching: 'sorted' is not one of"):
        TrainConfig(batching="sorted")


def test_inference_pads_each_batch_to_its_own_longest_text_without_xla() -> None:
    from lstmcli.data.batching import padded_steps
    from lstmcli.train.predictor import Speed, eval_lengths

    enc = ragged(np.random.default_rng(0), 300, 50, 500)
    exact = plan_batches(enc.lengths, 32, eval_lengths(enc, 500, Speed(True, False, 32)))
    for b in exact[:-1]:  # every batch but the carried remainder: no padding beyond its longest
        assert b.length == int(enc.lengths[b.index].max())
    fixed = plan_batches(enc.lengths, 32, eval_lengths(enc, 500, Speed(True, True, 32)))
    assert {b.length for b in fixed} <= set(bucket_lengths(500))  # XLA: a few compiled shapes
    assert padded_steps(exact) < padded_steps(fixed)
