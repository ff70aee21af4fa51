"""`lstmcli compare` end to end on the sample set, with tiny models: the table, the files, the
verdict lines, SIGKILL of a running arm and the resume, a second run that skips everything,
and the one-line refusals."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke

pytestmark = pytest.mark.slow
# Tiny models without XLA (compiling costs more than it saves on 240 short texts).
TINY = ["--limit", "240", "--small-n", "80", "--units", "4", "--embed-dim", "4",
        "--vocab", "300", "--seq-len", "40", "--eval-limit", "120", "--batch-size", "16",
        "--checkpoint-every", "2", "--no-xla", "--epochs", "2"]  # fmt: skip
ARMS = ["--arm", "cell=simplernn", "--arm", "cell=lstm", "--arm", "bidirectional",
        "--arm", "stacked=2", "--arm", "pretrained,small", "--arm", "small"]  # fmt: skip
NAMES = ["SimpleRNN", "LSTM", "Bi-LSTM", "2×LSTM", "LSTM, pretrained embedding, n=80",
         "LSTM, n=80"]  # fmt: skip
SLUGS = ["simplernn", "lstm", "bilstm", "2xlstm", "lstm-pretrained-n80", "lstm-n80"]
VERDICTS = ("supported", "not supported", "not supported at this size",
            "within seed spread: cannot tell")  # fmt: skip


def lstmcli(*args: Any, home: Path) -> subprocess.Popen:
    env = {**os.environ, "LSTMCLI_HOME": str(home), "COLUMNS": "120"}
    return subprocess.Popen([sys.executable, "-m", "lstmcli", *map(str, args)], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Start a comparison, SIGKILL it while its second arm trains, run the command again."""
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("compare") / "cmp"
    proc = lstmcli("compare", "sample", *TINY, *ARMS, "-o", out, home=home)
    state = out / "lstm-seed0" / "checkpoints" / "state.json"
    deadline = time.time() + 300
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    at_kill = json.loads(state.read_text())
    first_metrics = (out / "simplernn-seed0" / "metrics.json").stat().st_mtime_ns
    again = lstmcli("compare", "sample", *TINY, *ARMS, "-o", out, home=home)
    stdout, stderr = again.communicate(timeout=600)
    return {"out": out, "at_kill": at_kill, "rc": again.returncode, "stdout": stdout,
            "stderr": stderr, "first_metrics": first_metrics}  # fmt: skip


def test_rerun_skips_the_finished_arm_and_resumes_the_killed_one(
    killed_and_resumed: dict[str, Any],
) -> None:
    r = killed_and_resumed
    assert r["rc"] == 0, r["stderr"]
    assert "[1/6] SimpleRNN, seed 0: done before: skipped" in r["stdout"]
    assert (r["out"] / "simplernn-seed0" / "metrics.json").stat().st_mtime_ns == r["first_metrics"]
    m = re.search(r"\[2/6\] LSTM, seed 0: resuming at epoch (\d+), batch (\d+)", r["stdout"])
    assert m, r["stdout"]
    assert (int(m.group(1)) - 1, int(m.group(2))) == (r["at_kill"]["epoch"], r["at_kill"]["batch"])
    for k, name in enumerate(NAMES[2:], 3):
        assert f"[{k}/6] {name}, seed 0: training" in r["stdout"]
    history = list(csv.DictReader((r["out"] / "lstm-seed0" / "history.csv").open()))
    assert [row["epoch"] for row in history] == ["1", "2"]


def test_table_and_verdict_lines(killed_and_resumed: dict[str, Any]) -> None:
    text = killed_and_resumed["stdout"]
    table = text[text.index("sample: 2 epochs, seeds 0") : text.index("The lecture's claims")]
    for name in NAMES:
        assert re.search(rf"^ +{re.escape(name)} +[\d,]+ +[\d.]+ +[\d,]+ +\d+\.\d\d \(\d\) "
                         r"+\d+\.\d\d ± \d+\.\d\d +– *$", table, re.M), name  # fmt: skip
    assert "* sample has no test split" in text
    claims = text[text.index("The lecture's claims") :].splitlines()
    assert claims[1] == "1. Always use LSTM instead of SimpleRNN."
    verdict_lines = [ln.strip() for ln in claims if ln.startswith("   ")]
    assert len(verdict_lines) == 4
    pairs = [("LSTM", "SimpleRNN"), ("Bi-LSTM", "LSTM"), ("2×LSTM", "LSTM"), (NAMES[4], NAMES[5])]
    for line, (better, worse) in zip(verdict_lines, pairs, strict=True):
        verdict, detail = re.fullmatch(r"(.+?) \((.+)\)", line).groups()
        assert verdict in VERDICTS, line
        assert re.match(
            rf"{re.escape(better)}: \d+\.\d\d ± \d+\.\d\d vs {re.escape(worse)}: ", detail
        )
    assert verdict_lines[3].endswith("; n = 80 labels)")
    assert verdict_lines[2].endswith("; n = 240 labels)")


def test_files(killed_and_resumed: dict[str, Any]) -> None:
    out = killed_and_resumed["out"]
    doc = json.loads((out / "compare.json").read_text())
    assert [a["name"] for a in doc["arms"]] == NAMES
    assert doc["plan"]["seeds"] == [0] and doc["plan"]["train"]["epochs"] == 2
    assert doc["failures"] == [] and doc["split"] == "validation"
    for arm, slug in zip(doc["arms"], SLUGS, strict=True):
        (seed,) = arm["seeds"]
        assert seed["ok"] and seed["run"] == str(out / f"{slug}-seed0")
        assert seed["n_eval"] == 120 and 0 <= seed["accuracy"] <= 1
        assert arm["accuracy_mean"] == seed["accuracy"] and len(seed["val_curve"]) == 2
        assert (out / f"{slug}-seed0" / "model.keras").is_file()
    assert [c["key"] for c in doc["claims"]] == ["lstm-over-simplernn", "bidirectional",
                                                 "stacked", "pretrain"]  # fmt: skip
    assert all(c["verdict"] in VERDICTS for c in doc["claims"])
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["arm"] for r in rows] == NAMES and {r["status"] for r in rows} == {"done"}
    assert rows[0]["accuracy"] == str(doc["arms"][0]["seeds"][0]["accuracy"])
    assert (out / "val_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(out.glob("vectors-seed0-*.vec"))
    # each arm is an ordinary run folder
    result = invoke(["evaluate", out / "lstm-seed0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == doc["arms"][1]["seeds"][0]["accuracy"]


def test_third_run_skips_every_arm(killed_and_resumed: dict[str, Any]) -> None:
    out = killed_and_resumed["out"]
    before = json.loads((out / "compare.json").read_text())
    result = invoke(["compare", "sample", *TINY, *ARMS, "-o", out, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("done before: skipped") == 6
    data = json.loads(result.stdout)
    assert data["arms"] == before["arms"] and data["claims"] == before["claims"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--epochs", "3"], "holds a different comparison (epochs 2 there, 3 now)"),
        (["--seeds", "0,1"], "holds a different comparison (seeds [0] there, [0, 1] now)"),
        (["--lr-schedule", "constant"], "(lr schedule cosine there, constant now)"),
    ],
)
def test_folder_of_another_comparison_is_refused(
    killed_and_resumed: dict[str, Any], change: list[str], message: str
) -> None:
    out = killed_and_resumed["out"]
    result = invoke(["compare", "sample", *TINY, *ARMS, *change, "-o", out])  # the last wins
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arm", "colour=red"], "--arm 1 (colour=red): unknown key 'colour'"),
        (["--arm", "units=0"], "--arm 1 (units=0): --units: 0 is not allowed"),
        (["--seeds", "0,one"], "--seeds: 'one' is not a seed"),
        (["--lr-schedule", "step"], "--lr-schedule: 'step' is not one of constant, cosine"),
        (["--small-n", "500"], "--small-n 500 must be below --limit 240"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(["compare", "sample", *TINY, *args, "-o", tmp_path / "cmp"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cmp").exists()


def test_unreadable_data_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    # the first arm fails before any finished: that is the data, not the arm
    result = invoke(["compare", tmp_path / "nosuch.csv", *TINY, "-o", tmp_path / "cmp"])
    assert result.exit_code == 1, result.output
    assert "no dataset named" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cmp").exists()


def test_wrong_output_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    for target, message in ((tmp_path / "file", "is a file"),
                            (tmp_path / "other", "holds no comparison (no compare.json)")):  # fmt: skip
        result = invoke(["compare", "sample", *TINY, "-o", target])
        assert result.exit_code == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_a_failing_arm_keeps_the_finished_ones(tmp_path: Path) -> None:
    # vocab=2 builds (padding + unknown word) but word vectors need three words: it fails
    # while the arm runs, after the LSTM arm has finished
    out = tmp_path / "cmp"
    args = ["--epochs", "1", "--arm", "cell=lstm", "--arm", "pretrained,vocab=2", "-o", out]
    result = invoke(["compare", "sample", *TINY, *args])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("lstmcli: 1 arm run failed (LSTM, vocab=2, pretrained embedding")
    assert "--vocab: must be ≥ 3" in last and f"kept in {out}" in last
    doc = json.loads((out / "compare.json").read_text())
    assert doc["arms"][0]["seeds"][0]["ok"] and (out / "lstm-seed0" / "metrics.json").is_file()
    assert doc["arms"][1]["seeds"][0]["ok"] is False and len(doc["failures"]) == 1
    assert "failed" in result.stdout  # the table shows it


def test_a_comparison_from_before_lr_schedule_resumes_with_a_constant_rate(tmp_path: Path) -> None:
    """Its compare.json has no lr_schedule: it trained at a constant rate, so only
    --lr-schedule constant continues it."""
    from lstmcli.core.errors import UsageError
    from lstmcli.rundir.compare import CompareFiles
    from lstmcli.train.compare import check_folder

    root = tmp_path / "cmp"
    root.mkdir()
    train = {"epochs": 3, "batch_size": 32, "optimizer": "rmsprop", "lr": None,
             "patience": None, "bucketing": False}  # fmt: skip
    plan = {"data": {"name_or_path": "sample"}, "seeds": [0], "train": train, "arms": []}
    (root / "compare.json").write_text(json.dumps({"plan": plan}))
    files = CompareFiles(root)
    check_folder(files, {**plan, "train": {**train, "lr_schedule": "constant"}})
    with pytest.raises(UsageError, match="lr schedule constant there, cosine now"):
        check_folder(files, {**plan, "train": {**train, "lr_schedule": "cosine"}})
