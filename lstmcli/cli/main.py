"""The entry point: every command module is imported here, so each registers its commands.

Plain imports, not a plug-in search: a missing module is an ImportError at start-up, never a
command that silently disappears.
"""

from __future__ import annotations

import contextlib
import sys

from lstmcli.cli import cache, compare, doctor, embed, interpret, model, report, train  # noqa: F401 (registering)
from lstmcli.cli.app import app


def _safe_streams() -> None:
    """On a terminal or pipe that is not UTF-8 (``PYTHONIOENCODING=ascii``, ``LANG=C`` on old
    systems) characters such as → and · are written as ``\\u2192`` rather than failing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def main() -> None:
    _safe_streams()
    # The name, not argv[0]: `python -m lstmcli --show-completion` must print a script for the
    # `lstmcli` command (its environment variable is _LSTMCLI_COMPLETE).
    app(prog_name="lstmcli")
