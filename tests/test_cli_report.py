"""``report``, ``evaluate --plots``, ``train --tensorboard`` and ``-q`` on one small real run
(the sample set, 2 epochs of a tiny LSTM), plus the HTML writer on hand-made data."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html import escape
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke

from lstmcli.core.metrics import class_probs
from lstmcli.interpret.report_data import ReportData, ReviewView, pick_reviews
from lstmcli.model.arith import summarize
from lstmcli.model.spec import ModelSpec
from lstmcli.render.report import report_html

FAST = ["--epochs", "2", "--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "60"]
SMALL = ["--limit", "200", "--eval-limit", "100", "--seed", "0", "--no-xla"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    pytest.importorskip("tensorboard")
    root = tmp_path_factory.mktemp("report")
    run, logs = root / "run", root / "tb"
    args = ["train", "sample", *FAST, *SMALL, "--output", run, "--tensorboard", logs, "-q"]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return run, logs, result


def test_quiet_train_prints_results_only(quiet_run: tuple[Path, Path, object]) -> None:
    _, _, result = quiet_run
    out = result.stdout  # type: ignore[attr-defined]
    assert result.stderr == ""  # type: ignore[attr-defined]
    assert "validation metrics (best epoch" in out and "Run saved in" in out
    for stage_line in ("reading sample", "learning a vocabulary", "encoding texts", "val_acc"):
        assert stage_line not in out


def test_tensorboard_logs(quiet_run: tuple[Path, Path, object]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, logs, _ = quiet_run
    history = json.loads(json.dumps([r for r in _history(run)]))
    for split, tags in (("train", {"epoch_loss", "epoch_accuracy"}),
                        ("validation", {"epoch_loss", "epoch_accuracy"})):  # fmt: skip
        acc = EventAccumulator(str(logs / split))
        acc.Reload()
        assert tags <= set(acc.Tags()["tensors"]), (split, acc.Tags())
        events = acc.Tensors("epoch_accuracy")
        assert [e.step for e in events] == [0, 1]
        key = "accuracy" if split == "train" else "val_accuracy"
        got = [float(np.frombuffer(e.tensor_proto.tensor_content, np.float32)[0])
               if e.tensor_proto.tensor_content else e.tensor_proto.float_val[0] for e in events]  # fmt: skip
        assert got == pytest.approx([r[key] for r in history], abs=1e-5)


def _history(run: Path) -> list[dict[str, float]]:
    from lstmcli.interpret.report_data import read_history

    return read_history(run / "history.csv")


def test_tensorboard_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke(["train", "sample", "--tensorboard", target, "-o", tmp_path / "r"])
    assert result.exit_code == 2 and "--tensorboard" in result.stderr
    assert not (tmp_path / "r").exists()


def test_evaluate_plots(quiet_run: tuple[Path, Path, object]) -> None:
    run, _, _ = quiet_run
    result = invoke(["evaluate", run, "--plots", "--json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["plots"] == [str(run / "confusion_matrix.png"), str(run / "roc_curve.png")]
    for name in ("confusion_matrix.png", "roc_curve.png"):
        assert (run / name).read_bytes()[:8] == PNG
    other = invoke(["evaluate", run, "sample", "--plots"])
    assert other.exit_code == 0, other.output
    assert (run / "roc_curve-sample.png").read_bytes()[:8] == PNG
    assert "Wrote" in other.stdout and not list(run.glob(".*.tmp"))


def test_report_html(quiet_run: tuple[Path, Path, object], tmp_path: Path) -> None:
    run, _, _ = quiet_run
    target = tmp_path / "page.html"
    result = invoke(["report", run, "-o", target, "--reviews", "5"])
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.stdout and "evaluating the model" in result.stderr
    page = target.read_text(encoding="utf-8")
    spec = ModelSpec(units=(8,), embed_dim=8, vocab=500, seq_len=60, mask_zero=True)
    rows = summarize(spec).layers
    for row in rows:  # the model table with its formulas
        assert f"<td>{escape(row.formula)}</td>" in page and f"{row.params:,}" in page
    assert "equals</span> Keras count_params()" in page
    evaluated = json.loads(invoke(["evaluate", run, "--json"]).stdout)
    saved = json.loads((run / "metrics.json").read_text())
    assert f"{evaluated['accuracy']:.4f}" in page and f"{saved['roc_auc']:.4f}" in page
    cm = evaluated["confusion_matrix"]
    assert all(f">{v:,}</td>" in page for row in cm for v in row)
    assert page.count('<div class="review">') == 5
    assert "most confident right" in page and "least sure" in page
    # self-contained: pictures are data URIs, nothing is fetched, nothing runs
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1])[:8] == PNG
    assert not re.search(r"https?://", page) and "<script" not in page and "href=" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    quiet = invoke(["report", run, "-q", "--reviews", "0", "--limit", "40"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert (run / "report.html").is_file()


def test_report_without_its_data(quiet_run: tuple[Path, Path, object], tmp_path: Path) -> None:
    run = shutil.copytree(quiet_run[0], tmp_path / "moved")
    info = json.loads((run / "spec.json").read_text())
    info["data"]["name_or_path"] = str(tmp_path / "gone.csv")
    (run / "spec.json").write_text(json.dumps(info))
    result = invoke(["report", run, "-q"])
    assert result.exit_code == 0, result.output
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "could not be read" in page and "metrics.json" in page and "No reviews" in page
    assert "note: the run&#x27;s data" not in page and "note: the run's data" in result.stdout


def test_report_refuses_bad_output(quiet_run: tuple[Path, Path, object], tmp_path: Path) -> None:
    run, _, _ = quiet_run
    for target in (tmp_path / "page.txt", tmp_path):
        result = invoke(["report", run, "-o", target])
        assert result.exit_code == 2 and result.stderr.startswith("lstmcli")


def test_review_text_and_labels_are_escaped() -> None:
    spec = ModelSpec(units=(4,), vocab=20, embed_dim=4, seq_len=10)
    nasty = ["<script>alert(1)</script>", "&amp;", '"quoted"', "<img src=x onerror=y>"]
    review = ReviewView(words=nasty, probs=[0.1, 0.4, 0.6, 0.9], shown="<b>pos</b>",
                        label="<b>pos</b>", predicted="<b>pos</b>", confidence=0.9,
                        why="most confident right", notes=["<i>note</i>"])  # fmt: skip
    data = ReportData(Path("runs/<x>"), summarize(spec), {"data": {"name_or_path": "<d>.csv"}},
                      ["neg", "<b>pos</b>"], [], None, reviews=[review])  # fmt: skip
    page = report_html(data)
    for raw in [*nasty, "<b>pos</b>", "<i>note</i>", "<x>", "<d>.csv"]:
        assert escape(raw) in page
        assert raw not in page or raw == "&amp;"  # (a substring of its own escaped form)
    assert "<script" not in page and "<img" not in page and "&amp;amp;" in page


def test_pick_reviews() -> None:
    p = np.array([0.99, 0.98, 0.02, 0.6, 0.45, 0.9, 0.51, 0.03])  # P(class 1)
    y = np.array([1, 1, 0, 1, 1, 0, 0, 1])
    chosen = pick_reviews(p[:, None], y, 6)
    assert chosen[:2] == [(0, "most confident right"), (1, "most confident right")]
    assert chosen[2:4] == [(7, "most confident wrong"), (5, "most confident wrong")]
    assert [why for _, why in chosen[4:]] == ["least sure", "least sure"]
    assert {i for i, _ in chosen[4:]} == {6, 4}  # the two closest to 0.5 not already shown
    conf = class_probs(p[:, None]).max(axis=1)
    assert conf[6] < conf[3]
    assert len({i for i, _ in chosen}) == 6
    # no wrong ones: right ones fill in
    assert [why for _, why in pick_reviews(p[:3, None], y[:3], 3)].count(
        "most confident wrong"
    ) == 0


def test_pick_reviews_shows_a_repeated_text_once() -> None:
    p = np.array([0.99, 0.99, 0.98, 0.2])
    y = np.array([1, 1, 1, 0])
    chosen = pick_reviews(p[:, None], y, 3, texts=["same", "same", "other", "third"])
    # right: 0 (1 repeats its text); no wrong one; least sure: 3; then right again: 2
    assert chosen == [(0, "most confident right"), (3, "least sure"), (2, "most confident right")]
