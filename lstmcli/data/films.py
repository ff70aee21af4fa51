"""The film of each IMDB training review, for ``--val-by film``.

IMDB's 25,000 training reviews come about 30 per film, and its test reviews are of other
films. A validation split drawn review by review therefore shares films with the training
split, and its accuracy is optimistic: a model that learns film and actor names scores on it
but not on the test split. ``--val-by film`` keeps every film on one side.

The archive records the film: line ``i`` (from 0) of ``aclImdb/train/urls_pos.txt`` is the
IMDb address (``http://www.imdb.com/title/tt0453418/usercomments``) of the review file
``train/pos/i_<rating>.txt``, and the same for ``urls_neg.txt`` and ``train/neg``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from lstmcli.core.errors import DataError
from lstmcli.data.request import DataRequest
from lstmcli.data.textdata import group_split

# The url file of each labelled training part, relative to ``aclImdb/``.
URL_FILES = {"train/neg": "train/urls_neg.txt", "train/pos": "train/urls_pos.txt"}
_TITLE = re.compile(r"/title/(tt\d+)")


def film_ids(part: str, names: Sequence[str], urls: bytes | None, where: str) -> list[str]:
    """The IMDb title id (``tt0453418``) of each review file in ``names`` (``<id>_<rating>.txt``)
    of ``part`` (``train/pos``), from that part's url file ``urls`` (None: it is missing).

    ``where`` (the archive or folder) names the data in the errors: a missing url file, one
    with too few lines for the review ids, or a line that is not an IMDb title address."""
    url_file = URL_FILES[part]
    if urls is None:
        raise DataError(
            f"--val-by film needs {url_file} (the film of each review), which {where} does not have"
        )
    lines = urls.decode("utf-8", "replace").splitlines()
    films = []
    for name in names:
        stem = name.partition("_")[0]
        if not stem.isdigit():
            raise DataError(
                f"--val-by film needs review files named <id>_<rating>.txt; {where} has {part}/{name}"
            )
        index = int(stem)
        if index >= len(lines):
            raise DataError(
                f"--val-by film needs a line of {url_file} for each review of {part}, but in "
                f"{where} it has {len(lines):,} lines and {part} has {name}"
            )
        found = _TITLE.search(lines[index])
        if found is None:
            raise DataError(
                f"--val-by film needs IMDb title addresses in {url_file}; in {where} its line "
                f"{index + 1} is not one"
            )
        films.append(found.group(1))
    return films


def film_split(
    names: dict[str, list[str]], extra: dict[str, bytes], labels: np.ndarray,
    req: DataRequest, where: str,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Train and validation indices of the training reviews (``train/neg``'s files, then
    ``train/pos``'s, as ``names`` lists them) with no film on both sides, about
    ``req.val_split`` of them in validation (``group_split``). ``extra`` holds the url files
    read beside them. The films are shuffled with a generator of their own, seeded by
    ``req.seed``."""
    films = [
        film
        for part in ("train/neg", "train/pos")
        for film in film_ids(part, names[part], extra.get(URL_FILES[part]), where)
    ]
    rng = np.random.default_rng([req.seed, 1])
    train_idx, val_idx = group_split(labels, films, req.val_split, rng)
    if len(train_idx) == 0 or len(val_idx) == 0:
        side = "validation" if len(val_idx) == 0 else "training"
        raise DataError(f"--val-by film: no film is left for {side}; change --val-split")
    return train_idx, val_idx
