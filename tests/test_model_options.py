"""The model options of issue 15 through the arithmetic, the text pipeline and the CLI:
--pool, --truncate/--head-tokens, --embedding-dropout, --no-bias, --activation,
--recurrent-activation, --no-unit-forget-bias, --head none; and recipes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import VOCAB, invoke

from lstmcli.core.errors import UsageError
from lstmcli.model.arith import summarize
from lstmcli.model.spec import ModelSpec
from lstmcli.train import recipes

SEED_004 = ["--features", "64", "--timesteps", "5", "--units", "128,256", "--head", "none"]
STRONG = [
    "--bidirectional", "--units", "64", "--embed-dim", "128", "--vocab", "20000",
    "--pool", "max+mean", "--truncate", "head+tail", "--embedding-dropout", "0.2",
]  # fmt: skip


def test_seed_004_example_golden(golden) -> None:
    """The seed's Keras example: LSTM(128, return_sequences=True) → LSTM(256), no head."""
    result = invoke(["summary", *SEED_004])
    assert result.exit_code == 0, result.output
    title = result.output.splitlines()[0].rstrip()
    assert title == "lstmcli model: input (5, 64) → LSTM(128) → LSTM(256)"
    assert "4·128·(128+64)+4·128" in result.output and "= 394,240" in result.output
    assert "Formula total 493,056 equals Keras count_params() 493,056" in result.output
    assert "dense" not in result.output
    golden("summary_seed004.out", result.output)


def test_no_bias_formula() -> None:
    rows = summarize(ModelSpec(features=64, seq_len=5, units=(128, 256), use_bias=False)).layers
    assert [r.formula for r in rows[:2]] == [
        "4·128·(128+64) = 98,304",
        "4·256·(256+128) = 393,216",
    ]
    assert [w.name for w in rows[0].weights] == ["kernel", "recurrent_kernel"]
    gru = summarize(ModelSpec(cell="gru", use_bias=False)).layers[1]
    assert gru.formula == "3·32·(32+32) = 6,144"


def test_pooling_rows_and_head_width() -> None:
    spec = ModelSpec(bidirectional=True, units=(64,), embed_dim=128, pool="max+mean",
                     embedding_dropout=0.2)  # fmt: skip
    rows = {r.name: r for r in summarize(spec).layers}
    assert list(rows) == ["embedding", "spatial_dropout1d", "bidirectional", "global_max_pooling1d",
                          "global_average_pooling1d", "concatenate", "dense"]  # fmt: skip
    assert rows["bidirectional"].output_shape == (None, 500, 128)  # returns sequences for pooling
    for name in ("spatial_dropout1d", "global_max_pooling1d", "concatenate"):
        assert rows[name].params == 0 and rows[name].weights == ()
    assert rows["global_max_pooling1d"].output_shape == (None, 128)
    assert rows["concatenate"].output_shape == (None, 256) == (None, spec.head_width)
    assert rows["dense"].formula == "256·1+1 = 257"
    assert summarize(spec.replace(pool="mean")).layers[-1].formula == "128·1+1 = 129"


def test_describe_names_the_options() -> None:
    spec = ModelSpec(units=(32,), truncate="head+tail", pool="max", use_bias=False,
                     recurrent_activation="hard_sigmoid", embedding_dropout=0.1)  # fmt: skip
    assert spec.describe() == (
        "Embedding(10000, 32) over 500 tokens (first 125 + last 375) → SpatialDropout1D(0.1) → "
        "LSTM(32, recurrent_activation=hard_sigmoid, use_bias=False) → max pooling → "
        "Dense(1, sigmoid)"
    )
    assert (
        ModelSpec(truncate="post", seq_len=80)
        .describe()
        .startswith("Embedding(10000, 32) over 80 tokens (first 80) → ")
    )
    assert (
        ModelSpec().describe()
        == "Embedding(10000, 32) over 500 tokens → LSTM(32) → Dense(1, sigmoid)"
    )


def test_shapes_walk_golden(golden) -> None:
    result = invoke(["shapes", *STRONG, "--mask-zero", "--no-bias", "--activation", "softsign"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "because --pool max+mean reads every step" in out
    assert "softsign(z_c)" in out and "h_t = o ⊙ softsign(c_t)" in out
    assert "use_bias=False" in out and "the unmasked steps" in out
    assert "keeps its first 125 and its last 375 tokens" in out
    golden("shapes_strong_options.out", out)


def test_shapes_json_and_check_with_keras() -> None:
    result = invoke(["shapes", *SEED_004, "--check", "--json"])
    data = json.loads(result.stdout)
    assert [layer["output_shape"] for layer in data["layers"]] == [[None, 5, 128], [None, 256]]
    assert all(layer["confirmed"] for layer in data["layers"])
    assert data["layers"][1]["why"].startswith("return_sequences=False: only the last state")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["summary", "--pool", "foo"], "--pool: 'foo' is not one of last, max, mean, max+mean"),
        (["summary", "--truncate", "head+tail", "--seq-len", "3"], "--seq-len 3 is too small"),
        (
            ["shapes", "--truncate", "head+tail", "--seq-len", "9", "--head-tokens", "9"],
            "--head-tokens 9: with --seq-len 9 keep 1 to 8",
        ),
        (["summary", "--activation", "nosuch"], "--activation: 'nosuch' is not one of tanh"),
        (["summary", "--recurrent-activation", "exec"], "--recurrent-activation: 'exec'"),
        (["summary", "--truncate", "middle"], "--truncate: 'middle' is not one of"),
        (["summary", "--head", "softmax"], "--head: 'softmax' is not one of dense, none"),
        (["summary", "--head-tokens", "5"], "--head-tokens needs --truncate head+tail"),
        (["summary", "--embedding-dropout", "1"], "--embedding-dropout: 1.0 is not allowed"),
        (["summary", "--features", "4", "--embedding-dropout", "0.1"], "needs token input"),
        (["summary", "--pool", "max", "--return-sequences"], "drop --return-sequences"),
        (["summary", "--cell", "gru", "--no-unit-forget-bias"], "has no forget gate"),
        (["summary", "--no-bias", "--no-unit-forget-bias"], "no bias to act on"),
        (["summary", "--cell", "simplernn", "--recurrent-activation", "relu"], "has no gates"),
        (["summary", "--head", "none", "--classes", "3"], "--classes 3 needs a head"),
        (["train", "sample", "--head", "none"], "--head none: train needs a classifier head"),
        (["train", "sample", "--recipe", "nosuch"], "no such recipe; available: strong"),
        (["train", "sample", "--pool", "foo"], "--pool: 'foo'"),
        (["train", "sample", "--clipnorm", "-1"], "--clipnorm: -1.0 is not allowed"),
        (["train", "sample", "--lr-schedule", "step"], "--lr-schedule: 'step' is not one of"),
    ],
)
def test_bad_values_one_line_exit_2(args: list[str], fragment: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- truncation


def reference_cut(row: list[int], t: int, how: str, k: int) -> list[int]:
    if len(row) <= t:
        return row
    return {"pre": row[-t:], "post": row[:t], "head+tail": row[:k] + row[len(row) - (t - k) :]}[how]


@pytest.mark.parametrize("how", ["pre", "post", "head+tail"])
def test_encode_keeps_the_chosen_tokens(how: str) -> None:
    from lstmcli.data.textpipe import encode

    words = VOCAB[2:]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=n)) for n in (0, 1, 3, 7, 8, 12, 30)]
    full = encode(texts, VOCAB, 1000)
    enc = encode(texts, VOCAB, 8, truncate=how, head_tokens=3)
    for i in range(len(texts)):
        want = reference_cut(full.row(i).tolist(), 8, how, 3)
        assert enc.row(i).tolist() == want, (how, texts[i])


def test_run_records_and_uses_its_truncation(tmp_path: Path) -> None:
    from helpers import make_run

    from lstmcli.core.errors import DataError
    from lstmcli.rundir.folder import open_run

    spec = ModelSpec(units=(3,), vocab=12, embed_dim=4, seq_len=4, truncate="head+tail")
    run = open_run(make_run(tmp_path / "run", spec))
    text = json.loads((run.path / "spec.json").read_text())["text"]
    assert text["truncating"] == "head+tail" and text["head_tokens"] == 1
    ids = run.encode(["great fun the bad movie was"]).row(0)
    assert [VOCAB[i] for i in ids] == ["great", "bad", "movie", "was"]  # first 1 + last 3
    info = json.loads((run.path / "spec.json").read_text())
    info["text"]["truncating"] = "pre"
    (run.path / "spec.json").write_text(json.dumps(info))
    with pytest.raises(DataError, match="text and model entries disagree"):
        open_run(run.path)


# ----------------------------------------------------------------------------- recipes


def test_shipped_recipe_is_readable_and_builds() -> None:
    assert recipes.available() == ["strong"]
    strong = recipes.load_recipe("strong")
    assert strong.train["optimizer"] == "adam" and strong.train["lr"] == 1e-3
    spec = ModelSpec.from_dict({"mask_zero": True, **strong.model})
    assert (spec.pool, spec.truncate, spec.bidirectional) == ("max+mean", "head+tail", True)
    assert spec.head_tail == (250, 750)
    assert strong.data == {"val_by": "film"}  # tuned on other films' reviews, never on test
    assert strong.pretrain is not None and strong.pretrain["fine_tune"] is True


def test_recipe_from_a_path_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[model]\npool = "mean"\n[train]\nepochs = 2\nbatch-size = 16\n')
    mine = recipes.load_recipe(str(path))
    assert (mine.name, mine.model, mine.train) == ("mine", {"pool": "mean"},
                                                   {"epochs": 2, "batch_size": 16})  # fmt: skip
    bad = {
        "[train]\nseed = 3\n": "unknown [train] key 'seed'",
        '[train]\nepochs = "two"\n': "epochs = 'two' has the wrong type",
        "[train]\nepochs = 0\n": "must be above 0",
        "[extra]\nx = 1\n": "only [model], [train] and [pretrain] tables",
        "[model\n": "is not valid TOML",
    }
    for text, fragment in bad.items():
        path.write_text(text)
        with pytest.raises(UsageError, match=fragment.replace("[", r"\[")):
            recipes.load_recipe(str(path))
    with pytest.raises(UsageError, match="does not exist"):
        recipes.load_recipe(str(tmp_path / "none.toml"))


def test_train_help_lists_the_recipes() -> None:
    result = invoke(["train", "--help"], columns=200)
    assert result.exit_code == 0
    assert "--recipe" in result.output and "strong" in result.output


def test_the_learning_rate_each_schedule_starts_from() -> None:
    """Without --lr: a cosine from twice Keras's default rate down to 0 (the default), or
    Keras's own constant default; --lr sets where either starts."""
    from lstmcli.train.config import TrainConfig
    from lstmcli.train.optim import make_optimizer

    def rates(cfg: TrainConfig) -> tuple[float, float]:
        """The rate at the first step and after the last (epochs of 10 steps)."""
        lr = make_optimizer(cfg, steps_per_epoch=10).get_config()["learning_rate"]
        if isinstance(lr, dict):  # a schedule, as Keras serialises it
            c = lr["config"]
            assert lr["class_name"] == "CosineDecay" and c["decay_steps"] == cfg.epochs * 10
            return c["initial_learning_rate"], c["initial_learning_rate"] * c["alpha"]
        return lr, lr

    assert TrainConfig().lr_schedule == "cosine"
    assert rates(TrainConfig()) == pytest.approx((2e-3, 0.0))
    assert rates(TrainConfig(optimizer="adam", lr=5e-4)) == pytest.approx((5e-4, 0.0))
    assert rates(TrainConfig(lr_schedule="constant")) == pytest.approx((1e-3, 1e-3))
