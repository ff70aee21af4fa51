"""``report``: one self-contained HTML page about a run, to look at in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lstmcli.cli.app import command, printable
from lstmcli.cli.options import DataOption, QuietFlag
from lstmcli.core.errors import UsageError
from lstmcli.render.console import stderr_console, stdout


@command("report")
def report_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The HTML file to write (default: RUN/report.html).", show_default=False)] = None,
    data: DataOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=2, help="Evaluate on N texts of each split (balanced).")] = None,
    reviews: Annotated[int, typer.Option("--reviews", min=0, max=60, help="Validation reviews to show, coloured word by word.")] = 6,
    quiet: QuietFlag = False,
) -> None:  # fmt: skip
    """Example: lstmcli report runs/imdb-lstm -o imdb-lstm.html"""
    from lstmcli.interpret.report_data import gather_report
    from lstmcli.render.report import write_report
    from lstmcli.render.train import DownloadProgress
    from lstmcli.rundir.folder import RunFiles, open_run
    from lstmcli.train.predictor import eval_threads

    if output is not None and output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--output: {output} must end in .html")
    if output is not None and output.is_dir():
        raise UsageError(f"--output: {output} is a folder; give a file name such as report.html")
    eval_threads()
    opened = open_run(run)
    err = stderr_console()

    def stage(message: str) -> None:
        if not quiet:
            err.print(printable(message), style="dim", markup=False)

    with DownloadProgress(err, quiet) as download:
        data_str = str(data) if data else None
        found = gather_report(
            opened, data=data_str, limit=limit, reviews=reviews, progress=download, stage=stage
        )
    target = output or RunFiles(opened.path).report
    size = write_report(found, target)
    out = stdout()
    for note in found.notes:
        out.print(f"note: {printable(note)}", markup=False)
    out.print(f"Wrote {printable(str(target))} ({size / 1024:,.0f} KB)", markup=False)
