"""How ``lstmcli compare`` prints a comparison (golden file) and its JSON, from given numbers."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from lstmcli.render.compare import compare_json, render_comparison
from lstmcli.train.arms import default_arms, resolve_arms
from lstmcli.train.compare_results import ArmRow, Comparison, SeedResult

# (accuracy per seed, best val accuracy, best epoch, s/epoch, samples/s); None: the run failed
NUMBERS = {
    "SimpleRNN": [(0.814, 0.82, 3, 9.0, 2100.0), (0.802, 0.81, 2, 9.4, 2000.0)],
    "LSTM": [(0.881, 0.885, 3, 15.0, 1350.0), (0.876, 0.879, 3, 15.2, 1330.0)],
    "GRU": [(0.870, 0.872, 2, 14.0, 1400.0), None],
    "3×LSTM, dropout 0.2": [(0.872, 0.874, 3, 60.0, 330.0), (0.868, 0.871, 3, 61.0, 328.0)],
    "Bi-LSTM, dropout 0.2": [(0.884, 0.886, 3, 30.0, 666.0), (0.880, 0.882, 2, 30.5, 660.0)],
    "LSTM, pretrained embedding, n=2,000": [
        (0.80, 0.81, 3, 2.0, 1000.0),
        (0.79, 0.80, 3, 2.0, 990.0),
    ],
    "LSTM, n=2,000": [(0.72, 0.75, 3, 2.0, 1000.0), (0.74, 0.76, 3, 2.0, 990.0)],
}


def comparison() -> Comparison:
    plans = resolve_arms(default_arms(), {}, None, 2000)
    rows = []
    for plan in plans:
        results = []
        for seed, numbers in enumerate(NUMBERS[plan.name]):
            run = f"runs/compare-imdb/{plan.slug}-seed{seed}"
            if numbers is None:
                results.append(SeedResult(seed, run, ok=False, error="out of memory"))
                continue
            acc, best, epoch, sec, sps = numbers
            results.append(SeedResult(seed, run, True, acc, 25_000, "test", best, epoch, sec, sps,
                                      plan.params, [best - 0.02, best]))  # fmt: skip
        rows.append(ArmRow(plan, results))
    plan = {"seeds": [0, 1], "train": {"epochs": 3}}
    result = Comparison(Path("runs/compare-imdb"), "imdb", rows, plan)
    result.judge()
    return result


def test_comparison_table_and_verdicts(console: Console, golden) -> None:
    render_comparison(console, comparison())
    text = console.file.getvalue()
    golden("compare_imdb.txt", text)
    assert "328,353" in text and "344,993" in text and "336,705" in text


def test_comparison_json() -> None:
    data = json.loads(json.dumps(compare_json(comparison())))
    assert [a["name"] for a in data["arms"]] == list(NUMBERS)
    gru = data["arms"][2]
    assert gru["accuracy_mean"] == 0.870 and [s["ok"] for s in gru["seeds"]] == [True, False]
    assert data["failures"] == ["GRU (seed 1): out of memory"]
    assert [c["verdict"] for c in data["claims"]] == [
        "supported", "within seed spread: cannot tell", "not supported at this size", "supported",
    ]  # fmt: skip
    assert data["arms"][1]["params"] == 328_353 and data["arms"][1]["lecture_params"] == 328_353


def test_time_left_scales_with_texts_and_multiply_adds(console: Console) -> None:
    from lstmcli.render.compare import CompareProgress
    from lstmcli.train.compare import PendingRun

    events = CompareProgress(console, batch_size=32)
    # arm 1: 3 epochs on all texts; arm 2: twice the cost per text, on a quarter of them
    events.plan([PendingRun(3, 1000, None), PendingRun(3, 2000, 400)])
    events.arm_begin(1, 2, "A", 0, "training")
    assert events.left() == "time left: after the first epoch"
    events.epoch_end({"seconds": 10.0, "samples_per_s": 160.0})  # 1,600 texts in 10 s
    # left: 2 epochs × 1,600 × 1,000 (20 s) + 3 epochs × 400 × 2,000 (15 s)
    assert events.left() == "about 35 s left"
    events.epoch_end({"seconds": 10.0, "samples_per_s": 160.0})
    events.epoch_end({"seconds": 10.0, "samples_per_s": 160.0})
    events.arm_end(1, 2, "A", SeedResult(0, "run", True, 0.9, 400, "validation", 0.9, 3, 10.0,
                                         160.0))  # fmt: skip
    events.arm_begin(2, 2, "B", 0, "training")
    assert events.left() == "about 15 s left"
    events.stop()
    lines = console.file.getvalue().splitlines()
    assert lines[0] == "[1/2] A, seed 0: training (time left: after the first epoch)"
    assert lines[1].strip() == "validation acc 90.00%, best val acc 90.00% (epoch 3), 10.0 s/epoch"
    assert lines[2] == "[2/2] B, seed 0: training (about 15 s left)"
