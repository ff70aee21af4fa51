"""The verdict rule of ``lstmcli compare`` and how it picks the arms each claim compares."""

from __future__ import annotations

import math

import pytest

from lstmcli.train.arms import arms_from_flags, default_arms, resolve_arms
from lstmcli.train.verdicts import (
    CANNOT_TELL,
    CLAIMS,
    NOT_MEASURED,
    NOT_SUPPORTED,
    SUPPORTED,
    ArmStats,
    find_pair,
    judge,
    judge_claims,
)


def stats(name: str, *accs: float, n: int = 25_000) -> ArmStats:
    return ArmStats(name, tuple(accs), n)


def test_spread_is_the_larger_of_seed_std_and_standard_error() -> None:
    one = stats("a", 0.9, n=400)
    assert one.spread == pytest.approx(math.sqrt(0.9 * 0.1 / 400))  # 1.5 points: the test set
    many = stats("b", 0.80, 0.84, 0.88, n=25_000)  # std 4 points ≫ standard error 0.24
    assert many.mean == pytest.approx(0.84)
    assert many.spread == pytest.approx(0.04)
    assert stats("c", 0.5, 0.5, n=100).spread == pytest.approx(0.05)  # same seeds: SE remains
    assert many.shown() == "84.00 ± 4.00"


@pytest.mark.parametrize(
    ("a", "b", "verdict"),
    [
        ((0.881, 0.876, 0.886), (0.814, 0.802, 0.826), SUPPORTED),
        ((0.814, 0.802, 0.826), (0.881, 0.876, 0.886), NOT_SUPPORTED),
        ((0.880, 0.870, 0.890), (0.875, 0.865, 0.885), CANNOT_TELL),
    ],
)
def test_judge(a: tuple[float, ...], b: tuple[float, ...], verdict: str) -> None:
    assert judge(stats("A", *a), stats("B", *b)) == verdict


def test_rule_is_exactly_difference_against_sum_of_spreads() -> None:
    # n so large that the standard error is negligible: the spreads are the seeds' std
    a = stats("A", 0.80, 0.82, n=10**12)  # mean 0.81, std 0.01414
    b = stats("B", 0.77, 0.77, n=10**12)  # std 0
    assert a.spread + b.spread == pytest.approx(0.01414, abs=1e-5)
    assert judge(a, b) == SUPPORTED  # 4 points > 1.4
    assert judge(a, stats("B", 0.797, 0.797, n=10**12)) == CANNOT_TELL  # 1.3 points < 1.4
    assert judge(a, stats("B", 0.795, 0.795, n=10**12)) == SUPPORTED  # 1.5 points > 1.4
    assert judge(a, stats("B", 0.81, 0.81, n=10**12)) == CANNOT_TELL  # same mean: no verdict


def test_rule_is_symmetric() -> None:
    pairs = [((0.9,), (0.8,)), ((0.85, 0.86), (0.84, 0.87)), ((0.7, 0.72, 0.71), (0.9, 0.91))]
    for a, b in pairs:
        y = judge(stats("B", *b, n=1000), stats("A", *a, n=1000))
        x = judge(stats("A", *a, n=1000), stats("B", *b, n=1000))
        flipped = {SUPPORTED: NOT_SUPPORTED, NOT_SUPPORTED: SUPPORTED, CANNOT_TELL: CANNOT_TELL}
        assert y == flipped[x]


def test_default_arms_pair_up_as_the_lecture_does() -> None:
    plans = resolve_arms(default_arms(), {}, None, 2000)
    names = [p.name for p in plans]
    pairs = {c.key: find_pair(c, plans) for c in CLAIMS}
    assert {k: (names[i], names[j]) for k, (i, j) in pairs.items()} == {
        "lstm-over-simplernn": ("LSTM", "SimpleRNN"),
        "bidirectional": ("Bi-LSTM, dropout 0.2", "LSTM"),
        "stacked": ("3×LSTM, dropout 0.2", "LSTM"),
        "pretrain": ("LSTM, pretrained embedding, n=2,000", "LSTM, n=2,000"),
    }


def test_claims_need_arms_that_differ_only_in_the_claim() -> None:
    # GRU vs SimpleRNN is not "LSTM vs SimpleRNN", nor is an LSTM of another width; a Bi-GRU
    # against the GRU is the bidirectional claim; 2×LSTM(32) is not LSTM(64) stacked
    plans = resolve_arms(
        arms_from_flags(["cell=gru", "cell=simplernn", "cell=gru,bidirectional",
                         "cell=lstm,units=64", "stacked=2"]), {}, None, 2000)  # fmt: skip
    found = {c.key: find_pair(c, plans) for c in CLAIMS}
    assert found["lstm-over-simplernn"] is None
    assert found["bidirectional"] == (2, 0)  # Bi-GRU against GRU
    assert found["stacked"] is None and found["pretrain"] is None
    verdicts = judge_claims(plans, [stats(p.name, 0.8) for p in plans])
    assert [v.verdict for v in verdicts] == [NOT_MEASURED, CANNOT_TELL, NOT_MEASURED, NOT_MEASURED]
    assert verdicts[0].detail.startswith("needs an LSTM arm and a SimpleRNN arm")


def test_verdict_lines_name_the_numbers_and_the_size() -> None:
    plans = resolve_arms(default_arms(), {}, 20_000, 2000)
    accs = {"SimpleRNN": 0.81, "LSTM": 0.88, "GRU": 0.87, "3×LSTM, dropout 0.2": 0.80,
            "Bi-LSTM, dropout 0.2": 0.881, "LSTM, pretrained embedding, n=2,000": 0.80,
            "LSTM, n=2,000": 0.79}  # fmt: skip
    verdicts = judge_claims(plans, [stats(p.name, accs[p.name]) for p in plans])
    by_key = {v.key: v for v in verdicts}
    assert by_key["lstm-over-simplernn"].verdict == SUPPORTED
    assert by_key["lstm-over-simplernn"].detail == "LSTM: 88.00 ± 0.21 vs SimpleRNN: 81.00 ± 0.25"
    assert by_key["bidirectional"].verdict == CANNOT_TELL
    assert by_key["stacked"].verdict == "not supported at this size"
    assert by_key["stacked"].detail.endswith("; n = 20,000 labels")
    assert by_key["pretrain"].verdict == SUPPORTED
    assert by_key["pretrain"].detail.endswith("; n = 2,000 labels")
    missing = judge_claims(plans, [None] + [stats(p.name, 0.8) for p in plans[1:]])
    assert missing[0].verdict == NOT_MEASURED and missing[0].detail == "SimpleRNN has no results"
