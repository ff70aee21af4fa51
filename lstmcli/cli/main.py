"""The entry point: it imports the command modules a command line needs, and runs the app.

``lstmcli shapes …`` imports only ``cli/model.py`` (the module that registers ``shapes``), so
the other commands' modules and the conversion of their many options into Click parameters
are never paid for; ``lstmcli --help`` imports every module (it lists every command) but
lists them from stand-ins without parameters; anything else (``--version``, a misspelt
command, shell completion) gets the whole app. ``COMMAND_MODULES`` is a plain table, not a
plug-in search: a command missing from it is a test failure (tests/test_startup.py), never
a command that silently disappears. ``from lstmcli.cli.main import app`` gives the whole app.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

# Every command (aliases included) and the cli module that registers it.
COMMAND_MODULES = {
    "summary": "model", "shapes": "model", "explain-shapes": "model", "build": "model",
    "train": "train", "evaluate": "train", "predict": "train", "compare": "compare",
    "report": "report", "pretrain": "embed", "neighbors": "embed", "neighbours": "embed",
    "inspect": "interpret", "doctor": "doctor", "env": "doctor", "cache": "cache",
}  # fmt: skip
HELP_ARGS = ([], ["--help"], ["-h"])


def load(modules: Any = None) -> Any:
    """Import the given command modules (default: all) and return the app they register on."""
    for module in sorted(set(COMMAND_MODULES.values()) if modules is None else modules):
        importlib.import_module(f"lstmcli.cli.{module}")
    from lstmcli.cli.app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, for tests and tools
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _safe_streams() -> None:
    """On a terminal or pipe that is not UTF-8 (``PYTHONIOENCODING=ascii``, ``LANG=C`` on old
    systems) characters such as → and · are written as ``\\u2192`` rather than failing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def _nothing() -> None:
    """A stand-in command's body: never run (only listed by ``--help``)."""


@contextlib.contextmanager
def _listing_only(app: Any) -> Iterator[None]:
    """The commands as stand-ins with the same names, help and panels but no parameters:
    ``lstmcli --help`` lists them without converting every option of every command."""
    saved = app.registered_commands
    stand_ins = []
    for info in saved:
        stand_in = copy.copy(info)
        stand_in.callback = _nothing
        stand_ins.append(stand_in)
    app.registered_commands = stand_ins
    try:
        yield
    finally:
        app.registered_commands = saved


def main() -> None:
    _safe_streams()
    argv = sys.argv[1:]
    completing = any(k.startswith("_LSTMCLI_COMPLETE") for k in os.environ)
    first = argv[0] if argv else None
    if first in COMMAND_MODULES and not completing:
        app, listing = load([COMMAND_MODULES[first]]), contextlib.nullcontext()
    else:
        app = load()
        listing = (
            _listing_only(app) if argv in HELP_ARGS and not completing else contextlib.nullcontext()
        )
    with listing:
        # The name, not argv[0]: `python -m lstmcli --show-completion` must print a script for
        # the `lstmcli` command (its environment variable is _LSTMCLI_COMPLETE).
        app(prog_name="lstmcli")
