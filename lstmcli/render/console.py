"""The consoles every command writes to, JSON output and the shared progress bar."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress


def stdout() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    """Progress bars and stage messages go to stderr so stdout stays clean (e.g. for --json)."""
    return Console(stderr=True, highlight=False)


def print_json(console: Console, data: Any) -> None:
    # soft_wrap so long lines are never broken: the output must stay valid JSON.
    console.print(json.dumps(data, indent=2), soft_wrap=True, markup=False, highlight=False)


def counted_progress(console: Console, description: str) -> Progress:
    """A transient bar with ``n/total``, a ``stats`` field and the time left (train, pretrain)."""
    # Imported here: rich.progress costs start-up time that --help and shapes never need.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
