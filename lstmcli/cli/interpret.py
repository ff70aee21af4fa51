"""``inspect``: gates, states and the prediction of a trained model as it reads a text.

The per-token numbers come from ``gates.py``, the logit's split from ``logit.py``, one step's
equations from ``step.py``; ``units.top_units`` ranks the units whose final value best
separates the classes of the run's validation split.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    layer: Annotated[
        int | None, _opt("--layer", help="Recurrent layer K, 1-based (default: the last).")
    ] = None,
    unit: Annotated[
        int | None,
        _opt("--unit", panel=SHOWN,
             help="Follow unit N (0-based) instead of the units that decided."),
    ] = None,
    deciders: Annotated[
        int,
        _opt("--deciders", min=1, panel=SHOWN,
             help="Follow the K units with the largest share |w·h_T| of the logit."),
    ] = 3,
    step: Annotated[
        str | None,
        _opt("--step", panel=SHOWN, metavar="WORD|K",
             help="One timestep of the unit (--unit N or the top one), equations with numbers."),
    ] = None,
    mean: Annotated[
        bool, _opt("--mean", panel=SHOWN, help="The means over all units (the old first look).")
    ] = False,
    show: Annotated[str, _opt("--show", help=_SHOW_HELP, panel=SHOWN)] = "prediction",
    rows: Annotated[
        int,
        _opt("--rows", min=0, panel=SHOWN,
             help="Table rows: the tokens that move the logit most (0: all)."),
    ] = 40,
    png: Annotated[
        Path | None,
        _opt("--png", panel=SHOWN,
             help="Write heatmaps of the followed units' gates and states (--mean: all units)."),
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
    """Example: lstmcli inspect runs/imdb-lstm "Not good, but the ending is great." --step but"""
    from lstmcli.core.threads import one_blas_thread
    from lstmcli.interpret import gates
    from lstmcli.rundir.folder import open_run

    opened = open_run(run)
    if top is not None:
        if text is not None or file is not None or png is not None or step is not None:
            raise UsageError("--top-units reads the validation split; drop TEXT, --file, --png "
                             "and --step")  # fmt: skip
        return _top_units(opened, layer or 1, top, data, limit, n_tokens, as_json)
    gates.check_view(opened.spec, layer, show, unit)
    if mean and (unit is not None or step is not None):
        raise UsageError("--mean shows the means over units; drop --unit and --step")
    if png is not None and png.suffix.lower() != ".png":
        raise UsageError(f"--png: {png} must end in .png")
    with one_blas_thread():
        insp = gates.inspect_text(opened, read_text(text, file), layer)
    view = View(show, unit, rows, mean, deciders, png, as_json)
    if step is not None:
        return _step(insp, step, view)
    _show(insp, view)


@dataclass
class View:
    """How ``inspect`` shows one text (its flags)."""

    show: str
    unit: int | None
    rows: int
    mean: bool
    deciders: int
    png: Path | None
    as_json: bool


def _write_png(insp: Any, view: View) -> None:
    from lstmcli.render import gates as render_inspect

    if view.png is None:
        return
    if render_inspect.uses_means(insp, view.mean, view.unit):
        render_inspect.write_png(insp, view.png, view.show, view.unit)
    else:
        render_inspect.write_units_png(insp, view.png, insp.deciders(view.deciders, view.unit))


def _show(insp: Any, view: View) -> None:
    from lstmcli.render import gates as render_inspect

    _write_png(insp, view)
    out = stdout()
    if view.as_json:
        print_json(out, render_inspect.inspection_json(insp, view.unit, view.deciders))
        return
    render_inspect.render_inspection(out, insp, view.show, view.unit, view.rows, view.mean,
                                     view.deciders)  # fmt: skip
    if view.png is not None:
        out.print(f"Wrote {view.png}", markup=False)


def _step(insp: Any, step: str, view: View) -> None:
    from lstmcli.interpret.step import explain_steps
    from lstmcli.render import equations

    steps, notes = explain_steps(insp, step, view.unit)
    _write_png(insp, view)
    out = stdout()
    if view.as_json:
        print_json(
            out,
            {
                "logit": insp.explained.logit,
                "explained_label": insp.explained.label,
                "steps": [equations.step_json(s) for s in steps],
                "notes": notes,
            },
        )
        return
    equations.render_steps(out, steps, insp.explained.label, len(insp.directions) == 2)
    for note in notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if view.png is not None:
        out.print(f"Wrote {view.png}", markup=False)


def _top_units(
    opened: Any, layer: int, k: int, data: Path | None, limit: int, n_tokens: int, as_json: bool
) -> None:
    from lstmcli.core.threads import one_blas_thread
    from lstmcli.interpret import gates
    from lstmcli.interpret.units import top_units, validation_texts
    from lstmcli.render import units as render_units

    gates.check_view(opened.spec, layer)
    texts, labels = validation_texts(opened, data, limit)
    with one_blas_thread():
        result = top_units(opened, texts, labels, layer, k, n_tokens)
    out = stdout()
    if as_json:
        print_json(out, render_units.top_units_json(result))
    else:
        render_units.render_top_units(out, result)
