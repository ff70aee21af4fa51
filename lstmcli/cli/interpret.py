"""``inspect``: gates, states and the prediction of a trained model as it reads a text.

The per-token numbers come from ``gates.py``; ``units.top_units`` ranks the units whose
final value best separates the classes of the run's validation split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli.cli.app import JsonFlag, clean_text, command
from lstmcli.core.errors import UsageError
from lstmcli.render.console import print_json, stdout

SHOWN, UNITS = "Shown", "--top-units"


def read_text(text: str | None, file: Path | None) -> str:
    if text is not None and file is not None:
        raise UsageError("give TEXT or --file F, not both")
    if file is not None:
        from lstmcli.cli.inputs import read_input

        text = read_input(file)
    if text is None:
        raise UsageError("give TEXT, --file F or --top-units K")
    text = clean_text(text)
    if not text.strip():
        raise UsageError("the text is empty; give a sentence or review to read")
    return text


_SHOW_HELP = (
    "Colour the text by prediction | forget | input | output | cell (GRU: update | reset; "
    "any cell: candidate | hidden)."
)


def _opt(*names: str, help: str, panel: str | None = None, **kw: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel, **kw)


@command("inspect")
def inspect_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    text: Annotated[str | None, typer.Argument(help="The text to read (or --file).")] = None,
    file: Annotated[
        Path | None, _opt("--file", "-f", help="Read the text from a file ('-': stdin).")
    ] = None,
    layer: Annotated[int, _opt("--layer", help="Recurrent layer K, 1-based.")] = 1,
    unit: Annotated[
        int | None, _opt("--unit", help="Unit N (0-based) instead of the mean.", panel=SHOWN)
    ] = None,
    show: Annotated[str, _opt("--show", help=_SHOW_HELP, panel=SHOWN)] = "prediction",
    rows: Annotated[
        int,
        _opt("--rows", min=0, panel=SHOWN,
             help="Table rows: the tokens that move the prediction most (0: all)."),
    ] = 40,
    png: Annotated[
        Path | None,
        _opt("--png", panel=SHOWN, help="Write a heatmap (tokens × units) and prediction curve."),
    ] = None,
    top: Annotated[
        int | None,
        _opt("--top-units", min=1, panel=UNITS,
             help="Rank the K units that best separate the classes (validation split)."),
    ] = None,
    data: Annotated[
        Path | None, _opt("--data", panel=UNITS, help="IMDB archive or folder (else the run's).")
    ] = None,
    limit: Annotated[
        int, _opt("--limit", min=2, panel=UNITS, help="Validation texts to use.")
    ] = 1000,
    n_tokens: Annotated[
        int, _opt("--tokens", min=0, panel=UNITS, help="Tokens listed per unit.")
    ] = 5,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Gates, cell and hidden state at every token, and the prediction as the model reads.

    Example: lstmcli inspect runs/imdb-lstm "Not good, but the ending is great." --show forget
    """
    from lstmcli.core.threads import one_blas_thread
    from lstmcli.interpret import gates
    from lstmcli.render import gates as render_inspect
    from lstmcli.rundir.folder import open_run

    opened = open_run(run)
    if top is not None:
        if text is not None or file is not None or png is not None:
            raise UsageError("--top-units reads the validation split; drop TEXT, --file and --png")
        return _top_units(opened, layer, top, data, limit, n_tokens, as_json)
    gates.check_view(opened.spec, layer, show, unit)
    if png is not None and png.suffix.lower() != ".png":
        raise UsageError(f"--png: {png} must end in .png")
    with one_blas_thread():
        insp = gates.inspect_text(opened, read_text(text, file), layer)
    if png is not None:
        render_inspect.write_png(insp, png, show, unit)
    out = stdout()
    if as_json:
        print_json(out, render_inspect.inspection_json(insp, unit))
        return
    render_inspect.render_inspection(out, insp, show, unit, rows)
    if png is not None:
        out.print(f"Wrote {png}", markup=False)


def _top_units(
    opened: Any, layer: int, k: int, data: Path | None, limit: int, n_tokens: int, as_json: bool
) -> None:
    from lstmcli.core.threads import one_blas_thread
    from lstmcli.interpret import gates
    from lstmcli.interpret.units import top_units, validation_texts
    from lstmcli.render import gates as render_inspect

    gates.check_view(opened.spec, layer)
    texts, labels = validation_texts(opened, data, limit)
    with one_blas_thread():
        result = top_units(opened, texts, labels, layer, k, n_tokens)
    out = stdout()
    if as_json:
        print_json(out, render_inspect.top_units_json(result))
    else:
        render_inspect.render_top_units(out, result)
