"""Classification metrics from predicted probabilities (pure NumPy).

ROC AUC is computed exactly from ranks (Keras's ``AUC`` metric approximates it with a fixed
number of thresholds, which would make reports differ from scikit-learn's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Metrics:
    n: int
    loss: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    label_names: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n, "loss": self.loss, "accuracy": self.accuracy,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
            "roc_auc": self.roc_auc, "confusion_matrix": self.confusion,
            "labels": self.label_names,
        }  # fmt: skip


def class_probs(probs: np.ndarray) -> np.ndarray:
    """(n, 1) sigmoid outputs → (n, 2) class probabilities; softmax outputs unchanged."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[:, None]
    if probs.shape[1] == 1:
        return np.concatenate([1 - probs, probs], axis=1)
    return probs


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Exact ROC AUC (Mann-Whitney U with tied ranks averaged); None if one class only."""
    positive = positive.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def compute(probs: np.ndarray, labels: np.ndarray, label_names: list[str]) -> Metrics:
    p = class_probs(probs)
    y = np.asarray(labels, dtype=np.int64)
    k = p.shape[1]
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, 1.0)))) if len(y) else 0.0
    pred = p.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    tp = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(confusion.sum(0) > 0, tp / confusion.sum(0), 0.0)
        rec = np.where(confusion.sum(1) > 0, tp / confusion.sum(1), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    if k == 2:  # binary: report the positive class (index 1), as is usual
        precision, recall, f1_score = float(prec[1]), float(rec[1]), float(f1[1])
        auc = roc_auc(p[:, 1], y == 1)
    else:  # multi-class: macro averages, one-vs-rest AUC
        precision, recall, f1_score = float(prec.mean()), float(rec.mean()), float(f1.mean())
        aucs = [roc_auc(p[:, c], y == c) for c in range(k)]
        valid = [a for a in aucs if a is not None]
        auc = float(np.mean(valid)) if valid else None
    return Metrics(
        n=len(y),
        loss=loss,
        accuracy=float((pred == y).mean()) if len(y) else 0.0,
        precision=precision,
        recall=recall,
        f1=f1_score,
        roc_auc=auc,
        confusion=confusion.tolist(),
        label_names=list(label_names),
    )


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(false positive rates, true positive rates) at every distinct score used as a
    threshold, from (0, 0) to (1, 1); None if one class only. The trapezoid area under it
    is ``roc_auc``."""
    positive = np.asarray(positive).astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    ranked, hits = np.asarray(scores)[order], positive[order]
    last = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]  # end of each tie group
    tpr = np.r_[0, np.cumsum(hits)[last]] / n_pos
    fpr = np.r_[0, np.cumsum(~hits)[last]] / n_neg
    return fpr, tpr


@dataclass
class RocCurve:
    label: str  # the class scored as positive (one-vs-rest when there are more than two)
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


def roc_curves(probs: np.ndarray, labels: np.ndarray, label_names: list[str]) -> list[RocCurve]:
    """Binary: one curve, for the positive class (index 1); K classes: one per class, one
    against the rest. Classes absent from ``labels`` (or the only one present) have none."""
    p, y = class_probs(probs), np.asarray(labels, dtype=np.int64)
    classes = [1] if p.shape[1] == 2 else list(range(p.shape[1]))
    curves = []
    for c in classes:
        found = roc_curve(p[:, c], y == c)
        auc = roc_auc(p[:, c], y == c)
        if found is not None and auc is not None:
            name = label_names[c] if c < len(label_names) else str(c)
            curves.append(RocCurve(name, found[0], found[1], auc))
    return curves
