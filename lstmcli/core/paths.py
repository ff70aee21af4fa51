"""Where lstmcli keeps its files. Everything honours ``$LSTMCLI_HOME`` so tests can isolate it."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``$LSTMCLI_HOME``, else the per-user cache directory (XDG on Linux)."""
    env = os.environ.get("LSTMCLI_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lstmcli"


def datasets_dir() -> Path:
    return home() / "datasets"


def vector_cache_dir() -> Path:
    return home() / "vectorized"
