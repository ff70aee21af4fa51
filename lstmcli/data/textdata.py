"""The labelled-text types every data source returns, and the split helpers they share.

``datasets.py`` (IMDB, the sample set) and ``userdata.py`` (the user's own files) both
produce a ``LabelledData``; the trainer only ever sees this type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lstmcli.core.errors import DataError

# Bump when the way splits are drawn changes, so fingerprints (and caches keyed on them) change.
SPLIT_VERSION = 1


@dataclass
class TextSplit:
    texts: list[str]
    labels: np.ndarray  # int64 class indices

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: np.ndarray) -> TextSplit:
        return TextSplit([self.texts[i] for i in index], self.labels[index].astype(np.int64))


@dataclass
class LabelledData:
    name: str  # "imdb", "sample", or the user path
    train: TextSplit
    val: TextSplit
    test: TextSplit | None
    label_names: list[str]  # index -> name, e.g. ["neg", "pos"]
    fingerprint: str  # content hash of the splits + label names (see ``fingerprint``)
    notes: list[str] = field(default_factory=list)


def check_fraction(val_split: float) -> None:
    if not 0.0 < val_split < 1.0:
        raise DataError(f"the validation fraction must be between 0 and 1 (got {val_split})")


def check_limit(what: str, limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise DataError(f"{what} must be at least 1 (got {limit})")


def stratified_split(
    labels: np.ndarray, val_split: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``0..n-1`` with ``rng`` and split it into (train, val) indices, class by class.

    Each class gives ``round(n_c * val_split)`` items to validation, but a class with at least
    two items keeps one in each split. Both index arrays are in the shuffled order.
    """
    check_fraction(val_split)
    order = rng.permutation(len(labels))
    shuffled = labels[order]
    to_val = np.zeros(len(order), dtype=bool)
    for c in np.unique(shuffled):
        where = np.flatnonzero(shuffled == c)
        k = round(len(where) * val_split)
        if len(where) >= 2:
            k = min(max(k, 1), len(where) - 1)
        to_val[where[:k]] = True
    return order[~to_val], order[to_val]


def group_split(
    labels: np.ndarray, groups: Sequence[object] | np.ndarray, fraction: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Split ``0..n-1`` into (train, val) indices so that no group is on both sides.

    ``groups[i]`` names the group of item ``i`` (for IMDB: the film a review is about). Each
    class aims at ``round(n_c * fraction)`` items in validation. The groups are taken in an
    order shuffled with ``rng``; a group goes to validation when no class then passes its aim
    (a first pass), or, in a second pass over the rest, when it brings the per-class counts
    closer to the aims (the sum of the distances shrinks): with many small groups every class
    ends at or just below its aim, so classes stay about as balanced as in ``labels``. Both
    index arrays come back in one shuffled order of the items, not grouped.
    """
    check_fraction(fraction)
    labels = np.asarray(labels)
    if len(groups) != len(labels):
        raise ValueError(f"{len(groups)} groups for {len(labels)} labels")
    _, group_of = np.unique(np.asarray(groups), return_inverse=True)
    _, class_of = np.unique(labels, return_inverse=True)
    group_of, class_of = group_of.reshape(-1), class_of.reshape(-1)
    counts = np.zeros((group_of.max(initial=-1) + 1, class_of.max(initial=-1) + 1), np.int64)
    np.add.at(counts, (group_of, class_of), 1)
    aim = np.array([round(n * fraction) for n in counts.sum(axis=0).tolist()], dtype=np.int64)
    have = np.zeros_like(aim)
    in_val = np.zeros(len(counts), dtype=bool)
    shuffled = rng.permutation(len(counts))
    for overshoot in (False, True):
        for g in shuffled[~in_val[shuffled]]:
            after = have + counts[g]
            fits = overshoot or bool((after <= aim).all())
            if fits and np.abs(aim - after).sum() < np.abs(aim - have).sum():
                in_val[g], have = True, after
    order = rng.permutation(len(labels))
    to_val = in_val[group_of[order]]
    return order[~to_val], order[to_val]


def balanced_take(labels: np.ndarray, n: int | None) -> np.ndarray:
    """Positions of the first ``n`` items (in the current order) with classes as even as possible.

    A class with fewer items than its share gives the rest of its share to the others. The
    positions come back in their original order, so a shuffled split stays shuffled.
    """
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    quota = dict.fromkeys(classes.tolist(), 0)
    left = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    remaining = n
    while remaining > 0:
        open_classes = [c for c in quota if left[c] > 0]
        share, extra = divmod(remaining, len(open_classes))
        for i, c in enumerate(open_classes):
            k = min(share + (1 if i < extra else 0), left[c])
            quota[c] += k
            left[c] -= k
            remaining -= k
    keep = np.zeros(len(labels), dtype=bool)
    for c, k in quota.items():
        keep[np.flatnonzero(labels == c)[:k]] = True
    return np.flatnonzero(keep)


def limit_split(split: TextSplit, n: int | None) -> TextSplit:
    if n is None or n >= len(split):
        return split
    return split.take(balanced_take(split.labels, n))


def fingerprint(
    label_names: Sequence[str], splits: Iterable[TextSplit | None], settings: str = ""
) -> str:
    """A content hash of what the trainer will see: texts, labels, label names, split version.

    Hashing the content (~0.2 s for all of IMDB) rather than paths and mtimes means a moved or
    re-downloaded copy of the same data keeps its caches, and an edited file never reuses one.
    """
    h = hashlib.sha256(f"lstmcli-textdata-v{SPLIT_VERSION}\0{settings}\0".encode())
    h.update("\0".join(label_names).encode() + b"\1")
    for split in splits:
        if split is None:
            h.update(b"\2none")
            continue
        h.update(b"\2%d\0" % len(split))
        h.update(np.ascontiguousarray(split.labels, dtype="<i8").tobytes())
        for text in split.texts:
            data = text.encode("utf-8", "surrogatepass")
            h.update(b"%d\0" % len(data))
            h.update(data)
    return h.hexdigest()[:32]


def replaced_note(count: int, what: str) -> list[str]:
    """The note for ``count`` files/rows whose bytes were not UTF-8 (none when ``count`` is 0)."""
    if not count:
        return []
    noun = what if count == 1 else what + "s"
    return [f"{count} {noun} had bytes that are not UTF-8 (replaced with U+FFFD)"]


def decode(raw: bytes) -> tuple[str, bool]:
    """UTF-8 text (a leading BOM dropped) and whether any bytes had to be replaced."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True
