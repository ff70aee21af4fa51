"""Where lstmcli keeps its files. Everything honours ``$LSTMCLI_HOME`` so tests can isolate it.

The cache folder is, in order: ``$LSTMCLI_HOME``; ``$XDG_CACHE_HOME/lstmcli`` when that is
set (on every OS: a user who sets it means it); else the platform's own cache folder from
``platformdirs`` (``~/.cache/lstmcli`` on Linux, ``~/Library/Caches/lstmcli`` on macOS,
``%LOCALAPPDATA%\\lstmcli\\Cache`` on Windows).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The cache folder (see the module docstring)."""
    env = os.environ.get("LSTMCLI_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "lstmcli"
    import platformdirs

    return Path(platformdirs.user_cache_dir("lstmcli", appauthor=False))


def datasets_dir() -> Path:
    """Downloaded and unpacked data sets (IMDB)."""
    return home() / "datasets"


def vector_cache_dir() -> Path:
    """Token ids of data sets seen before (``data/vcache.py``)."""
    return home() / "vectorized"


def xla_cache_dir() -> Path:
    """XLA programs compiled by TensorFlow, kept between runs (``backend/tf.py``)."""
    return home() / "xla-cache"
