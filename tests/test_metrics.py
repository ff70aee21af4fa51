"""``core.metrics`` against scikit-learn, the reference implementation, on random and edge inputs."""

from __future__ import annotations

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.metrics")

from lstmcli.core.metrics import compute, roc_auc, roc_curve, roc_curves  # noqa: E402


def reference(probs: np.ndarray, y: np.ndarray, k: int) -> dict[str, object]:
    p = probs if probs.shape[1] > 1 else np.concatenate([1 - probs, probs], axis=1)
    pred = p.argmax(1)
    labels = list(range(p.shape[1]))
    avg = "binary" if p.shape[1] == 2 else "macro"
    kw = {"labels": labels, "zero_division": 0, "average": avg}
    if avg == "binary":
        kw["pos_label"] = 1
        del kw["labels"]
    out: dict[str, object] = {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred, **kw),
        "recall": sk.recall_score(y, pred, **kw),
        "f1": sk.f1_score(y, pred, **kw),
        "confusion": sk.confusion_matrix(y, pred, labels=labels).tolist(),
        "loss": sk.log_loss(y, np.clip(p, 1e-7, 1), labels=labels),
    }
    present = np.unique(y)
    if len(present) < 2:
        out["auc"] = None
    elif p.shape[1] == 2:
        out["auc"] = sk.roc_auc_score(y, p[:, 1])
    else:  # one-vs-rest, averaged over the classes that have both positives and negatives
        out["auc"] = float(np.mean([sk.roc_auc_score(y == c, p[:, c]) for c in present]))
    return out


def check(probs: np.ndarray, y: np.ndarray) -> None:
    k = max(2, probs.shape[1])
    m = compute(probs, y, [str(i) for i in range(k)])
    ref = reference(probs, y, k)
    assert m.accuracy == pytest.approx(ref["accuracy"])
    assert m.precision == pytest.approx(ref["precision"])
    assert m.recall == pytest.approx(ref["recall"])
    assert m.f1 == pytest.approx(ref["f1"])
    assert m.confusion == ref["confusion"]
    assert m.loss == pytest.approx(ref["loss"], rel=1e-6)
    if ref["auc"] is None:
        assert m.roc_auc is None
    else:
        assert m.roc_auc == pytest.approx(ref["auc"])


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("seed", range(20))
def test_binary_random(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y = rng.integers(0, 2, n)
    probs = np.clip(rng.random((n, 1)) * 0.6 + 0.4 * y[:, None], 0.01, 0.99)
    check(probs, y)


@pytest.mark.parametrize("seed", range(10))
def test_multiclass_random(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(3, 6)), int(rng.integers(5, 200))
    y = rng.integers(0, k, n)
    check(softmax(rng.normal(size=(n, k)) + np.eye(k)[y]), y)


def test_ties_are_averaged_like_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    probs = rng.choice([0.2, 0.5, 0.8], size=(200, 1))  # many tied scores
    check(probs, y)
    assert roc_auc(np.full(6, 0.5), np.array([0, 1, 0, 1, 1, 0])) == 0.5


@pytest.mark.parametrize(
    "y, p",
    [
        ([1, 1, 1, 1], [0.9, 0.8, 0.2, 0.6]),  # one class only: AUC undefined
        ([0, 0, 0], [0.1, 0.7, 0.3]),  # one class, the negative one
        ([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]),  # all correct
        ([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2]),  # all wrong
        ([0, 1], [0.4, 0.4]),  # one tie, nothing predicted positive: precision 0 by convention
    ],
    ids=["one-class-pos", "one-class-neg", "all-correct", "all-wrong", "nothing-positive"],
)
def test_binary_edges(y: list[int], p: list[float]) -> None:
    check(np.array(p)[:, None], np.array(y))


def test_multiclass_with_a_missing_class() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])  # class 2 never occurs
    check(softmax(np.random.default_rng(1).normal(size=(6, 3))), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_curve_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(300), 2)  # many ties
    positive = rng.random(300) < 0.3
    found = roc_curve(scores, positive)
    assert found is not None
    fpr, tpr, _ = sk.roc_curve(positive, scores, drop_intermediate=False)
    assert np.allclose(found[0], fpr) and np.allclose(found[1], tpr)
    assert np.trapezoid(found[1], found[0]) == pytest.approx(roc_auc(scores, positive))
    assert roc_curve(scores, np.zeros(300, bool)) is None


def test_roc_curves_one_per_class() -> None:
    rng = np.random.default_rng(3)
    binary = roc_curves(rng.random((50, 1)), rng.integers(0, 2, 50), ["neg", "pos"])
    assert [c.label for c in binary] == ["pos"]
    probs = rng.dirichlet(np.ones(3), 60)
    y = np.r_[np.zeros(30, int), np.ones(30, int)]  # class "c" never occurs: no curve
    curves = roc_curves(probs, y, ["a", "b", "c"])
    assert [c.label for c in curves] == ["a", "b"]
    assert curves[0].auc == pytest.approx(sk.roc_auc_score(y == 0, probs[:, 0]))
