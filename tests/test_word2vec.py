"""gensim's word2vec as ``pretrain --method word2vec``: the same vocabulary and file as the
TensorFlow skip-gram, topics learnt on toy text, the same vectors for the same seed on one
thread, the CLI and recipe keys, and the one line when gensim is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmcli.cli.main import app
from lstmcli.core.errors import UsageError
from lstmcli.data.textpipe import encode
from lstmcli.embed import word2vec
from lstmcli.embed.pretrain import pretrain
from lstmcli.embed.settings import PretrainSettings
from lstmcli.embed.vectors import WordVectors, nearest, read_vectors
from tests.helpers import toy_corpus

pytest.importorskip("gensim")
runner = CliRunner()


def test_word_lists_are_the_encoded_texts_as_words_without_the_unknown_word() -> None:
    vocabulary = ["", "[UNK]", "b", "a"]
    enc = encode(["a b zz", "b", "a a"], vocabulary, 100)
    got = word2vec.word_lists(enc, vocabulary)
    assert got == [["a", "b"], ["b"], ["a", "a"]]  # the unknown "zz" dropped, as word2vec does
    enc = encode(["zz", "a zz b", "", "zz zz"], vocabulary, 100)
    assert word2vec.word_lists(enc, vocabulary) == [[], ["a", "b"], [], []]


def test_toy_topics_are_learned_and_the_progress_counts_epochs() -> None:
    calls: list[tuple[int, int, dict]] = []
    s = PretrainSettings(method="word2vec", dim=8, epochs=5, window=2, subsample=0, seed=3)
    result = pretrain(toy_corpus(), s, lambda d, t, logs: calls.append((d, t, logs)))
    assert result.vocabulary[:2] == ["", "[UNK]"] and len(result.vocabulary) == 12
    assert result.vectors.shape == (12, 8) and result.vectors.dtype == np.float32
    np.testing.assert_array_equal(result.vectors[0], 0.0)
    assert result.pairs is None and result.loss is None and result.tokens == 600 * 20
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5]
    wv = WordVectors(result.vocabulary, result.vectors, "toy")
    assert {w for w, _ in nearest(wv, "apple", 4)} == {"banana", "cherry", "grape", "mango"}
    assert {w for w, _ in nearest(wv, "bus", 4)} == {"car", "truck", "train", "bike"}
    training = [c for c in calls if c[2]["phase"] == "training"]
    assert training[-1][0] == training[-1][1] == 600 * 5
    assert s.lr == 0.025 and PretrainSettings().lr == 0.05


SAME_SEED_SCRIPT = """
import json, sys
import numpy as np
from lstmcli.data.textpipe import adapt_vocabulary, encode
from lstmcli.embed import word2vec
from lstmcli.embed.settings import PretrainSettings
texts, fields = json.loads(sys.argv[1])
s = PretrainSettings(**fields)
vocabulary = adapt_vocabulary(texts, s.vocab)
enc = encode(texts, vocabulary, 1000)
counts = np.bincount(enc.ids, minlength=len(vocabulary))
vectors, _ = word2vec.train_word2vec(enc, vocabulary, counts, s, 1, lambda *a: None)
print(json.dumps(vectors.tolist()))
"""


def test_one_thread_and_one_seed_give_the_same_vectors_in_every_process() -> None:
    """gensim seeds a word's first vector from a hash of the word; Python's own str hash is
    salted per process (PYTHONHASHSEED), so word2vec.py gives a fixed one."""
    fields = {"method": "word2vec", "dim": 6, "epochs": 2, "window": 2, "subsample": 0, "seed": 5}
    arg = json.dumps([toy_corpus(80), fields])
    outs = []
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run([sys.executable, "-c", SAME_SEED_SCRIPT, arg], env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(np.array(json.loads(done.stdout)))
    assert outs[0].shape == (12, 6)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_pretrain_cli_word2vec_on_sample(tmp_path: Path) -> None:
    out = tmp_path / "w2v.vec"
    args = ["pretrain", "sample", "-o", str(out), "--dim", "16", "--method", "word2vec", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["settings"]["method"] == "word2vec" and data["pairs"] is None
    assert len(data["history"]) == 2 and data["neighbours"]
    vectors = read_vectors(out)
    assert vectors.dim == 16 and "[UNK]" in vectors.words and len(vectors.words) > 50
    table = runner.invoke(app, [*args[:-1], "--overwrite"], env={"COLUMNS": "140"})
    assert table.exit_code == 0, table.output
    assert "method word2vec (gensim)" in table.stdout and "learning rate 0.025" in table.stdout


def test_missing_gensim_is_one_line_naming_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gensim", None)
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    with pytest.raises(UsageError, match="--method word2vec needs the gensim package"):
        pretrain(["a b c", "b c d"], PretrainSettings(method="word2vec", dim=4, epochs=1))


def test_a_recipe_may_choose_the_method() -> None:
    from lstmcli.model.spec import ModelSpec
    from lstmcli.train.pretrained import pretrain_settings

    got = pretrain_settings({"method": "word2vec", "epochs": 5, "window": 5}, ModelSpec(), 1)
    assert (got.method, got.epochs, got.window, got.seed) == ("word2vec", 5, 5, 1)
    with pytest.raises(UsageError, match="--method"):
        pretrain_settings({"method": "glove"}, ModelSpec(), 0)
