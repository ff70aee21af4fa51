"""Skip-gram pretraining: pair generation, training on toy and real text, the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmcli.cli.main import app
from lstmcli.core.errors import DataError, UsageError
from lstmcli.embed.pretrain import PretrainSettings, keep_probability, pretrain, skipgram_pairs
from lstmcli.embed.vectors import WordVectors, nearest, read_vectors
from tests.helpers import toy_corpus

runner = CliRunner()


def test_pairs_stay_inside_texts_and_window() -> None:
    ids = np.arange(10, 20, dtype=np.int32)  # token value = 10 + position
    text_of = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    c, x = skipgram_pairs(ids, text_of, window=1, rng=np.random.default_rng(0))
    got = sorted(zip(c.tolist(), x.tolist(), strict=True))
    want = []
    for a, b in [(10, 11), (11, 12), (12, 13), (14, 15), (15, 16), (17, 18), (18, 19)]:
        want += [(a, b), (b, a)]
    assert got == sorted(want)  # both directions, never across texts (13-14, 16-17)


def test_pairs_dynamic_window() -> None:
    rng = np.random.default_rng(0)
    ids = np.arange(20000, dtype=np.int32)
    c, x = skipgram_pairs(ids, np.zeros(len(ids), int), window=4, rng=rng)
    dist = np.abs(c.astype(int) - x.astype(int))
    assert dist.min() == 1 and dist.max() == 4
    share = np.bincount(dist)[1:] / np.bincount(dist)[1]
    np.testing.assert_allclose(share, [1, 0.75, 0.5, 0.25], atol=0.03)  # (W - d + 1) / W


def test_subsampling_keeps_rare_words() -> None:
    counts = np.array([0, 5000, 10, 1, 100_000])
    p = keep_probability(counts, 1e-3)
    assert p[0] == 0 and p[2] == 1 and p[3] == 1
    assert 0 < p[4] < p[1] < 1
    assert np.all(keep_probability(counts, 0)[1:] == 1)


def test_bad_settings() -> None:
    with pytest.raises(UsageError, match="--method"):
        pretrain(["a b"], PretrainSettings(method="cbow"))
    with pytest.raises(UsageError, match="--window"):
        pretrain(["a b"], PretrainSettings(window=0))
    with pytest.raises(DataError, match="no texts"):
        pretrain([], PretrainSettings())


def test_toy_topics_are_learned() -> None:
    calls: list[tuple[int, int, dict]] = []
    settings = PretrainSettings(dim=8, epochs=4, window=2, subsample=0, batch_size=512, seed=3)
    result = pretrain(toy_corpus(), settings, lambda d, t, logs: calls.append((d, t, logs)))
    assert result.vocabulary[:2] == ["", "[UNK]"] and len(result.vocabulary) == 12
    assert result.vectors.shape == (12, 8) and result.vectors.dtype == np.float32
    np.testing.assert_array_equal(result.vectors[0], 0.0)
    assert result.tokens == 600 * 20 and result.pairs > 0 and result.texts == 600
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    wv = WordVectors(result.vocabulary, result.vectors, "toy")
    fruit = {"apple", "banana", "cherry", "grape", "mango"}
    assert {w for w, _ in nearest(wv, "apple", 4)} == fruit - {"apple"}
    assert {w for w, _ in nearest(wv, "bus", 4)} == {"car", "truck", "train", "bike"}
    training = [c for c in calls if c[2]["phase"] == "training"]
    assert calls[0][2]["phase"] == "vocabulary"
    assert [c[0] for c in training] == sorted(c[0] for c in training)
    assert training[-1][0] == training[-1][1] == 600 * 4


def test_save_writes_vec_without_padding(tmp_path: Path) -> None:
    result = pretrain(toy_corpus(100), PretrainSettings(dim=4, epochs=1, subsample=0))
    result.save(tmp_path / "toy.vec")
    back = read_vectors(tmp_path / "toy.vec")
    assert back.words == result.vocabulary[1:]
    np.testing.assert_allclose(back.matrix, result.vectors[1:], rtol=1e-5, atol=1e-7)


def test_pretrain_cli_on_sample(tmp_path: Path) -> None:
    out = tmp_path / "sample.vec"
    args = ["pretrain", "sample", "-o", str(out), "--dim", "16", "--epochs", "2"]
    result = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "× 16 dimensions" in result.stdout and str(out) in result.stdout
    assert "nearest words" in result.stdout
    vectors = read_vectors(out)
    assert vectors.dim == 16 and "[UNK]" in vectors.words and len(vectors.words) > 50
    # Refuses to overwrite, then does with --overwrite (and --json is valid JSON).
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "exists; pass --overwrite" in again.stderr
    again = runner.invoke(app, [*args, "--overwrite", "--json", "--limit", "100"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["dim"] == 16 and data["texts"] == 100 and data["output"] == str(out)
    # The vectors line up with a vocabulary by text, and neighbors reads them.
    from lstmcli.embed.vectors import embedding_matrix

    init = embedding_matrix(out, ["", "[UNK]", *vectors.words[1:6], "notaword"], 16)
    assert init.found == 6 and init.total == 7
    word = vectors.words[1]
    assert runner.invoke(app, ["neighbors", str(out), word, "-k", "3"]).exit_code == 0


def test_pretrain_cli_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pretrain", "sample", "-o", str(tmp_path), "--epochs", "1"])
    assert result.exit_code == 2 and "is a folder" in result.stderr
    result = runner.invoke(app, ["pretrain", "nosuchset", "-o", str(tmp_path / "x.vec")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]  # after the "reading ... texts" stage line
    assert last.startswith("lstmcli: no dataset named nosuchset")
    result = runner.invoke(app, ["pretrain", "sample", "-o", "x.vec", "--method", "glove"])
    assert result.exit_code == 2 and "--method" in result.stderr


POSITIVE = {
    "great",
    "excellent",
    "wonderful",
    "fantastic",
    "amazing",
    "superb",
    "brilliant",
    "good",
    "terrific",
    "outstanding",
    "awesome",
    "fine",
    "perfect",
    "best",
    "nice",
}
NEGATIVE = {
    "bad",
    "awful",
    "terrible",
    "horrible",
    "worst",
    "poor",
    "lame",
    "stupid",
    "crap",
    "dull",
    "pathetic",
    "horrid",
    "dreadful",
    "boring",
    "lousy",
    "crappy",
    "waste",
}


@pytest.mark.imdb
@pytest.mark.slow
def test_imdb_unlabelled_neighbours(imdb_archive: Path) -> None:
    """~1 minute: 4,000 unlabelled reviews, 3 epochs; sentiment words find their kind."""
    from lstmcli.data.imdb import locate_imdb, read_parts

    # Read the archive in place (read_unlabelled would unpack 400 MB into the test's home).
    parts, _ = read_parts(locate_imdb(imdb_archive, unpack=False), ["train/unsup"])
    texts = parts["train/unsup"]
    assert len(texts) == 50_000
    rng = np.random.default_rng(0)
    sample = [texts[int(i)] for i in rng.permutation(len(texts))[:4000]]
    settings = PretrainSettings(dim=32, vocab=5000, epochs=3, subsample=1e-3, seed=0)
    result = pretrain(sample, settings)
    wv = WordVectors(result.vocabulary, result.vectors, "imdb")

    def top20(word: str) -> set[str]:
        return {w for w, _ in nearest(wv, word, 20)}

    # Seen (seed 0): great → fantastic, brilliant, wonderful, fine, excellent, superb, ...;
    # excellent → outstanding, terrific, superb, ...; terrible → horrible, bad, awful, ...
    assert len(top20("great") & POSITIVE) >= 3, top20("great")
    assert len(top20("excellent") & POSITIVE) >= 3, top20("excellent")
    assert len(top20("terrible") & NEGATIVE) >= 2, top20("terrible")
    assert len(top20("bad") & NEGATIVE) >= 2, top20("bad")
