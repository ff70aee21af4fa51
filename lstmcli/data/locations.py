"""Where the data files were found, for ``lstmcli doctor`` (nothing is downloaded here)."""

from __future__ import annotations

import os
from typing import Any

from lstmcli.data.datasets import sample_path
from lstmcli.data.imdb import cache_archive, cached_imdb_dir, where_hint


def data_locations() -> dict[str, Any]:
    sample = sample_path()
    folder, archive = cached_imdb_dir(), cache_archive()
    if folder.is_dir():
        imdb: dict[str, Any] = {"found": str(folder), "kind": "unpacked cache"}
    elif archive.is_file():
        imdb = {"found": str(archive), "kind": "archive (unpacked on first use)"}
    else:
        url = os.environ.get("LSTMCLI_IMDB_URL")
        imdb = {"found": None, "kind": None,
                "hint": f"downloaded on first use{f' from {url}' if url else ''}; or {where_hint()}"}  # fmt: skip
    return {"sample": {"found": str(sample) if sample.is_file() else None}, "imdb": imdb}
