"""Tables and JSON for ``cache list`` and ``cache clear``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from lstmcli.data.caches import CacheInfo, Cleared
from lstmcli.model.arith import human_bytes


def _when(t: float | None) -> str:
    return "—" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def render_cache_list(console: Console, caches: list[CacheInfo], home: Path) -> None:
    """One row per cache (entries, size, oldest and newest entry)."""
    console.print(f"lstmcli caches in {home}", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in (("cache", "left"), ("entries", "right"), ("on disk", "right"),
                          ("oldest", "left"), ("newest", "left")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for c in caches:
        table.add_row(c.kind, f"{len(c.entries):,}", human_bytes(c.size),
                      _when(c.oldest), _when(c.newest))  # fmt: skip
    console.print(table)
    total = sum(c.size for c in caches)
    console.print(f"Total {human_bytes(total)} on disk. To free space: lstmcli cache clear "
                  "[--older-than DAYS]", markup=False)  # fmt: skip


def cache_list_json(caches: list[CacheInfo], home: Path) -> dict[str, Any]:
    return {
        "home": str(home),
        "caches": [
            {"name": c.kind, "holds": c.description, "path": str(c.path),
             "entries": len(c.entries), "bytes": c.size, "oldest": c.oldest, "newest": c.newest,
             "oldest_iso": _iso(c.oldest), "newest_iso": _iso(c.newest)}
            for c in caches
        ],
        "total_bytes": sum(c.size for c in caches),
    }  # fmt: skip


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def render_cleared(console: Console, cleared: list[Cleared], dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    for c in cleared:
        s = "y" if c.removed == 1 else "ies"
        console.print(f"{c.kind}: {verb} {c.removed:,} entr{s} ({human_bytes(c.freed)}); "
                      f"kept {c.kept:,} ({human_bytes(c.kept_size)})", markup=False)  # fmt: skip
    freed = human_bytes(sum(c.freed for c in cleared))
    console.print(f"Would free {freed}" if dry_run else f"Freed {freed}", markup=False)


def cleared_json(cleared: list[Cleared], dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "caches": [
            {"name": c.kind, "path": str(c.path), "removed": c.removed, "freed_bytes": c.freed,
             "kept": c.kept, "kept_bytes": c.kept_size}
            for c in cleared
        ],
        "freed_bytes": sum(c.freed for c in cleared),
    }  # fmt: skip
