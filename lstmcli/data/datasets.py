"""Labelled text data sets by name: ``imdb``, ``sample`` (shipped with lstmcli), or a path to
the user's folder / CSV / TSV / JSONL file. Every one comes back as a ``LabelledData``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmcli.core.errors import DataError
from lstmcli.data.imdb import Progress, imdb_splits
from lstmcli.data.request import DataRequest, as_request
from lstmcli.data.textdata import (
    LabelledData,
)


def sample_path() -> Path:
    """The bundled sample set, ``lstmcli/data/sample/reviews.csv``: package data, found through
    ``importlib.resources`` wherever the package is (a checkout, an editable install, a wheel
    installed with ``--user``, ``--prefix``, ``--target`` or into Debian's ``/usr/local``)."""
    from importlib import resources

    found = resources.files("lstmcli.data").joinpath("sample", "reviews.csv")
    # lstmcli is never imported from a zip (TensorFlow cannot be), so this is a real file.
    return Path(str(found))


def load_labelled(
    req: DataRequest | str,
    *,
    progress: Progress | None = None,
    unpack: bool = True,
    **fields: Any,
) -> LabelledData:
    """``"imdb"``, ``"sample"``, or a path to the user's folder/CSV/TSV/JSONL file, as a
    ``DataRequest`` (or a name and the request's fields as keywords).

    ``unpack=False``: an IMDB archive given as ``data`` is read in place unless it was
    unpacked before (for a single pass, such as filling the vectorised-data cache)."""
    from lstmcli.data import userdata

    req = as_request(req, **fields)
    if req.name_or_path == "imdb":
        for flag, value in (("--test", req.test), ("--text-col", req.text_col),
                            ("--label-col", req.label_col)):  # fmt: skip
            if value is not None:
                raise DataError(f"{flag} applies to your own data files, not to imdb")
        return imdb_splits(req, progress=progress, unpack=unpack)
    if req.data is not None:
        raise DataError("--data applies to imdb only; give your own data as the dataset path")
    if req.name_or_path == "sample":
        path = sample_path()
        if not path.is_file():
            raise DataError(f"the sample data set is not installed (expected {path})")
        name = "sample"
    else:
        path = Path(req.name_or_path).expanduser()
        if not path.exists():
            raise DataError(
                f"no dataset named {req.name_or_path}: give imdb, sample, or a path to a "
                "folder/CSV/TSV/JSONL file"
            )
        name = req.name_or_path
    return userdata.load_user_data(path, req, name=name)
