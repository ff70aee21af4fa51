"""IMDB, the Large Movie Review Dataset: found, downloaded, unpacked and read into splits.

IMDB is looked for, in order: ``--data`` (the ``aclImdb_v1.tar.gz`` archive, a folder that
holds ``aclImdb/``, or the ``aclImdb`` folder itself); the unpacked cache
``<datasets_dir>/aclImdb``; an archive the user put at ``<datasets_dir>/aclImdb_v1.tar.gz``;
else a download from ``$LSTMCLI_IMDB_URL`` (default: the authors' site), checked against the
published SHA-256 of ``aclImdb_v1.tar.gz`` (``$LSTMCLI_IMDB_SHA256`` overrides it, for a mirror
that serves another file). An archive the user gives (``--data``, or one put in the cache) is
the user's and is not rejected for a different hash.

An archive given with ``--data`` is unpacked once into the cache (``aclImdb-<sha256>``, or the
download cache when that came from the same archive) rather than read in place every time,
because that is faster from the second run on: loading train+test from the unpacked folder
takes ~2 s, from the 56 MB archive ~6 s every run (one pass, decompressing all 100,000
members). Unpacking costs ~400 MB and once 15-45 s (100,000 small files; disk-bound). When
the cache cannot be written, the archive is read in place (``unpack=False`` asks for that).
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import paths
from lstmcli.core.atomic import clean_stale
from lstmcli.core.errors import DataError, DownloadError, LstmcliError
from lstmcli.data import fetch
from lstmcli.data.films import URL_FILES, film_split
from lstmcli.data.request import DataRequest, as_request
from lstmcli.data.textdata import (
    LabelledData,
    TextSplit,
    check_fraction,
    check_limit,
    decode,
    fingerprint,
    limit_split,
    replaced_note,
    stratified_split,
)

Progress = Callable[[int, int | None], None]

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# The published archive's SHA-256 (the one every mirror and tfds use); a download must match it.
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
TOP = "aclImdb"
LABELS = ["neg", "pos"]
LABELLED = ("train/neg", "train/pos", "test/neg", "test/pos")
SHA_MARKER = ".lstmcli-archive-sha256"


@dataclass(frozen=True)
class ImdbSource:
    """Where the reviews are read from: an unpacked ``aclImdb`` folder or, failing that, an
    archive read in place."""

    path: Path
    is_archive: bool
    note: str | None = None


def cached_imdb_dir() -> Path:
    return paths.datasets_dir() / TOP


def cache_archive() -> Path:
    return paths.datasets_dir() / ARCHIVE_NAME


def where_hint() -> str:
    return f"download {ARCHIVE_NAME} yourself and pass --data PATH, or put it at {cache_archive()}"


def locate_imdb(
    data: Path | None = None, *, progress: Progress | None = None, unpack: bool = True
) -> ImdbSource:
    """Find (unpacking or downloading if need be) the IMDB reviews; see the module docstring.

    ``unpack=False`` reads an archive given as ``data`` in place instead of unpacking it.
    """
    clean_stale(paths.datasets_dir())  # unpacks and downloads that were killed midway
    if data is not None:
        return _explicit(Path(data).expanduser(), unpack)
    cached = cached_imdb_dir()
    if cached.exists():
        return ImdbSource(_check_folder(cached, "the cache folder"), False)
    url = os.environ.get("LSTMCLI_IMDB_URL", IMDB_URL)
    try:
        if cache_archive().is_file():
            _unpack(cache_archive(), cached, DataError)
            return ImdbSource(cached, False)
        sha = os.environ.get("LSTMCLI_IMDB_SHA256") or IMDB_SHA256
        with fetch.downloaded(
            url, paths.datasets_dir(), hint=where_hint(), expected_sha256=sha, progress=progress
        ) as part:
            _unpack(part, cached, DownloadError, what=f"the file downloaded from {url}")
    except OSError as exc:
        raise DataError(f"cannot write the IMDB cache in {paths.datasets_dir()} ({exc})") from None
    return ImdbSource(cached, False)


def _explicit(data: Path, unpack: bool) -> ImdbSource:
    if data.is_dir():
        folder = data / TOP if (data / TOP).is_dir() else data
        return ImdbSource(_check_folder(folder, "--data"), False)
    if not data.exists():
        raise DataError(f"--data {data} does not exist")
    with open(data, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            raise DataError(f"--data {data} is not a .tar.gz archive nor an aclImdb folder")
    sha = fetch.sha256_file(data)
    target = paths.datasets_dir() / f"{TOP}-{sha[:16]}"
    for folder in (cached_imdb_dir(), target):
        marker = folder / SHA_MARKER
        if marker.is_file() and marker.read_text(encoding="utf-8").strip() == sha:
            return ImdbSource(_check_folder(folder, "the cache folder"), False)
    if not unpack:
        return ImdbSource(data, True)
    try:
        _unpack(data, target, DataError, sha=sha)
    except OSError as exc:
        note = f"could not unpack {data} into {target} ({exc}); read the archive in place"
        return ImdbSource(data, True, note)
    return ImdbSource(target, False)


def _unpack(
    archive: Path, target: Path, error: type[LstmcliError], *, sha: str = "", what: str = ""
) -> None:
    sha = sha or fetch.sha256_file(archive)
    try:
        fetch.unpack(
            archive, target, top=TOP, required=LABELLED, error=error, marker=(SHA_MARKER, sha)
        )
    except error as exc:
        raise error(str(exc).replace(str(archive), what, 1) if what else str(exc)) from None


def _check_folder(folder: Path, what: str) -> Path:
    for part in LABELLED:
        if not (folder / part).is_dir():
            hint = "; delete it to download again" if what == "the cache folder" else ""
            raise DataError(
                f"{what} {folder} has no {part} folder; it is not an aclImdb folder{hint}"
            )
    return folder


@dataclass(frozen=True)
class ImdbFiles:
    """What ``read_files`` read: the texts of each part and their file names (sorted by name),
    the ``extra`` files that exist (by path relative to ``aclImdb/``), and how many files had
    bytes that are not UTF-8."""

    texts: dict[str, list[str]]
    names: dict[str, list[str]]
    extra: dict[str, bytes]
    bad: int


def read_parts(source: ImdbSource, parts: Sequence[str]) -> tuple[dict[str, list[str]], int]:
    """The texts of each ``part`` (e.g. ``"train/pos"``), files sorted by name, and how many
    files had bytes that are not UTF-8."""
    got = read_files(source, parts)
    return got.texts, got.bad


def read_files(source: ImdbSource, parts: Sequence[str], extra: Sequence[str] = ()) -> ImdbFiles:
    """The reviews of each ``part`` with their file names, and the ``extra`` files (such as
    ``train/urls_pos.txt``), in one pass over the folder or the archive."""
    found: dict[str, list[tuple[str, bytes]]] = {p: [] for p in parts}
    extras: dict[str, bytes] = {}
    if source.is_archive:
        _read_archive(source.path, found, extras, frozenset(extra))
    else:
        for part in parts:
            folder = source.path / part
            if not folder.is_dir():
                raise DataError(f"{source.path} has no {part} folder")
            for entry in os.scandir(folder):
                if entry.name.endswith(".txt") and entry.is_file():
                    with open(entry.path, "rb") as fh:
                        found[part].append((entry.name, fh.read()))
        extras = {rel: (source.path / rel).read_bytes() for rel in extra
                  if (source.path / rel).is_file()}  # fmt: skip
    texts: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    bad = 0
    for part, files in found.items():
        if not files:
            raise DataError(f"{source.path} has no .txt files in {part}")
        files.sort()
        names[part] = [name for name, _ in files]
        texts[part] = []
        for _, raw in files:
            text, replaced = decode(raw)
            texts[part].append(text)
            bad += replaced
    return ImdbFiles(texts, names, extras, bad)


def _read_archive(
    archive: Path,
    found: dict[str, list[tuple[str, bytes]]],
    extras: dict[str, bytes],
    wanted: frozenset[str],
) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                rel = member.name.removeprefix("./").removeprefix(TOP + "/")
                part, _, base = rel.rpartition("/")
                if not member.isfile():
                    continue
                if (part in found and base.endswith(".txt")) or rel in wanted:
                    fh = tf.extractfile(member)
                    assert fh is not None  # a regular file always has a reader
                    if rel in wanted:
                        extras[rel] = fh.read()
                    else:
                        found[part].append((base, fh.read()))
            fetch.drain(tf)
    except fetch.CORRUPT as exc:
        raise DataError(f"{archive} is truncated or corrupt ({fetch._reason(exc)})") from None


def load_imdb(
    data: Path | None = None,
    *,
    progress: Progress | None = None,
    unpack: bool = True,
    **fields: Any,
) -> LabelledData:
    """``imdb_splits`` of the archive or folder ``data``, the request's fields as keywords."""
    return imdb_splits(as_request("imdb", data=data, **fields), progress=progress, unpack=unpack)


def imdb_splits(
    req: DataRequest, *, progress: Progress | None = None, unpack: bool = True
) -> LabelledData:
    """IMDB: the 25,000 training reviews split (seeded, stratified) into train/validation, and
    the 25,000 test reviews as test (``val_by="film"``: validation is whole films, ``films.py``).
    ``limit`` keeps the first N (classes balanced) of the shuffled training reviews;
    ``eval_limit`` caps validation and test the same way."""
    check_fraction(req.val_split)
    check_limit("limit", req.limit)
    check_limit("eval_limit", req.eval_limit)
    source = locate_imdb(req.data_path, progress=progress, unpack=unpack)
    got = read_files(source, LABELLED, list(URL_FILES.values()) if req.val_by == "film" else [])

    def split(kind: str) -> TextSplit:
        neg, pos = got.texts[f"{kind}/neg"], got.texts[f"{kind}/pos"]
        labels = np.repeat(np.array([0, 1], dtype=np.int64), [len(neg), len(pos)])
        return TextSplit(neg + pos, labels)

    rng = np.random.default_rng(req.seed)
    full = split("train")
    train_idx, val_idx = stratified_split(full.labels, req.val_split, rng)
    if req.val_by == "film":  # drawn apart: rng goes on as above, so the test order is the same
        train_idx, val_idx = film_split(got.names, got.extra, full.labels, req, str(source.path))
    test = split("test")
    test = test.take(rng.permutation(len(test)))
    train = limit_split(full.take(train_idx), req.limit)
    val = limit_split(full.take(val_idx), req.eval_limit)
    test = limit_split(test, req.eval_limit)
    notes = [source.note] if source.note else []
    notes += replaced_note(got.bad, "file")
    return LabelledData(
        name="imdb",
        train=train,
        val=val,
        test=test,
        label_names=list(LABELS),
        fingerprint=fingerprint(LABELS, [train, val, test]),
        notes=notes,
    )


def read_unlabelled(
    data: Path | None = None,
    include_train: bool = True,
    *,
    progress: Progress | None = None,
    unpack: bool = True,
) -> list[str]:
    """The 50,000 unlabelled reviews (``train/unsup``), plus the 25,000 labelled training
    reviews if ``include_train``; never the test reviews. Found as by ``locate_imdb``."""
    parts = ["train/unsup"] + (["train/neg", "train/pos"] if include_train else [])
    texts, _ = read_parts(locate_imdb(data, progress=progress, unpack=unpack), parts)
    return [t for part in parts for t in texts[part]]
