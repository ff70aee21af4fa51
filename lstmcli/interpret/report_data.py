"""Everything ``lstmcli report`` shows about a run, gathered as plain data (no HTML here).

- the model summary with its formulas, checked against the saved model's ``count_params()``;
- the learning curves (``history.csv``);
- the metrics, confusion matrix and ROC curves on the run's own test split (its validation
  split when it has no test split), recomputed from the saved model; when the data cannot be
  read (IMDB not at hand, a data file moved) the saved ``metrics.json`` instead, said in a note;
- a handful of validation reviews with the model's probability after every word (the
  inspection code, ``gates.inspect_text``): the most confident right and wrong ones, and the
  ones it was least sure about.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli import __version__
from lstmcli.core import metrics
from lstmcli.core.errors import DataError, LstmcliError
from lstmcli.interpret.gates import inspect_text
from lstmcli.model.arith import Summary, summarize
from lstmcli.rundir.folder import Run, RunFiles
from lstmcli.train.predictor import Speed, predict_encoded

Stage = Callable[[str], None]


@dataclass
class ReviewView:
    """One validation review as the model read it."""

    words: list[str]  # as read (standardised); the last ``seq_len`` when longer
    probs: list[float]  # per word: P(shown) had the review ended there
    shown: str  # the class whose probability colours the words
    label: str  # the true class
    predicted: str
    confidence: float  # the probability of ``predicted`` for the whole review
    why: str  # "most confident right" | "most confident wrong" | "least sure"
    notes: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


@dataclass
class Evaluated:
    dataset: str
    split: str  # "test" or "validation"
    metrics: dict[str, Any]  # as ``metrics.Metrics.to_dict``
    roc: list[metrics.RocCurve]


@dataclass
class ReportData:
    run: Path
    summary: Summary
    info: dict[str, Any]  # the run's spec.json
    label_names: list[str]
    history: list[dict[str, float]]
    saved_metrics: dict[str, Any] | None  # metrics.json, as train wrote it
    evaluated: Evaluated | None = None
    reviews: list[ReviewView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))
    version: str = __version__


def read_history(path: Path) -> list[dict[str, float]]:
    """``history.csv`` as rows of numbers (empty when missing or unreadable)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        return [{k: float(v) for k, v in row.items() if k and v not in (None, "")} for row in rows]
    except (OSError, ValueError, UnicodeDecodeError, csv.Error):
        return []


def read_saved_metrics(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def pick_reviews(
    probs: np.ndarray, labels: np.ndarray, n: int, texts: list[str] | None = None
) -> list[tuple[int, str]]:
    """Indices of ``n`` reviews: a third the most confident right, a third the most confident
    wrong, the rest the least sure; when a group runs short the others fill in. With
    ``texts``, a text that occurs twice in the split is shown once."""
    p = metrics.class_probs(probs)
    pred, conf = p.argmax(axis=1), p.max(axis=1)
    right = [int(i) for i in np.argsort(-conf, kind="stable") if pred[i] == labels[i]]
    wrong = [int(i) for i in np.argsort(-conf, kind="stable") if pred[i] != labels[i]]
    unsure = [int(i) for i in np.argsort(conf, kind="stable")]
    k = max(1, n // 3)
    chosen: list[tuple[int, str]] = []
    seen: set[str] = set()
    for pool, why, quota in ((right, "most confident right", k), (wrong, "most confident wrong", k),
                             (unsure, "least sure", n - 2 * k), (right, "most confident right", n),
                             (wrong, "most confident wrong", n)):  # fmt: skip
        taken = {i for i, _ in chosen}
        room = max(0, min(quota, n - len(chosen)))
        for i in pool:
            if room == 0:
                break
            if i in taken or (texts is not None and texts[i] in seen):
                continue
            chosen.append((i, why))
            taken.add(i)
            seen.add(texts[i] if texts is not None else "")
            room -= 1
    return chosen


def review_view(run: Run, model: Any, text: str, label: int, why: str) -> ReviewView:
    insp = inspect_text(run, text, model=model)
    p = metrics.class_probs(insp.probabilities)
    final = int(p[-1].argmax())
    shown = 1 if p.shape[1] == 2 else final
    names = run.label_names
    return ReviewView(
        words=list(insp.words), probs=[float(x) for x in p[:, shown]], shown=names[shown],
        label=names[int(label)], predicted=names[final], confidence=float(p[-1, final]), why=why,
        notes=[n for n in insp.notes if "padding" not in n],
    )  # fmt: skip


def _evaluate(run: Run, model: Any, loaded: Any, speed: Speed, stage: Stage) -> Evaluated:
    split, name = (loaded.test, "test") if loaded.test is not None else (loaded.val, "validation")
    stage(f"evaluating the model on {len(split):,} texts of the {name} split")
    probs, _ = predict_encoded(model, run.encode(split.texts), run.seq_len, speed)
    m = metrics.compute(probs, split.labels, run.label_names).to_dict()
    return Evaluated(loaded.name, name, m, metrics.roc_curves(probs, split.labels, run.label_names))


def _reviews(
    run: Run, model: Any, loaded: Any, n: int, speed: Speed, stage: Stage
) -> list[ReviewView]:
    from lstmcli.core.threads import one_blas_thread

    val = loaded.val
    if n <= 0 or not len(val):
        return []
    probs, _ = predict_encoded(model, run.encode(val.texts), run.seq_len, speed)
    chosen = pick_reviews(probs, np.asarray(val.labels), n, list(val.texts))
    stage(f"reading {len(chosen)} validation reviews word by word")
    with one_blas_thread():
        return [review_view(run, model, val.texts[i], int(val.labels[i]), why) for i, why in chosen]


def _load_data(run: Run, data: str | None, limit: int | None, progress: Any) -> Any:
    from lstmcli.data import datasets

    req = run.data_request(data)
    if limit is not None:
        req = req.replace(eval_limit=limit)
    loaded = datasets.load_labelled(req, progress=progress)
    if list(loaded.label_names) != list(run.label_names):
        raise DataError(f"the labels of {req.name_or_path} {loaded.label_names} differ from "
                        f"the run's {run.label_names}")  # fmt: skip
    return loaded


def gather_report(
    run: Run, *, data: str | None = None, limit: int | None = None, reviews: int = 6,
    speed: Speed | None = None, progress: Any = None, stage: Stage = lambda _m: None,
) -> ReportData:  # fmt: skip
    """See the module docstring. ``data``: the IMDB archive or folder when the run's own copy
    is not where it was; ``limit`` caps the texts evaluated (validation and test)."""
    files = RunFiles(run.path)
    model = run.load_model()
    summary = summarize(run.spec, keras_params=int(model.count_params()), source=str(files.model))
    report = ReportData(run.path, summary, run.info, list(run.label_names),
                        read_history(files.history), read_saved_metrics(files.metrics))  # fmt: skip
    if not report.history:
        report.notes.append(f"no learning curves: {files.history} is missing or unreadable")
    if not run.spec.token_input:
        report.notes.append("this model reads vectors, not text: no data to evaluate or show")
        return report
    speed = speed or Speed(True, False, 256)
    try:
        stage(f"reading {run.data_request(data).name_or_path}")
        loaded = _load_data(run, data, limit, progress)
    except LstmcliError as exc:
        where = (
            "the metrics saved by train (metrics.json)" if report.saved_metrics else "no metrics"
        )
        report.notes.append(f"the run's data could not be read ({exc}); shown: {where}, no reviews")
        return report
    report.notes += list(loaded.notes)
    report.evaluated = _evaluate(run, model, loaded, speed, stage)
    report.reviews = _reviews(run, model, loaded, reviews, speed, stage)
    return report
