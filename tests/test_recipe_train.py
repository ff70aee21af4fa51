"""``train --recipe`` end to end on the sample set: the recipe's settings, flags beside it
overriding them, and a pooled, head+tail model that evaluate, predict and inspect read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke

pytestmark = pytest.mark.slow

# Smaller than the recipe, so that it trains in seconds; the rest comes from strong.toml.
FLAGS = ["--units", "4", "--embed-dim", "8", "--vocab", "300", "--seq-len", "40",
         "--epochs", "1", "--batch-size", "32", "--limit", "120", "--eval-limit", "60",
         "--no-xla"]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recipe") / "run"
    result = invoke(["train", "sample", "--recipe", "strong", *FLAGS, "--output", folder])
    assert result.exit_code == 0, result.output
    assert "recipe strong (lstmcli/recipes/strong.toml)" in result.output
    return folder


def test_recipe_settings_and_overrides(run: Path) -> None:
    info = json.loads((run / "spec.json").read_text())
    model, train = info["model"], info["train"]
    # from the recipe
    assert (model["pool"], model["truncate"], model["bidirectional"]) == (
        "max+mean",
        "head+tail",
        True,
    )
    assert model["embedding_dropout"] == 0.3 and model["mask_zero"] is True
    assert (train["optimizer"], train["lr"], train["lr_schedule"], train["clipnorm"]) == (
        "adam",
        1e-3,
        "cosine",
        1.0,
    )
    # [pretrain]: skip-gram vectors learnt first, at the model's width, and fine-tuned
    assert model["trainable_embedding"] is True
    assert Path(info["embedding"]["from"]).name.startswith("sample-8d-seed0-")
    assert info["data"].get("val_by", "text") == "text"  # no films in sample: "film" reads as text
    # flags beside it win, even one equal to the flag's default (--batch-size 32; recipe: 64)
    assert (model["units"], model["embed_dim"], model["vocab"], model["seq_len"]) == (
        [4],
        8,
        300,
        40,
    )
    assert (train["epochs"], train["batch_size"]) == (1, 32)
    assert info["text"] == {"padding": "pre", "truncating": "head+tail", "head_tokens": 10,
                            "standardize": "lower, no <br />, no punctuation"}  # fmt: skip


def test_predict_reads_like_training(run: Path) -> None:
    """predict encodes with the run's truncation: its probability is the model on run.encode."""
    from lstmcli.data.textpipe import encode
    from lstmcli.rundir.folder import open_run

    text = " ".join(["a long and boring movie"] * 8 + ["but the ending was great fun"])
    result = invoke(["predict", run, text, "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["predictions"][0]["probabilities"]["pos"]
    opened = open_run(run)
    ids = opened.encode([text]).row(0)
    full = encode([text], opened.vocabulary, 1000).row(0)  # 46 tokens
    assert ids.tolist() == full[:10].tolist() + full[-30:].tolist()  # head+tail: 10 + 30
    want = float(np.asarray(opened.load_model()(ids[None]))[0, 0])
    assert got == pytest.approx(want, abs=1e-5)


def test_evaluate_and_inspect_read_the_run(run: Path) -> None:
    assert invoke(["evaluate", run, "--limit", "40"]).exit_code == 0
    result = invoke(["inspect", run, "A moving, beautifully acted film.", "--json"])
    assert result.exit_code == 0, result.output
