"""``cache list`` and ``cache clear``: what lstmcli keeps on disk, and freeing it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from lstmcli.cli.app import JsonFlag, app, handle_errors
from lstmcli.cli.commands import COMMANDS
from lstmcli.render.console import print_json, stdout

cache_app = typer.Typer(
    help=COMMANDS["cache"].summary,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(cache_app, name="cache")


class What(StrEnum):
    vectorized = "vectorized"
    xla = "xla"
    datasets = "datasets"
    all = "all"


@cache_app.command("list")
@handle_errors
def list_cmd(as_json: JsonFlag = False) -> None:
    """Each cache: its folder, entries, size, oldest and newest entry.

    Example: lstmcli cache list
    """
    from lstmcli.core.paths import home
    from lstmcli.data.caches import list_caches
    from lstmcli.render.caches import cache_list_json, render_cache_list

    caches = list_caches()
    if as_json:
        print_json(stdout(), cache_list_json(caches, home()))
    else:
        render_cache_list(stdout(), caches, home())


@cache_app.command("clear")
@handle_errors
def clear_cmd(
    what: Annotated[list[What] | None, typer.Option("--what", help="Which cache (repeatable; default: all).", show_default=False)] = None,
    older_than: Annotated[float | None, typer.Option("--older-than", min=0, help="Only entries not modified for more than DAYS days.", metavar="DAYS")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Say what would be removed; remove nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Delete cached entries and say how much space that freed.

    Everything here is made again when needed (IMDB by downloading it again).
    Example: lstmcli cache clear --older-than 30
    """
    from lstmcli.data.caches import clear_caches
    from lstmcli.render.caches import cleared_json, render_cleared

    cleared = clear_caches([w.value for w in what or []], older_than, dry_run=dry_run)
    if as_json:
        print_json(stdout(), cleared_json(cleared, dry_run))
    else:
        render_cleared(stdout(), cleared, dry_run)
