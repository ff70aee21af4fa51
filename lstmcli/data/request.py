"""``DataRequest``: everything that selects a labelled dataset and its splits, in one place.

The CLI builds one from flags, the readers take one, and a run saves it in ``spec.json`` so
that ``evaluate`` and ``inspect`` can load the same splits again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmcli.core.errors import DataError, UsageError

# How validation is drawn from the training texts: ``text`` (each text on its own, stratified)
# or ``film`` (imdb only: whole films, so that no film is on both sides; ``imdb.py``).
VAL_BY = ("text", "film")


@dataclass(frozen=True)
class DataRequest:
    name_or_path: str  # "imdb", "sample", or the user's folder / CSV / TSV / JSONL file
    data: str | None = None  # imdb only: the archive or aclImdb folder
    seed: int = 0  # the split's seed
    limit: int | None = None  # training texts kept (balanced)
    eval_limit: int | None = None  # validation and test texts kept (balanced)
    val_split: float = 0.2
    test: str | None = None  # user data only: a test file of the same form
    text_col: str | None = None
    label_col: str | None = None
    val_by: str = "text"  # one of VAL_BY

    def __post_init__(self) -> None:
        if self.val_by not in VAL_BY:
            raise UsageError(f"--val-by: {self.val_by!r} is not one of {', '.join(VAL_BY)}")
        if self.val_by == "film" and self.name_or_path != "imdb":
            raise UsageError(
                "--val-by film applies to imdb only (its reviews name their film); "
                f"use --val-by text for {self.name_or_path}"
            )

    @property
    def data_path(self) -> Path | None:
        return Path(self.data).expanduser() if self.data else None

    @property
    def test_path(self) -> Path | None:
        return Path(self.test).expanduser() if self.test else None

    def replace(self, **changes: Any) -> DataRequest:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields, without ``val_by`` when it is the default ``text``: spec.json files,
        comparison plans and cache keys written before ``--val-by`` existed stay the same."""
        doc = dataclasses.asdict(self)
        if doc["val_by"] == "text":
            del doc["val_by"]
        return doc

    @classmethod
    def from_saved(cls, saved: Any, where: str) -> DataRequest:
        """The request a run recorded under ``data`` in its ``spec.json``."""
        if not saved:
            raise DataError(f"{where} does not record its dataset, so its splits are unknown")
        if not isinstance(saved, dict):
            raise DataError(f"{where}: the data entry of spec.json must be an object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(saved) - names)
        if unknown or "name_or_path" not in saved:
            bad = unknown[0] if unknown else "name_or_path (missing)"
            raise DataError(f"{where}: spec.json has an unknown data key {bad!r}")
        try:
            return cls(**saved)
        except UsageError as exc:
            raise DataError(f"{where}: spec.json: {exc}") from None


def as_request(req: DataRequest | str | Path, **changes: Any) -> DataRequest:
    """A request from a request, or from a dataset name/path and keyword fields."""
    if isinstance(req, DataRequest):
        return req.replace(**changes) if changes else req
    for key in ("data", "test"):
        if isinstance(changes.get(key), Path):
            changes[key] = str(changes[key])
    return DataRequest(str(req), **changes)
