"""``evaluate`` and ``predict``: run a trained model over texts with its own vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmcli.core import metrics
from lstmcli.core.errors import DataError
from lstmcli.data.request import DataRequest
from lstmcli.rundir.folder import Run
from lstmcli.train.predictor import Speed, inference_graph, predict_encoded


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    split: str
    dataset: str
    probs: np.ndarray | None = None  # (n, outputs): the model's output for every text
    labels: np.ndarray | None = None  # (n,) true class indices


def evaluate_run(
    run: Run, dataset: str | None, speed: Speed, data: str | None = None,
    limit: int | None = None, progress: Any = None,
) -> Evaluation:  # fmt: skip
    """Metrics on the run's own test split (default), or on another dataset's test split.
    ``progress(done, total)`` follows a download of IMDB, if one is needed."""
    if dataset is None:
        req = run.data_request(data)
    else:
        seed = int((run.info.get("data") or {}).get("seed", 0))
        req = DataRequest(name_or_path=dataset, data=data, seed=seed)
    if limit is not None:
        req = req.replace(eval_limit=limit)
    cached = _cached_ids(run, req) if dataset is None and limit is None else None
    enc, labels, name = cached or _encoded(run, req, progress)
    model = inference_graph(run.load_model(), run.spec)
    probs, seconds = predict_encoded(model, enc, run.seq_len, speed)
    m = metrics.compute(probs, labels, run.label_names).to_dict()
    m["eval_seconds"] = round(seconds, 3)
    m["eval_samples_per_s"] = round(len(enc) / seconds, 1) if seconds > 0 else None
    return Evaluation(m, name, req.name_or_path, probs, labels)


def _own_split(data: Any) -> tuple[Any, str]:
    """The test split, or the validation split of data without one."""
    return (data.test, "test") if data.test is not None else (data.val, "validation")


def _encoded(run: Run, req: DataRequest, progress: Any) -> tuple[Any, np.ndarray, str]:
    """The split's texts read from the dataset and encoded with the run's vocabulary."""
    from lstmcli.data import datasets

    loaded = datasets.load_labelled(req, progress=progress)
    if list(loaded.label_names) != list(run.label_names):
        raise DataError(
            f"labels of {req.name_or_path} {loaded.label_names} differ from the run's {run.label_names}"
        )
    split, name = _own_split(loaded)
    return run.encode(split.texts), split.labels, name


def _cached_ids(run: Run, req: DataRequest) -> tuple[Any, np.ndarray, str] | None:
    """The run's own split as ``train`` vectorised and cached it: the same texts (the cache
    key covers the data files' sizes and times, the split, vocabulary size, length and
    truncation) encoded with the same vocabulary (checked word for word), so ``evaluate``
    neither unpacks the dataset nor encodes it again."""
    from lstmcli.data.prepare import cached

    spec = run.spec
    vec = cached(req, spec.vocab, spec.seq_len, spec.truncate, spec.head_tail[0])
    if vec is None or vec.vocabulary != run.vocabulary or vec.label_names != run.label_names:
        return None
    split, name = _own_split(vec)
    return split.enc, split.labels, name


def predict_texts(run: Run, texts: Sequence[str], speed: Speed) -> list[dict[str, Any]]:
    """Label and probability for each text (probability of the predicted label)."""
    if not texts:
        raise DataError("no text to predict: give TEXT arguments, --file F, or text on stdin")
    for i, t in enumerate(texts):
        if not t.strip():
            raise DataError(f"text {i + 1} is empty")
    model = inference_graph(run.load_model(), run.spec)
    enc = run.encode(texts)
    probs, _ = predict_encoded(model, enc, run.seq_len, speed)
    p = metrics.class_probs(probs)
    rows = []
    for text, row in zip(texts, p, strict=True):
        k = int(np.argmax(row))
        rows.append(
            {"text": text, "label": run.label_names[k], "probability": float(row[k]),
             "probabilities": {n: float(v) for n, v in zip(run.label_names, row, strict=True)},
             "known_tokens": None}
        )  # fmt: skip
    lengths = enc.lengths
    for r, n in zip(rows, lengths, strict=True):
        r["known_tokens"] = int(n)
    return rows
