"""Golden output of the commands that train and read models: train, evaluate, predict,
pretrain and neighbors, on small data.

What depends on the machine is masked before comparing: timings and rates, the temporary
paths, and every decimal number is rounded to two places (a model trained twice with the same
seed agrees to far more digits; rounding keeps the files readable); in a table with a
masked timing, whose width can follow it, runs of rules and spaces count as one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import invoke

FAST = ["--epochs", "2", "--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "60"]
SMALL = ["--limit", "300", "--eval-limit", "100", "--seed", "0"]


def mask(text: str, *paths: Path) -> str:
    for i, p in enumerate(paths):
        text = text.replace(str(p), f"<path{i}>")
    lines = []
    for line in text.splitlines():
        if re.search(r"samples per s|train seconds|eval seconds", line):  # metric-table rows
            line = re.sub(r"\s+[\d,]+\.\d+", " <t>", line)
        line = re.sub(r"\bin [\d.]+ s\b", "in <t> s", line)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    text = re.sub(r"-?\d+\.\d{3,}", lambda m: f"{float(m.group()):.2f}", text)
    # A table column is as wide as its widest value, and a rate of 9,999.9 or 10,000.0 per
    # second can decide that: in a table with a masked value, runs of rules and spaces count
    # as one.
    return re.sub(r"(?ms)^┏.*?^└.*?$", _loose_if_masked, text)


def _loose_if_masked(table: re.Match) -> str:
    block = table.group()
    return re.sub(r"([━─ ])\1+", r"\1", block) if "<t>" in block else block


def mask_epoch_table(text: str) -> str:
    """The last two columns of each epoch row (seconds, samples/s) vary with the machine."""
    return re.sub(r"(?m)^(\s+\d+(?:\s+\S+){4})\s+[\d.]+\s+[\d,]+$", r"\1  <t>  <t>", text)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("golden_home")
        mp.setenv("LSTMCLI_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def trained(home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run = tmp_path_factory.mktemp("golden") / "run"
    result = invoke(["train", "sample", *FAST, *SMALL, "--output", run])
    assert result.exit_code == 0, result.output
    return run, result.stdout


def test_train_golden(trained: tuple[Path, str], golden) -> None:
    run, out = trained
    golden("train_sample.out", mask_epoch_table(mask(out, run)))


def test_evaluate_golden(trained: tuple[Path, str], golden) -> None:
    run, _ = trained
    result = invoke(["evaluate", run, "--limit", "60"])
    assert result.exit_code == 0, result.output
    golden("evaluate_sample.out", mask(result.stdout, run))


def test_predict_golden(trained: tuple[Path, str], golden) -> None:
    run, _ = trained
    texts = ["A moving, beautifully acted film.", "Dull, boring and far too long."]
    result = invoke(["predict", run, *texts])
    assert result.exit_code == 0, result.output
    golden("predict_sample.out", mask(result.stdout, run))


def test_pretrain_golden(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden
) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path: line wrapping never depends on tmp_path
    out = Path("v.vec")
    args = ["pretrain", "sample", "--dim", "8", "--epochs", "1", "--limit", "300"]
    result = invoke([*args, "--vocab", "300", "-o", out])
    assert result.exit_code == 0, result.output
    text = mask(result.stdout, out)
    text = re.sub(r"(│\s+1 │\s+\S+ │\s+\S+ │)\s+[\d.]+ │\s+[\d,]+ │", r"\1 <t> │ <t> │", text)
    # The neighbours depend on every float of training: keep the table's frame and probe words.
    text = re.sub(r"(?m)^(│ \S*\s*│) .*│$", lambda m: m.group(1) + " … │", text)
    golden("pretrain_sample.out", text)


def test_neighbors_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden) -> None:
    monkeypatch.chdir(tmp_path)
    vec = Path("w.vec")
    vec.write_text(
        "5 3\ngood 1 0 0\ngreat 0.9 0.1 0\nfine 0.7 0.3 0.1\nbad -1 0 0\nawful -0.9 -0.1 0\n",
        encoding="utf-8",
    )
    result = invoke(["neighbors", vec, "good", "-k", "3"])
    assert result.exit_code == 0, result.output
    golden("neighbors_good.out", mask(result.stdout, vec))
