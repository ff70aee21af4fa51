"""``--val-by film``: IMDB's validation split drawn as whole films (``group_split``,
``data/films.py``), through the reader, the saved request, the cache key, recipes and the CLI.
A small archive with url files covers the logic; the real archive (``$LSTMCLI_TEST_IMDB``)
checks that no film is on both sides."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke

from lstmcli.core.errors import DataError, UsageError
from lstmcli.data.films import URL_FILES, film_ids, film_split
from lstmcli.data.imdb import LABELLED, load_imdb, locate_imdb, read_files
from lstmcli.data.prepare import cache_identity
from lstmcli.data.request import DataRequest
from lstmcli.data.textdata import group_split

N = 30  # reviews per class and split in the fake archive


def film_of(part: str, i: int) -> str:
    """Films of 3 reviews; pos and neg reviews of one film overlap (as in IMDB)."""
    return f"tt{(i + (part.endswith('neg'))) // 3:07d}"


def make_tree(root: Path, urls: bool = True) -> Path:
    top = root / "aclImdb"
    for part in LABELLED:
        (top / part).mkdir(parents=True)
        for i in range(N):
            stars = 8 if part.endswith("pos") else 2
            (top / part / f"{i}_{stars}.txt").write_text(f"{part} review {i}", encoding="utf-8")
    if urls:
        for part, name in URL_FILES.items():
            lines = [f"http://www.imdb.com/title/{film_of(part, i)}/usercomments" for i in range(N)]
            (top / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return top


def as_archive(tree: Path, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        tf.add(tree, arcname="aclImdb")
    return path


def films_in(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        part, _, i = text.split(" ")
        found.add(film_of(part, int(i)))
    return found


# --- group_split ---------------------------------------------------------------------------


def groups_and_labels(n_groups: int = 120, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 31, n_groups)  # 1-30 items per group, as IMDB's films
    groups = np.repeat([f"g{k}" for k in range(n_groups)], sizes)
    labels = (rng.random(len(groups)) < 0.5).astype(np.int64)
    return labels, groups


def test_group_split_keeps_groups_whole() -> None:
    labels, groups = groups_and_labels()
    train, val = group_split(labels, groups, 0.2, np.random.default_rng(0))
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(len(labels)))
    assert not set(groups[train]) & set(groups[val])
    assert abs(len(val) / len(labels) - 0.2) < 0.01
    for c in (0, 1):  # each class near its aim: less than one group (30 items) away
        assert abs((labels[val] == c).sum() - round((labels == c).sum() * 0.2)) < 30
    assert abs(labels[val].mean() - labels.mean()) < 0.03
    assert set(labels[train]) == set(labels[val]) == {0, 1}
    assert not np.all(np.diff(val) > 0)  # shuffled, not in item order


def test_group_split_is_seeded() -> None:
    labels, groups = groups_and_labels()

    def draw(seed: int) -> tuple[list[int], list[int]]:
        train, val = group_split(labels, groups, 0.25, np.random.default_rng(seed))
        return train.tolist(), val.tolist()

    assert draw(3) == draw(3)
    assert sorted(draw(3)[1]) != sorted(draw(4)[1])


def test_group_split_bad_arguments() -> None:
    labels, groups = groups_and_labels(10)
    with pytest.raises(DataError, match="between 0 and 1"):
        group_split(labels, groups, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="groups for"):
        group_split(labels, groups[:-1], 0.2, np.random.default_rng(0))


# --- the reader ----------------------------------------------------------------------------


def test_film_split_from_archive_and_folder(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    archive = as_archive(tree, tmp_path / "aclImdb_v1.tar.gz")
    films = load_imdb(archive, unpack=False, val_by="film", seed=2)
    assert not films_in(films.train.texts) & films_in(films.val.texts)
    assert len(films.train) + len(films.val) == 2 * N and len(films.test) == 2 * N
    assert np.bincount(films.val.labels).tolist() == [6, 6]  # 20% of 30 per class
    assert films.fingerprint == load_imdb(tree, val_by="film", seed=2).fingerprint  # folder
    texts = load_imdb(archive, unpack=False, seed=2)
    assert films.test.texts == texts.test.texts  # the test order does not depend on val_by
    assert films.fingerprint != texts.fingerprint
    assert load_imdb(archive, unpack=False, val_by="film", seed=3).val.texts != films.val.texts
    small = load_imdb(archive, unpack=False, val_by="film", seed=2, limit=10, eval_limit=4)
    assert (len(small.train), len(small.val), len(small.test)) == (10, 4, 4)
    assert not films_in(small.train.texts) & films_in(small.val.texts)


def test_missing_or_short_url_files(tmp_path: Path) -> None:
    bare = make_tree(tmp_path / "bare", urls=False)
    archive = as_archive(bare, tmp_path / "bare.tar.gz")
    for data, unpack in ((bare, True), (archive, False)):
        with pytest.raises(DataError, match=r"--val-by film needs train/urls_neg\.txt") as info:
            load_imdb(data, unpack=unpack, val_by="film")
        assert str(data) in str(info.value) and "\n" not in str(info.value)
    assert len(load_imdb(bare).val) == 12  # a text split needs no url files
    (bare / URL_FILES["train/neg"]).write_text("http://www.imdb.com/title/tt0000001/\n" * N)
    with pytest.raises(DataError, match=r"urls_pos\.txt \(the film"):
        load_imdb(bare, val_by="film")
    (bare / URL_FILES["train/pos"]).write_text("http://www.imdb.com/title/tt0000001/\n" * 5)
    with pytest.raises(DataError, match="it has 5 lines and train/pos has"):
        load_imdb(bare, val_by="film")
    with pytest.raises(DataError, match="line 1 is not one"):
        film_ids("train/pos", ["0_9.txt"], b"http://example.invalid/\n", "here")


# --- the request: saved, cached, checked ---------------------------------------------------


def test_request_round_trip_and_cache_key() -> None:
    film = DataRequest("imdb", val_by="film")
    assert film.to_dict()["val_by"] == "film"
    assert DataRequest.from_saved(film.to_dict(), "run") == film
    text = DataRequest("imdb")
    assert "val_by" not in text.to_dict()  # spec.json and cache keys as before --val-by
    old = {"name_or_path": "imdb", "data": None, "seed": 0, "limit": None, "eval_limit": None,
           "val_split": 0.2, "test": None, "text_col": None, "label_col": None}  # fmt: skip
    assert DataRequest.from_saved(old, "run").val_by == "text"
    with pytest.raises(DataError, match=r"run: spec\.json: --val-by: 'films'"):
        DataRequest.from_saved({**old, "val_by": "films"}, "run")
    assert "val_by" not in cache_identity(text, 100, 10)
    assert cache_identity(film, 100, 10)["val_by"] == "film"
    with pytest.raises(UsageError, match="imdb only"):
        DataRequest("sample", val_by="film")


def test_recipe_val_by(tmp_path: Path) -> None:
    from lstmcli.cli.recipe_flags import given_flags
    from lstmcli.train.recipes import parse_recipe

    recipe = parse_recipe("r", "r.toml", '[train]\nepochs = 2\nval-by = "film"\n')
    assert recipe.train == {"epochs": 2} and recipe.data == {"val_by": "film"}
    assert "data.val_by" in given_flags(None, {}, recipe)  # checked against the run by --resume
    with pytest.raises(UsageError, match=r"val-by = 'movie' must be 'text' or 'film'"):
        parse_recipe("r", "r.toml", '[train]\nval-by = "movie"\n')
    path = tmp_path / "film.toml"
    path.write_text('[train]\nval-by = "film"\n')
    # a recipe tuned on IMDB's films still trains on data without films: its film reads as text
    out = tmp_path / "run"
    flags = ["--epochs", "1", "--limit", "40", "--eval-limit", "20", "--no-xla", "-o", out]
    result = invoke(["train", "sample", "--recipe", path, *flags])
    assert result.exit_code == 0, result.output
    assert "val_by" not in json.loads((out / "spec.json").read_text())["data"]
    # the flag itself is not rewritten
    result = invoke(["train", "sample", "--recipe", path, "--val-by", "film", "--epochs", "1"])
    assert result.exit_code == 2 and "--val-by film applies to imdb only" in result.stderr


@pytest.mark.parametrize("command", ["train", "compare"])
def test_cli_bad_val_by(command: str) -> None:
    result = invoke([command, "sample", "--val-by", "films"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0
    assert "--val-by: 'films' is not one of text, film" in result.stderr
    result = invoke([command, "sample", "--val-by", "film"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0
    assert "--val-by film applies to imdb only" in result.stderr


# --- the real archive ----------------------------------------------------------------------


@pytest.mark.imdb
@pytest.mark.slow
def test_real_imdb_films_are_disjoint(imdb_archive: Path) -> None:
    got = read_files(locate_imdb(imdb_archive, unpack=False), LABELLED, list(URL_FILES.values()))
    parts = ("train/neg", "train/pos")
    films = np.array(
        [f for p in parts for f in film_ids(p, got.names[p], got.extra[URL_FILES[p]], "")]
    )
    labels = np.repeat([0, 1], [len(got.names[p]) for p in parts])
    assert len(films) == 25_000 and 3_000 < len(set(films)) < 4_000  # ~30 reviews a film
    for seed in (0, 1):
        req = DataRequest("imdb", seed=seed, val_by="film")
        train, val = film_split(got.names, got.extra, labels, req, str(imdb_archive))
        assert not set(films[train]) & set(films[val])
        assert abs(len(val) - 5_000) <= 25
        assert abs(np.bincount(labels[val]).tolist()[0] - 2_500) <= 25
