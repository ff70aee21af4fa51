"""Real data: train on a small slice of the IMDB archive, then evaluate and predict with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lstmcli.cli.main import app

pytestmark = [pytest.mark.imdb, pytest.mark.slow]
runner = CliRunner()

POSITIVE = (
    "This is one of the best films I have ever seen. The acting is superb, the story is "
    "moving and beautiful, and the ending is perfect. A wonderful, brilliant masterpiece "
    "that I will watch again and again. Highly recommended!"
)
NEGATIVE = (
    "This is the worst movie I have ever seen. The acting is awful, the plot is boring and "
    "stupid, and the dialogue is terrible. A complete waste of time and money. Avoid it."
)


@pytest.fixture(scope="module")
def imdb_run(imdb_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "imdb"
    args = ["train", "imdb", "--data", str(imdb_folder), "--limit", "4000", "--eval-limit", "1000",
            "--epochs", "3", "--seq-len", "200", "--output", str(out), "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_slice_beats_70_percent(imdb_run: Path) -> None:
    metrics = json.loads((imdb_run / "metrics.json").read_text())
    rows = (imdb_run / "history.csv").read_text().splitlines()[1:]
    best_val = max(float(r.split(",")[4]) for r in rows)
    assert best_val > 0.70, rows
    assert metrics["split"] == "test" and metrics["n"] == 1000
    assert metrics["accuracy"] > 0.70


def test_evaluate_on_own_test_split(imdb_run: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(imdb_run), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["split"] == "test" and data["n"] == 1000 and data["accuracy"] > 0.70
    assert data["roc_auc"] > 0.75


def test_predict_clear_reviews(imdb_run: Path) -> None:
    result = runner.invoke(app, ["predict", str(imdb_run), POSITIVE, NEGATIVE, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["predictions"]
    assert [r["label"] for r in rows] == ["pos", "neg"]
