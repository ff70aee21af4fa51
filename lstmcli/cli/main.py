"""The entry point: every command module is imported here, so each registers its commands.

Plain imports, not a plug-in search: a missing module is an ImportError at start-up, never a
command that silently disappears.
"""

from __future__ import annotations

from lstmcli.cli import doctor, embed, interpret, model, train  # noqa: F401  (they register commands)
from lstmcli.cli.app import app


def main() -> None:
    app()
