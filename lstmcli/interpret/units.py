"""Which units of a trained model separate the classes, and which tokens move them.

``top_units`` runs the validation texts through the NumPy re-implementation in ``gates.py``,
scores every unit's final value by how well it separates the classes (a standardised mean
difference and its AUC) and lists the tokens that raise or lower it most on average.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core.errors import DataError


@dataclass
class UnitScore:
    direction: str  # forward | backward
    unit: int  # 0-based, within its direction
    separation: float  # (mean for `label` − mean for the others) / pooled std of the final value
    # (binary: ≥ 0, `label` is the class with the higher values)
    auc: float | None  # P(final value of a `label` text > that of another text)
    label: str
    up: list[tuple[str, float, int]]  # tokens that raise the unit most: (token, mean Δ, count)
    down: list[tuple[str, float, int]]  # tokens that lower it most


@dataclass
class TopUnits:
    layer: int
    layer_name: str
    cell: str
    n_texts: int
    class_counts: list[int]
    label_names: list[str]
    units: list[UnitScore]


def _deltas(h: np.ndarray, backwards: bool) -> np.ndarray:
    """How much each step changed the state: h_t − h_{t−1} (backward: h_t − h_{t+1})."""
    before = np.zeros_like(h)
    if backwards:
        before[:, :-1] = h[:, 1:]
    else:
        before[:, 1:] = h[:, :-1]
    return h - before


def top_units(
    run: Any, texts: list[str], labels: np.ndarray, layer: int = 1, k: int = 10,
    n_tokens: int = 5, min_count: int = 3, model: Any = None, batch: int = 64,
) -> TopUnits:  # fmt: skip
    """The units of ``layer`` whose final value best separates the classes of ``labels``,
    each with the tokens (read at least ``min_count`` times) that move it most on average."""
    from lstmcli.core.metrics import roc_auc
    from lstmcli.interpret import gates
    from lstmcli.interpret import net as nets

    net = nets.net_from_model(model if model is not None else run.load_model())
    gates.check_layer(len(net.layers), layer)
    enc = run.encode(list(texts))
    keep = np.flatnonzero(enc.lengths > 0)
    labels = np.asarray(labels, np.int64).ravel()[keep]
    counts = np.bincount(labels, minlength=len(run.label_names))
    if (counts > 0).sum() < 2:
        raise DataError("--top-units needs validation texts of at least two classes")
    lyr = net.layers[layer - 1]
    width, vocab = lyr.cells[0].units, len(net.embedding)
    sums, hits = np.zeros((vocab, width * len(lyr.cells))), np.zeros(vocab)
    finals = np.zeros((len(keep), width * len(lyr.cells)))
    order = np.argsort(enc.lengths[keep], kind="stable")  # similar lengths share a batch
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        ids, mask = net.layout([np.asarray(enc.row(int(keep[i])), np.int64) for i in rows])
        p = nets.run_net(net, ids, mask, upto=layer, dtype=np.float32)
        finals[rows] = np.concatenate(p.states[-1], axis=1)
        seq = p.sequences[-1]
        deltas = [_deltas(seq[..., d * width : (d + 1) * width], c.backwards)
                  for d, c in enumerate(lyr.cells)]  # fmt: skip
        real = ids > 0  # token 0 is padding; no real token has id 0
        np.add.at(sums, ids[real], np.concatenate(deltas, axis=2)[real])
        hits += np.bincount(ids[real], minlength=vocab)
    best, best_class = np.zeros(finals.shape[1]), np.zeros(finals.shape[1], int)
    for c in [1] if len(counts) == 2 else np.flatnonzero(counts):  # one class against the rest
        a, b = finals[labels == c], finals[labels != c]
        var = (a.var(0) * len(a) + b.var(0) * len(b)) / max(len(finals) - 2, 1)
        d = (a.mean(0) - b.mean(0)) / np.sqrt(np.maximum(var, 1e-12))
        better = np.abs(d) > np.abs(best)
        best, best_class = np.where(better, d, best), np.where(better, c, best_class)
    means = sums / np.maximum(hits, 1)[:, None]
    frequent = np.flatnonzero(hits >= min_count)
    frequent = frequent[frequent > 1]  # neither padding nor [UNK]
    scores = []
    for col in np.argsort(-np.abs(best), kind="stable")[:k]:
        c = int(best_class[col])
        if len(counts) == 2 and best[col] < 0:  # binary: name the class with the higher value
            c, best[col] = 0, -best[col]
        ranked = frequent[np.argsort(-means[frequent, col], kind="stable")]
        pick = [(run.vocabulary[i], float(means[i, col]), int(hits[i])) for i in ranked]
        scores.append(UnitScore(
            lyr.directions[col // width], int(col % width), float(best[col]),
            roc_auc(finals[:, col], labels == c), run.label_names[c],
            [x for x in pick[:n_tokens] if x[1] > 0],
            [x for x in pick[::-1][:n_tokens] if x[1] < 0],
        ))  # fmt: skip
    return TopUnits(layer, lyr.name, lyr.kind, len(keep), counts.tolist(),
                    list(run.label_names), scores)  # fmt: skip


def validation_texts(run: Any, data: Path | None, limit: int) -> tuple[list[str], np.ndarray]:
    """Up to ``limit`` texts of the validation split the run was trained with."""
    from lstmcli.data import datasets
    from lstmcli.data.textdata import limit_split

    req = run.data_request(str(data) if data else None)
    loaded = datasets.load_labelled(req)
    if list(loaded.label_names) != list(run.label_names):
        raise DataError(f"labels of {req.name_or_path} {loaded.label_names} differ from the "
                        f"run's {run.label_names}")  # fmt: skip
    if not len(loaded.val):
        raise DataError(f"{req.name_or_path} has an empty validation split")
    val = limit_split(loaded.val, limit)  # the first ``limit``, classes as even as possible
    return list(val.texts), np.asarray(val.labels)
