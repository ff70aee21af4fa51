"""``cache list`` and ``cache clear`` on a cache folder filled by hand (real files, real ages)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from helpers import invoke

from lstmcli.core import paths
from lstmcli.data import caches
from lstmcli.model.arith import human_bytes

DAY = 86_400


def disk(path: Path) -> int:
    """Bytes on disk of a file, or of a folder and everything in it (whole blocks)."""
    paths_in = [path, *(path.rglob("*") if path.is_dir() else [])]
    return sum(os.lstat(p).st_blocks * 512 for p in paths_in)


def _file(path: Path, size: int, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = time.time() - age_days * DAY
    os.utime(path, (t, t))
    return path


@pytest.fixture
def filled(isolated_home: Path) -> dict[str, Path]:
    vec, xla, ds = paths.vector_cache_dir(), paths.xla_cache_dir(), paths.datasets_dir()
    made = {
        "vec_old": _file(vec / "old.npz", 1000, 40),
        "vec_new": _file(vec / "new.npz", 300, 1),
        "xla_old": _file(xla / "xla_compile_cache__1__XLA_CPU_JIT.pb", 5000, 90),
        "imdb_file": _file(ds / "aclImdb" / "train" / "pos" / "0_9.txt", 70, 50),
    }
    _file(ds / "aclImdb" / "test" / "neg" / "1_1.txt", 30, 45)  # newest file inside: 45 days
    os.utime(ds / "aclImdb", (time.time() - 45 * DAY,) * 2)
    return made


def test_list_json(filled: dict[str, Path]) -> None:
    result = invoke(["cache", "list", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["home"] == str(paths.home())
    by_name = {c["name"]: c for c in doc["caches"]}
    assert list(by_name) == ["vectorized", "xla", "datasets"]
    vec_bytes = disk(filled["vec_old"]) + disk(filled["vec_new"])
    imdb_bytes = disk(paths.datasets_dir() / "aclImdb")
    assert (by_name["vectorized"]["entries"], by_name["vectorized"]["bytes"]) == (2, vec_bytes)
    assert (by_name["xla"]["entries"], by_name["xla"]["bytes"]) == (1, disk(filled["xla_old"]))
    assert (by_name["datasets"]["entries"], by_name["datasets"]["bytes"]) == (1, imdb_bytes)
    assert imdb_bytes >= 100 and disk(filled["xla_old"]) >= 5000  # at least the contents
    vec = by_name["vectorized"]
    assert vec["oldest"] == pytest.approx(filled["vec_old"].stat().st_mtime)
    assert vec["newest"] == pytest.approx(filled["vec_new"].stat().st_mtime)
    assert by_name["datasets"]["newest"] == pytest.approx(time.time() - 45 * DAY, abs=60)
    assert doc["total_bytes"] == vec_bytes + disk(filled["xla_old"]) + imdb_bytes


def test_list_table(filled: dict[str, Path]) -> None:
    result = invoke(["cache", "list"], columns=80)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"lstmcli caches in {paths.home()}"
    row = next(ln for ln in lines if ln.strip().startswith("vectorized"))
    size = human_bytes(disk(filled["vec_old"]) + disk(filled["vec_new"]))
    assert row.split()[1:4] == ["2", *size.split()]  # entries, size on disk
    total = json.loads(invoke(["cache", "list", "--json"]).stdout)["total_bytes"]
    assert f"Total {human_bytes(total)} on disk" in result.stdout
    assert all(len(ln) <= 80 for ln in lines)


def test_clear_older_than(filled: dict[str, Path]) -> None:
    old, new = disk(filled["vec_old"]), disk(filled["vec_new"])
    result = invoke(["cache", "clear", "--older-than", "30", "--json"])
    assert result.exit_code == 0, result.output
    doc = {c["name"]: c for c in json.loads(result.stdout)["caches"]}
    assert (doc["vectorized"]["removed"], doc["vectorized"]["freed_bytes"]) == (1, old)
    assert (doc["vectorized"]["kept"], doc["vectorized"]["kept_bytes"]) == (1, new)
    assert (doc["xla"]["removed"], doc["datasets"]["removed"]) == (1, 1)
    freed = sum(c["freed_bytes"] for c in doc.values())
    assert json.loads(result.stdout)["freed_bytes"] == freed > old
    assert not filled["vec_old"].exists() and filled["vec_new"].exists()
    assert not (paths.datasets_dir() / "aclImdb").exists()
    assert list(paths.datasets_dir().iterdir()) == []  # no hidden leftover either
    again = invoke(["cache", "list", "--json"])
    assert json.loads(again.stdout)["total_bytes"] == new


def test_clear_what_and_dry_run(filled: dict[str, Path]) -> None:
    xla, imdb = disk(filled["xla_old"]), disk(paths.datasets_dir() / "aclImdb")
    vec = disk(filled["vec_old"]) + disk(filled["vec_new"])
    dry = invoke(["cache", "clear", "--what", "xla", "--what", "datasets", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"xla: would remove 1 entry ({human_bytes(xla)})" in dry.stdout
    assert f"Would free {human_bytes(xla + imdb)}" in dry.stdout and "vectorized" not in dry.stdout
    assert all(p.exists() for p in filled.values())
    done = invoke(["cache", "clear", "--what", "xla"])
    assert done.exit_code == 0 and f"Freed {human_bytes(xla)}" in done.stdout
    assert not filled["xla_old"].exists() and filled["vec_old"].exists()
    everything = invoke(["cache", "clear"])
    assert everything.exit_code == 0 and f"Freed {human_bytes(vec + imdb)}" in everything.stdout
    assert json.loads(invoke(["cache", "list", "--json"]).stdout)["total_bytes"] == 0


def test_clear_removes_links_not_their_targets(isolated_home: Path, tmp_path: Path) -> None:
    precious = _file(tmp_path / "keep" / "data.txt", 10, 0)
    paths.datasets_dir().mkdir(parents=True)
    (paths.datasets_dir() / "aclImdb").symlink_to(precious.parent, target_is_directory=True)
    assert invoke(["cache", "clear"]).exit_code == 0
    assert precious.exists() and not (paths.datasets_dir() / "aclImdb").exists()


def test_interrupted_folder_removal_leaves_no_half_dataset(isolated_home: Path) -> None:
    folder = paths.datasets_dir() / "aclImdb"
    _file(folder / "train" / "pos" / "1.txt", 5, 0)
    hidden = paths.datasets_dir() / ".aclImdb.deleting-0000"
    os.rename(folder, hidden)  # what clear does first; a crash right after leaves this
    assert not folder.exists()
    listed = caches.list_caches()[2]
    assert [e.path.name for e in listed.entries] == [hidden.name]
    caches.clear_caches(["datasets"])
    assert list(paths.datasets_dir().iterdir()) == []


def test_bad_values() -> None:
    for args in (["cache", "clear", "--what", "models"], ["cache", "clear", "--older-than", "-1"],
                 ["cache", "list", "--bogus"]):  # fmt: skip
        result = invoke(args, prog_name="lstmcli")
        assert result.exit_code == 2, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("lstmcli cache")
    assert invoke(["cache"]).exit_code == 2  # the help, and a line saying a command is missing


def test_cache_home_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setenv("LSTMCLI_HOME", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.home() == tmp_path / "mine"
    monkeypatch.delenv("LSTMCLI_HOME")
    assert paths.home() == tmp_path / "xdg" / "lstmcli"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert paths.home() == Path(platformdirs.user_cache_dir("lstmcli", appauthor=False))
    assert paths.xla_cache_dir() == paths.home() / "xla-cache"
