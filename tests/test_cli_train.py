"""`lstmcli train / evaluate / predict` on the embedded sample set (fast) through CliRunner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers import invoke

FAST = ["--epochs", "2", "--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "60"]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "sample"
    result = invoke(["train", "sample", *FAST, "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_run_folder_contents(sample_run: Path) -> None:
    for name in ("model.keras", "spec.json", "vocabulary.txt", "history.csv", "metrics.json",
                 "learning_curve.png", "checkpoints/state.json"):  # fmt: skip
        assert (sample_run / name).is_file(), name
    info = json.loads((sample_run / "spec.json").read_text())
    assert info["model"]["units"] == [8] and info["model"]["mask_zero"] is True
    assert info["labels"] == ["neg", "pos"]
    rows = list(csv.DictReader((sample_run / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    metrics = json.loads((sample_run / "metrics.json").read_text())
    assert metrics["split"] == "validation" and 0 <= metrics["accuracy"] <= 1
    assert metrics["train_samples_per_s"] > 0
    assert (sample_run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_numbers(sample_run: Path, tmp_path: Path) -> None:
    result = invoke(["train", "sample", *FAST, "--output", str(tmp_path / "again"), "--json"])
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)["history"]
    first = list(csv.DictReader((sample_run / "history.csv").open()))
    for new, old in zip(history, first, strict=True):
        assert new["loss"] == pytest.approx(float(old["loss"]), rel=1e-6)
        assert new["val_accuracy"] == pytest.approx(float(old["val_accuracy"]), rel=1e-6)


def test_existing_run_is_not_overwritten(sample_run: Path) -> None:
    before = (sample_run / "model.keras").read_bytes()
    result = invoke(["train", "sample", *FAST, "--output", str(sample_run)])
    assert result.exit_code == 2
    assert "--resume" in result.stderr
    assert (sample_run / "model.keras").read_bytes() == before


def test_evaluate_json(sample_run: Path) -> None:
    result = invoke(["evaluate", str(sample_run), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"loss", "accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix"} <= set(
        data
    )
    assert sum(map(sum, data["confusion_matrix"])) == data["n"]
    table = invoke(["evaluate", str(sample_run)])
    assert "roc_auc" in table.output and "confusion matrix" in table.output


def test_evaluate_reads_the_ids_train_cached_and_gets_the_same_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `train` cached its splits' token ids; `evaluate` takes them instead of reading (for
    # IMDB: unpacking) the dataset and encoding its texts again, and must get the same numbers.
    from lstmcli.data import datasets

    out = tmp_path / "run"
    assert invoke(["train", "sample", *FAST, "--output", out, "-q"]).exit_code == 0
    monkeypatch.setenv("LSTMCLI_NO_CACHE", "1")
    from_texts = invoke(["evaluate", out, "--json"])
    assert from_texts.exit_code == 0, from_texts.output
    monkeypatch.delenv("LSTMCLI_NO_CACHE")

    def no_reading(*args: object, **kw: object) -> None:
        raise AssertionError("evaluate read the dataset although train had cached its ids")

    monkeypatch.setattr(datasets, "load_labelled", no_reading)
    from_cache = invoke(["evaluate", out, "--json"])
    assert from_cache.exit_code == 0, from_cache.output
    a, b = json.loads(from_texts.stdout), json.loads(from_cache.stdout)
    assert a["split"] == b["split"] == "validation" and a["n"] == b["n"] > 0
    assert a["confusion_matrix"] == b["confusion_matrix"]
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    # --limit evaluates a part of the split: that still reads the dataset
    limited = invoke(["evaluate", out, "--json", "--limit", "20"])
    assert limited.exit_code == 1 and "although train had cached" in limited.stderr


def test_predict_args_file_and_stdin(sample_run: Path, tmp_path: Path) -> None:
    result = invoke(["predict", str(sample_run), "a wonderful film", "a dull mess", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["predictions"]
    assert [r["text"] for r in rows] == ["a wonderful film", "a dull mess"]
    assert all(r["label"] in ("neg", "pos") and 0.5 <= r["probability"] <= 1 for r in rows)
    texts = tmp_path / "t.txt"
    texts.write_text("great acting\n\nboring plot\n")
    assert (
        len(
            json.loads(invoke(["predict", str(sample_run), "-f", str(texts), "--json"]).stdout)[
                "predictions"
            ]
        )
        == 2
    )
    piped = invoke(["predict", str(sample_run), "--json"], input="lovely\n")
    assert json.loads(piped.stdout)["predictions"][0]["text"] == "lovely"


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> Path:
    path.write_text(header + "\n" + "\n".join(f'"{t}",{lab}' for t, lab in rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing", "no dataset"),
        ("nocolumn", "column"),
        ("oneclass", "class"),
    ],
)
def test_bad_data_one_line(case: str, fragment: str, tmp_path: Path) -> None:
    if case == "missing":
        target = str(tmp_path / "nope.csv")
    elif case == "nocolumn":
        target = str(
            write_csv(tmp_path / "d.csv", [("good", "pos"), ("bad", "neg")] * 5, "words,label")
        )
    else:
        target = str(write_csv(tmp_path / "d.csv", [("good", "pos"), ("fine", "pos")] * 5))
    result = invoke(["train", target, *FAST, "--output", str(tmp_path / "run")])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0].lower(), result.stderr
    assert "Traceback" not in result.output


def test_bad_flags(tmp_path: Path) -> None:
    for args in (["--optimizer", "sgd"], ["--features", "4"], ["--resume"], ["--freeze-embedding"]):
        result = invoke(["train", "sample", *args])
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1


def test_predict_errors(sample_run: Path, tmp_path: Path) -> None:
    assert invoke(["predict", str(tmp_path / "nope"), "x"]).exit_code == 1
    empty = invoke(["predict", str(sample_run), "   "])
    assert empty.exit_code == 1 and "empty" in empty.stderr
