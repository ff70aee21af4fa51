"""What lstmcli's caches hold, and freeing them (``lstmcli cache list`` / ``cache clear``).

Three folders under the cache home (``core/paths.py``), each a list of entries: a file, or a
folder counted as one entry (an unpacked data set):

- ``vectorized``: token ids of data sets seen before (``data/vcache.py``), one ``.npz`` each;
- ``xla``: XLA programs TensorFlow compiled, one file per model and batch shape;
- ``datasets``: the IMDB download, unpacked (``aclImdb``, ``aclImdb-<sha>``), or an archive.

Everything in them can be made again (the data set by downloading it again), so nothing asks
for confirmation; ``dry_run`` says what would go. A folder is renamed to a hidden name before it
is deleted, so an interrupted ``clear`` never leaves half a data set where lstmcli would read
it (the hidden leftover is an entry like any other and goes the next time).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from lstmcli.core import paths
from lstmcli.core.errors import UsageError

DAY = 86_400.0
# name → (what it holds, its folder); the order ``cache list`` shows them in.
KINDS: dict[str, tuple[str, str]] = {
    "vectorized": ("token ids of data sets seen before", "vector_cache_dir"),
    "xla": ("compiled XLA programs", "xla_cache_dir"),
    "datasets": ("downloaded and unpacked data sets", "datasets_dir"),
}


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int  # bytes on disk, every file under a folder included (what removing it frees)
    mtime: float  # the newest modification time of the entry or anything in it


def _on_disk(st: os.stat_result) -> int:
    """Bytes a file takes on disk: whole blocks (100,000 small review files take 3× their
    length); the length where the OS does not say (Windows)."""
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


@dataclass
class CacheInfo:
    kind: str
    description: str
    path: Path
    entries: list[Entry]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def oldest(self) -> float | None:
        return min((e.mtime for e in self.entries), default=None)

    @property
    def newest(self) -> float | None:
        return max((e.mtime for e in self.entries), default=None)


@dataclass
class Cleared:
    kind: str
    path: Path
    removed: int  # entries
    freed: int  # bytes
    kept: int
    kept_size: int


def cache_dir(kind: str) -> Path:
    return getattr(paths, KINDS[kind][1])()


def _entry(path: Path) -> Entry:
    st = path.lstat()
    size, newest = _on_disk(st), st.st_mtime
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in files + dirs:
                with contextlib.suppress(OSError):  # vanished meanwhile
                    fst = os.lstat(os.path.join(root, name))
                    size += _on_disk(fst)
                    if name in files:  # a file's age, not a folder's (listing it changes that)
                        newest = max(newest, fst.st_mtime)
    return Entry(path, size, newest)


def entries(folder: Path) -> list[Entry]:
    """The folder's entries, oldest first (none when it does not exist)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            found.append(_entry(path))
    return sorted(found, key=lambda e: (e.mtime, e.path.name))


def list_caches() -> list[CacheInfo]:
    return [CacheInfo(k, d, cache_dir(k), entries(cache_dir(k))) for k, (d, _) in KINDS.items()]


def check_kinds(kinds: list[str]) -> list[str]:
    """``all`` or the names of caches, in ``KINDS`` order; an unknown name is refused."""
    for kind in kinds:
        if kind != "all" and kind not in KINDS:
            raise UsageError(f"--what {kind}: choose from {', '.join(KINDS)}, all")
    chosen = set(kinds) if kinds and "all" not in kinds else set(KINDS)
    return [k for k in KINDS if k in chosen]


def remove(path: Path) -> None:
    """Delete a file, a link (never what it points to) or a whole folder."""
    if path.is_dir() and not path.is_symlink():
        hidden = path.with_name(f".{path.name.lstrip('.')}.deleting-{uuid.uuid4().hex[:8]}")
        os.rename(path, hidden)  # from now on lstmcli no longer finds it as a cache
        shutil.rmtree(hidden)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clear_caches(
    kinds: list[str], older_than_days: float | None = None, *, dry_run: bool = False,
    now: float | None = None,
) -> list[Cleared]:  # fmt: skip
    """Delete the entries of ``kinds`` (all of them, or those not modified for more than
    ``older_than_days`` days); say per cache what went and what stayed."""
    if older_than_days is not None and not 0 <= older_than_days < 1e6:
        raise UsageError(f"--older-than {older_than_days}: give a number of days ≥ 0")
    cutoff = None if older_than_days is None else (now or time.time()) - older_than_days * DAY
    done = []
    for kind in check_kinds(kinds):
        found = entries(cache_dir(kind))
        going = [e for e in found if cutoff is None or e.mtime < cutoff]
        if not dry_run:
            for entry in going:
                remove(entry.path)
        kept = [e for e in found if e not in going]
        done.append(Cleared(kind, cache_dir(kind), len(going), sum(e.size for e in going),
                            len(kept), sum(e.size for e in kept)))  # fmt: skip
    return done
