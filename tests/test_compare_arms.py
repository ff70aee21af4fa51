"""Arms of ``lstmcli compare``: parsing, the lecture's models and their parameter counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmcli.core.errors import UsageError
from lstmcli.train.arms import (
    arms_from_flags,
    arms_from_toml,
    default_arms,
    parse_arm,
    parse_seeds,
    resolve_arms,
)


def test_parse_arm() -> None:
    assert parse_arm("cell=gru") == {"cell": "gru"}
    assert parse_arm("bidirectional,dropout=0.2") == {"bidirectional": True, "dropout": 0.2}
    assert parse_arm("units=64,32, embed-dim=16, no-mask-zero") == {
        "units": "64,32", "embed_dim": 16, "mask_zero": False}  # fmt: skip
    assert parse_arm("pretrained, small, name=mine, n=500") == {
        "pretrained": True, "small": True, "name": "mine", "n": 500}  # fmt: skip
    assert parse_arm("bidirectional=false") == {"bidirectional": False}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cells=gru", "unknown key 'cells'; allowed: cell, units"),
        ("dropout=lots", "dropout='lots' is not a number"),
        ("stacked=2.5", "stacked='2.5' is not a whole number"),
        ("bidirectional=maybe", "bidirectional='maybe' is not true or false"),
        ("cell=gru,cell=lstm", "cell is given twice"),
        (" , ", "empty arm"),
        ("n=1", "n=1 must be a whole number ≥ 2"),
    ],
)
def test_parse_arm_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=None) as err:
        arms_from_flags([text])
    assert message in str(err.value)
    assert str(err.value).startswith(f"--arm 1 ({text})")


def test_default_arms_are_the_lecture_models_with_its_parameter_counts() -> None:
    plans = resolve_arms(default_arms(), {}, None, 2000)
    table = [(p.name, p.params, p.lecture_params, p.limit, p.pretrained) for p in plans]
    assert table == [
        ("SimpleRNN", 322_113, None, None, False),
        ("LSTM", 328_353, 328_353, None, False),
        ("GRU", 326_369, None, None, False),
        ("3×LSTM, dropout 0.2", 344_993, 344_993, None, False),
        ("Bi-LSTM, dropout 0.2", 336_705, 336_705, None, False),
        ("LSTM, pretrained embedding, n=2,000", 328_353, 328_353, 2000, True),
        ("LSTM, n=2,000", 328_353, 328_353, 2000, False),
    ]
    assert [p.slug for p in plans] == ["simplernn", "lstm", "gru", "3xlstm-drop0.2",
                                       "bilstm-drop0.2", "lstm-pretrained-n2000", "lstm-n2000"]  # fmt: skip
    assert all(p.spec.mask_zero for p in plans)  # trained as ``train`` trains: padding masked
    assert plans[5].spec.trainable_embedding is False  # the lecture's step 3: embedding frozen
    assert plans[6].spec.trainable_embedding is True


def test_shared_flags_apply_to_every_arm_and_arms_override_them() -> None:
    plans = resolve_arms(arms_from_flags(["cell=gru", "stacked=2", "units=16,8"]),
                         {"units": "8", "embed_dim": 4, "cell": None}, 300, 50)  # fmt: skip
    assert [p.spec.units for p in plans] == [(8,), (8, 8), (16, 8)]
    assert {p.spec.embed_dim for p in plans} == {4}
    assert [p.name for p in plans] == ["GRU", "2×LSTM", "2×LSTM, units=16,8"]
    assert [p.limit for p in plans] == [300, 300, 300]
    assert len({p.slug for p in plans}) == 3


def test_same_arm_twice_gets_its_own_folder() -> None:
    plans = resolve_arms(arms_from_flags(["cell=gru", "cell=gru"]), {}, None, 2000)
    assert [(p.name, p.slug) for p in plans] == [("GRU", "gru"), ("GRU (2)", "gru-2")]


@pytest.mark.parametrize(
    ("arm", "shared", "message"),
    [
        ("units=0", {}, "--arm 1 (units=0): --units: 0 is not allowed"),
        ("cell=transformer", {}, "--arm 1 (cell=transformer): --cell: 'transformer' is not one of"),
        ("return-sequences", {}, "train classifies whole texts"),
        ("small", {"units": None}, "--small-n 2,000 must be below --limit 1,000"),
    ],
)
def test_an_arm_that_cannot_be_built_is_refused_before_training(
    arm: str, shared: dict, message: str
) -> None:
    with pytest.raises(UsageError) as err:
        resolve_arms(arms_from_flags([arm]), shared, 1000, 2000)
    assert message in str(err.value)


def test_arm_file(tmp_path: Path) -> None:
    path = tmp_path / "arms.toml"
    path.write_text('[[arm]]\ncell = "gru"\n\n[[arm]]\nbidirectional = true\ndropout = 0.2\n'
                    'name = "two-way"\n\n[[arm]]\npretrained = true\nn = 300\nembed-dim = 8\n')  # fmt: skip
    plans = resolve_arms(arms_from_toml(path), {}, None, 2000)
    assert [p.name for p in plans] == [
        "GRU",
        "two-way",
        "LSTM, embed-dim=8, pretrained embedding, n=300",
    ]
    assert plans[1].spec.bidirectional and plans[1].spec.dropout == 0.2
    assert plans[2].limit == 300 and plans[2].spec.embed_dim == 8
    path.write_text("[[arm]]\ncell = 3\n")
    with pytest.raises(UsageError, match=r"arms.toml \[\[arm\]\] 1: cell=3 must be text"):
        arms_from_toml(path)
    path.write_text("[model]\ncell = 'gru'\n")
    with pytest.raises(UsageError, match="has no \\[\\[arm\\]\\] tables"):
        arms_from_toml(path)
    with pytest.raises(UsageError, match="does not exist"):
        arms_from_toml(tmp_path / "missing.toml")


def test_parse_seeds() -> None:
    assert parse_seeds("0") == [0]
    assert parse_seeds("0, 1,2") == [0, 1, 2]
    for bad, message in (("", "'' is not a seed"), ("0,x", "'x' is not a seed"),
                         ("-1", "'-1' is not a seed"), ("1,1", "1 is given twice")):  # fmt: skip
        with pytest.raises(UsageError, match=message):
            parse_seeds(bad)
