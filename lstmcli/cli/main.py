"""The entry point: every command module is imported here, so each registers its commands.

Plain imports, not a plug-in search: a missing module is an ImportError at start-up, never a
command that silently disappears.
"""

from __future__ import annotations

from lstmcli.cli import cache, compare, doctor, embed, interpret, model, report, train  # noqa: F401 (registering)
from lstmcli.cli.app import app


def main() -> None:
    # The name, not argv[0]: `python -m lstmcli --show-completion` must print a script for the
    # `lstmcli` command (its environment variable is _LSTMCLI_COMPLETE).
    app(prog_name="lstmcli")
