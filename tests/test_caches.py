"""Caches notice change and damage (issue 17): the vectorised data and the XLA programs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import VOCAB, invoke, make_run

from lstmcli.data import prepare
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec

pytestmark = pytest.mark.slow
TINY = ["--cell", "simplernn", "--units", "3", "--embed-dim", "3", "--vocab", "40",
        "--seq-len", "12", "--batch-size", "8", "--epochs", "1", "--no-xla"]  # fmt: skip


def write_folder(root: Path, start: int, count: int) -> None:
    for i in range(start, start + count):
        label = ("neg", "pos")[i % 2]
        words = "great fun moving" if label == "pos" else "dull boring bad"
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{i:04d}.txt").write_text(f"{words} film number {i}")


def entries(home: Path) -> list[Path]:
    return sorted((home / "vectorized").glob("*.npz"))


def train(folder: Path, out: Path) -> object:
    result = invoke(["train", folder, *TINY, "--output", out])
    assert result.exit_code == 0, result.output
    return result


def test_vectorised_cache_notices_change_damage_and_a_full_disk(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "folder"
    write_folder(folder, 0, 40)
    (isolated_home / "vectorized").mkdir()
    leftover = isolated_home / "vectorized" / ".ab12.npz.tmp999999999-xyz.npz"
    leftover.write_bytes(b"half an entry from a killed process")

    first = train(folder, tmp_path / "r1")
    assert f"reading {folder}" in first.stdout and not leftover.exists()
    [entry] = entries(isolated_home)

    # A flipped bit: the zip's CRC notices; reported once, naming the file, and rebuilt.
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x40
    entry.write_bytes(bytes(data))
    damaged = train(folder, tmp_path / "r2")
    assert damaged.stderr.count("lstmcli: warning:") == 1
    assert damaged.stderr.startswith(
        f"lstmcli: warning: vectorised-data cache entry {entry} is damaged ("
    )
    assert damaged.stderr.endswith("); rebuilding it\n")
    assert f"reading {folder}" in damaged.stdout
    assert entries(isolated_home) == [entry]
    with np.load(entry) as z:  # a complete entry again
        assert {"key", "train_ids", "val_ids"} <= set(z.files)

    # More files in the class folders (the top folder's own size and time may not change).
    write_folder(folder, 40, 20)
    real_savez = np.savez

    def savez_on_a_full_disk(path, *args, **kw):
        if "vectorized" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_savez(path, *args, **kw)

    monkeypatch.setattr(np, "savez", savez_on_a_full_disk)
    grown = train(folder, tmp_path / "r3")
    assert f"reading {folder}" in grown.stdout and "from cache" not in grown.stdout
    assert grown.stderr == (
        f"lstmcli: warning: cannot write the vectorised-data cache in {isolated_home / 'vectorized'} "
        "(No space left on device); going on without it\n"
    )
    assert entries(isolated_home) == [entry]
    m1 = json.loads((tmp_path / "r1" / "metrics.json").read_text())
    m3 = json.loads((tmp_path / "r3" / "metrics.json").read_text())
    assert (m1["n"], m3["n"]) == (8, 12)  # validation: 20% of 40 files, then of 60

    # LSTMCLI_NO_CACHE: the cache is neither read nor written.
    monkeypatch.undo()
    monkeypatch.setenv("LSTMCLI_NO_CACHE", "1")
    uncached = train(folder, tmp_path / "r4")
    assert f"reading {folder}" in uncached.stdout and uncached.stderr == ""
    assert entries(isolated_home) == [entry]


def test_cache_key_covers_every_file(tmp_path: Path) -> None:
    """Same size, same second: a CSV edited in place, a file renamed inside a folder."""
    csv = tmp_path / "d.csv"
    csv.write_text("text,label\ngood,pos\nbad,neg\n")
    req = DataRequest(str(csv))
    before = prepare.cache_identity(req, 100, 10)
    stat = csv.stat()
    csv.write_text("text,label\ngold,pos\nbad,neg\n")
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert prepare.cache_identity(req, 100, 10) != before
    folder = tmp_path / "f"
    write_folder(folder, 0, 4)
    req = DataRequest(str(folder))
    before = prepare.cache_identity(req, 100, 10)
    (folder / "pos" / "0001.txt").rename(folder / "pos" / "0009.txt")
    assert prepare.cache_identity(req, 100, 10) != before


def test_a_killed_unpack_is_cleaned_up(tmp_path: Path, isolated_home: Path) -> None:
    leftover = isolated_home / "datasets" / ".aclImdb-0123456789abcdef.tmp999999999-x.tmp"
    (leftover / "aclImdb").mkdir(parents=True)
    live = isolated_home / "datasets" / f".aclImdb.tmp{os.getpid()}-y.tmp"
    live.mkdir()
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not gzip")
    result = invoke(["train", "imdb", "--data", garbage])
    assert result.exit_code == 1
    assert not leftover.exists() and live.exists()


def test_damaged_xla_programs_are_reported_and_compiled_again(tmp_path: Path) -> None:
    """Two processes on one cache: the first (with KERAS_BACKEND=jax, which lstmcli
    overrides) compiles and caches the XLA programs; they are then overwritten with junk,
    and the second reports each once, compiles it again and gives the same numbers."""
    run = make_run(
        tmp_path / "run",
        ModelSpec(units=(3,), vocab=len(VOCAB), embed_dim=4, seq_len=20, mask_zero=True),
        extra={"data": {"name_or_path": "sample", "eval_limit": 40}},
        scale=0.5,
    )
    home = tmp_path / "home"

    def evaluate(**more: str) -> tuple[dict, str]:
        # (TF_XLA_FLAGS of this process already names the cache of another test's home)
        env = {**os.environ, "LSTMCLI_HOME": str(home), "TF_XLA_FLAGS": "", **more}
        done = subprocess.run(
            [sys.executable, "-m", "lstmcli", "evaluate", str(run), "--xla", "--json"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        metrics = json.loads(done.stdout)
        return {k: v for k, v in metrics.items() if not k.startswith("eval_")}, done.stderr

    first, err = evaluate(KERAS_BACKEND="jax")
    assert err == ""
    programs = sorted((home / "xla-cache").glob("*.pb"))
    assert programs
    for path in programs:
        path.write_bytes(os.urandom(3000))
    second, err = evaluate()
    assert sorted(err.splitlines()) == sorted(
        f"lstmcli: warning: XLA program cache entry {p} was damaged; deleted it and compiled again"
        for p in programs
    )
    assert second == first


def test_a_second_train_reuses_the_first_ones_xla_programs(tmp_path: Path) -> None:
    """The first run vectorises its data (tracing TextVectorization first) and compiles the
    step; the second reads the vectorised cache instead and must find every program it runs
    in the XLA cache (TensorFlow names traced functions from a process-wide counter, and the
    names are in the cache key: backend/xlacache.align_trace_names)."""
    home = tmp_path / "home"
    env = {**os.environ, "LSTMCLI_HOME": str(home), "TF_XLA_FLAGS": ""}
    flags = ["--epochs", "1", "--limit", "200", "--eval-limit", "60", "--units", "4",
             "--embed-dim", "4", "--vocab", "300", "--seq-len", "60", "--xla", "-q"]  # fmt: skip
    seen = []
    for i in (1, 2):
        done = subprocess.run(
            [sys.executable, "-m", "lstmcli", "train", "sample", *flags,
             "--output", str(tmp_path / f"run{i}")],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        seen.append(sorted(p.name for p in (home / "xla-cache").glob("*.pb")))
    assert seen[0], "the first run compiled nothing into the cache"
    assert seen[1] == seen[0]  # nothing new compiled by the second run
