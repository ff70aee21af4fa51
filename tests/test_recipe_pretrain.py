"""A recipe's [pretrain] table: parsed and checked, and ``train --recipe`` learning skip-gram
vectors first (cached per data, settings and seed) and starting the embedding from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import invoke

from lstmcli.core.errors import UsageError
from lstmcli.train.recipes import parse_recipe

RECIPE = """
[model]
units = 4
embed-dim = 8
vocab = 300
seq-len = 40
pool = "max"

[train]
optimizer = "adam"
epochs = 1

[pretrain]
epochs = 1
window = 2
fine-tune = true
"""


def test_pretrain_table_is_parsed() -> None:
    recipe = parse_recipe("r", "r.toml", RECIPE)
    assert recipe.pretrain == {"epochs": 1, "window": 2, "fine_tune": True}
    assert parse_recipe("r", "r.toml", "[model]\nunits = 4\n").pretrain is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[pretrain]\ndim = 64\n", "unknown [pretrain] key 'dim'; allowed: vocab, epochs"),
        ("[pretrain]\nfine-tune = 1\n", "[pretrain] fine-tune = 1 has the wrong type"),
        ("[pretrain]\nepochs = true\n", "[pretrain] epochs = True has the wrong type"),
        ("[pretrain]\nepochs = 0\n", "[pretrain] epochs = 0 must be above 0"),
        ("[pretraining]\nepochs = 1\n", "may hold only [model], [train] and [pretrain] tables"),
    ],
)
def test_bad_pretrain_tables(table: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_recipe("r", "r.toml", table)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_subsample_zero_is_allowed() -> None:
    assert parse_recipe("r", "r.toml", "[pretrain]\nsubsample = 0\n").pretrain == {"subsample": 0}


@pytest.mark.slow
def test_train_pretrains_then_reuses_the_vectors(tmp_path: Path, isolated_home: Path) -> None:
    recipe = tmp_path / "small.toml"
    recipe.write_text(RECIPE)
    flags = ["--recipe", str(recipe), "--limit", "200", "--eval-limit", "60", "--no-xla"]
    first = invoke(["train", "sample", *flags, "--output", tmp_path / "a"])
    assert first.exit_code == 0, first.output
    assert "pretraining 8-wide word vectors on 1,600 texts (skip-gram)" in first.output
    cached = list((isolated_home / "vectors").glob("sample-8d-seed0-*.vec"))
    assert len(cached) == 1
    assert cached[0].read_text().splitlines()[0].split()[1] == "8"  # word2vec header: N 8
    info = json.loads((tmp_path / "a" / "spec.json").read_text())
    assert info["embedding"]["from"] == str(cached[0])
    assert info["model"]["trainable_embedding"] is True  # fine-tune = true

    second = invoke(["train", "sample", *flags, "--freeze-embedding", "-o", tmp_path / "b"])
    assert second.exit_code == 0, second.output
    assert "from the cache" in second.output and "pretraining 8-wide" not in second.output
    info = json.loads((tmp_path / "b" / "spec.json").read_text())
    assert info["model"]["trainable_embedding"] is False  # the flag beats the table

    other_seed = invoke(["train", "sample", *flags, "--seed", "1", "-o", tmp_path / "c"])
    assert other_seed.exit_code == 0, other_seed.output
    assert len(list((isolated_home / "vectors").glob("sample-8d-seed*.vec"))) == 2


def test_embedding_from_replaces_the_recipe_pretraining(tmp_path: Path) -> None:
    """--embedding-from given: the recipe's [pretrain] is not run (checked before training)."""
    recipe = tmp_path / "small.toml"
    recipe.write_text(RECIPE)
    missing = tmp_path / "nosuch.vec"
    result = invoke(["train", "sample", "--recipe", str(recipe), "--embedding-from", missing])
    assert result.exit_code != 0
    assert "pretraining" not in result.output
    assert str(missing) in result.output


def test_val_split_in_a_recipe() -> None:
    from lstmcli.cli.recipe_flags import given_flags

    recipe = parse_recipe("r", "r.toml", "[train]\nval-split = 0.1\n")
    assert recipe.data == {"val_split": 0.1} and recipe.train == {}
    assert "data.val_split" in given_flags(None, {}, recipe)  # checked by --resume
    for bad in ("1.5", "0.0", '"0.1"'):
        with pytest.raises(UsageError, match="val-split"):
            parse_recipe("r", "r.toml", f"[train]\nval-split = {bad}\n")
