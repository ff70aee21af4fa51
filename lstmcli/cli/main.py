"""The entry point: it imports the command modules a command line needs, and runs the app.

``lstmcli shapes …`` imports only ``cli/model.py`` (the module that registers ``shapes``), so
the other commands' modules and the conversion of their many options into Click parameters
are never paid for; ``lstmcli --help`` imports no command module at all: it lists stand-ins
made from the command table (cli/commands.py: names, summaries, order); anything else
(``--version``, a misspelt command, shell completion) gets the whole app. The table is plain
data, not a plug-in search: a command missing from it is a test failure
(tests/test_startup.py), never a command that silently disappears. ``from lstmcli.cli.main
import app`` gives the whole app.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from lstmcli.cli.commands import COMMANDS, MODULES

HELP_ARGS = ([], ["--help"], ["-h"])


def load(modules: Any = None) -> Any:
    """Import the given command modules (default: all) and return the app they register on."""
    for module in sorted(set(MODULES.values()) if modules is None else modules):
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
def listing(app: Any) -> Iterator[None]:
    """``app`` with a stand-in for every command of the table while the block runs: the
    same names, summaries and order as the whole app's, no parameters, no command module
    imported. The app's own commands are put back after."""
    saved = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = [], []
    for name, entry in COMMANDS.items():
        app.command(name, help=entry.summary)(_nothing)
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = saved


def main() -> None:
    _safe_streams()
    argv = sys.argv[1:]
    completing = any(k.startswith("_LSTMCLI_COMPLETE") for k in os.environ)
    first = argv[0] if argv else None
    only_list = argv in HELP_ARGS and not completing
    if first in MODULES and not completing:
        app = load([MODULES[first]])
    else:
        app = load([] if only_list else None)
    try:
        with listing(app) if only_list else contextlib.nullcontext():
            # The name, not argv[0]: `python -m lstmcli --show-completion` must print a
            # script for the `lstmcli` command (its environment variable is _LSTMCLI_COMPLETE).
            app(prog_name="lstmcli")
    except SystemExit as done:
        finish(done.code)
    finish(0)


def finish(code: Any) -> None:
    """End the process with ``code`` (as ``SystemExit`` takes it). Once TensorFlow is loaded,
    Python's own shutdown (freeing every module's objects, then TensorFlow's C++ teardown)
    takes about a second after the last line is printed (measured: 0.95 s for a process that
    imported TensorFlow and Keras and predicted once, 0.06 s with ``os._exit``); every command
    that trains or predicts would pay it. So, as mypy does, such a process ends with
    ``os._exit`` once its streams are flushed and its ``atexit`` handlers (logging, temporary
    folders) have run. Everything lstmcli writes is complete by then (files are written to
    a temporary name and renamed into place). A non-daemon thread still running, or coverage
    measuring this process, gets Python's normal exit."""
    import atexit
    import threading

    if code is None or isinstance(code, int):
        status = code or 0
    else:  # SystemExit("message"): the message printed, status 1
        print(code, file=sys.stderr)
        status = 1
    busy = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if "tensorflow" not in sys.modules or busy or "coverage" in sys.modules:
        raise SystemExit(status)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is None:  # pragma: no cover - a Python without it
        raise SystemExit(status)
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)
