"""Rich and JSON output of ``inspect`` (see ``interpret/gates.py`` and ``cli/interpret.py``).

The first screen is ``inspect_table.py``, ``--step`` is ``equations.py``, ``--png`` is
``inspect_png.py``; this module picks the view and keeps today's means (``--mean``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lstmcli.interpret.gates import QUANTITIES, Inspection
from lstmcli.model.cells import CELLS
from lstmcli.render.inspect_common import (
    ARROW,
    GATES,
    SHORT,
    chosen_rows,
    class_probabilities,
    coloured,
    curve,
    scaled,
    values,
    word_label,
)  # fmt: skip
from lstmcli.render.inspect_png import figure_size, write_png, write_units_png
from lstmcli.render.inspect_table import render_explained

__all__ = ["chosen_rows", "curve", "figure_size", "inspection_json", "render_inspection",
           "uses_means", "write_png", "write_units_png"]  # fmt: skip


def uses_means(insp: Inspection, mean: bool, unit: int | None) -> bool:
    """``--mean``, or a layer the head does not read with no unit to follow."""
    return mean or (unit is None and not insp.feeds_head)


def render_inspection(
    console: Console, insp: Inspection, show: str = "prediction", unit: int | None = None,
    rows: int = 40, mean: bool = False, k: int = 3,
) -> None:  # fmt: skip
    """The first screen (the units that decided), or the means view."""
    if uses_means(insp, mean, unit):
        render_means(console, insp, show, unit, rows)
        if not mean:
            console.print(
                f"note: layer {insp.layer} is not the layer the head reads: means "
                "shown; drop --layer to see the units that decided",
                markup=False,
            )
        return
    render_explained(console, insp, show, unit, rows, k)


def _fmt(x: float, quantity: str) -> str:
    return f"{x:.2f}" if quantity in GATES else f"{x:+.2f}"


def render_means(
    console: Console, insp: Inspection, show: str = "prediction", unit: int | None = None,
    rows: int = 40,
) -> None:  # fmt: skip
    """Today's first look, behind ``--mean``: the means over units (or one unit's values)."""
    p, name = curve(insp)
    probs = class_probabilities(insp)[-1]
    label = insp.label_names[int(probs.argmax())]
    what = f"unit {unit}" if unit is not None else f"mean over {insp.units} units"
    dirs = " + ".join(insp.directions) if len(insp.directions) == 2 else ""
    console.print(
        f"Layer {insp.layer} ({insp.layer_name}): {CELLS[insp.cell].keras_class}"
        f"({insp.units}){' ' + dirs if dirs else ''}, {len(insp.words)} tokens, {what}",
        markup=False, highlight=False,
    )  # fmt: skip
    console.print(f"Prediction: {label} (P({name}) = {p[-1]:.3f})", markup=False)
    for d, direction in enumerate(insp.directions if show != "prediction" else ["forward"]):
        v = p if show == "prediction" else values(insp, d, show, unit)
        scale = scaled(v, show)[1]
        title = f"P({name})" if show == "prediction" else f"{show} {ARROW[direction]}"
        console.print(Text(f"{title} [{scale}]: ", style="bold") + coloured(insp, v, show))
    keep = chosen_rows(insp, rows)
    for d, direction in enumerate(insp.directions):
        table = Table(title_justify="left", pad_edge=False, box=None, padding=(0, 1))
        if len(insp.directions) == 2:
            table.title = f"{direction} {ARROW[direction]}"
        table.add_column("#", justify="right")
        table.add_column("token", no_wrap=True, max_width=18)
        if d == 0:
            table.add_column(f"P({name})", justify="right")
        cols = {q: values(insp, d, q, unit) for q in QUANTITIES[insp.cell]}
        for q in cols:
            table.add_column(SHORT.get(q, q), justify="right")
        for i in keep:
            cells = [str(i + 1), word_label(insp, i)] + ([f"{p[i]:.3f}"] if d == 0 else [])
            cells += [_fmt(v[i], q) for q, v in cols.items()]
            table.add_row(*cells)
        console.print(table)
    console.print(f"P({name}): the model's output had the text ended at that token", markup=False)
    console.print(
        f"{CELLS[insp.cell].keras_class}: {CELLS[insp.cell].short_equation}", markup=False
    )
    if unit is None and insp.units > 1:
        # Units carry opposite signs, so mean states sit near 0 while the prediction swings.
        console.print(
            "means over units cancel in the states: without --mean, inspect shows the units "
            "that decided; --top-units 3 finds the units that separate the classes", markup=False,
        )  # fmt: skip
    if len(keep) < len(insp.words):
        console.print(
            f"(showing the {len(keep)} of {len(insp.words)} tokens that move P({name}) most; "
            "--rows 0 shows all)", markup=False,
        )  # fmt: skip
    if any(t == "[UNK]" for t in insp.tokens):
        console.print("word? = not in the vocabulary (read as [UNK])", markup=False)
    for note in insp.notes:
        console.print(f"note: {note}", markup=False)


def _r(a: np.ndarray) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 6).tolist()


def _f(a: np.ndarray) -> Any:
    """Unrounded: contributions of many units must still add up to the logit."""
    return np.asarray(a, dtype=np.float64).tolist()


def explained_json(insp: Inspection, unit: int | None = None, k: int = 3) -> dict[str, Any]:
    """The logit split over the head's inputs, and the units the first screen follows."""
    e = insp.explained
    chosen = insp.deciders(k, unit) if insp.feeds_head or unit is not None else []
    return {
        "explained_label": e.label, "logit": e.logit, "head_bias": e.bias,
        "logit_start": e.start, "unit_contributions": _f(e.contributions),
        "head_input": [{"direction": f.direction, "unit": f.unit, "pool": f.pool,
                        "weight": float(w), "value": float(v)}
                       for f, w, v in zip(e.features, e.weights, e.inputs, strict=True)],
        "followed_units": [{"direction": insp.directions[d], "unit": u} for d, u in chosen],
    }  # fmt: skip


def inspection_json(insp: Inspection, unit: int | None = None, k: int = 3) -> dict[str, Any]:
    probs = class_probabilities(insp)
    e = insp.explained
    steps = []
    for i, (word, token) in enumerate(zip(insp.words, insp.tokens, strict=True)):
        step: dict[str, Any] = {
            "position": i, "word": word, "token": token, "id": int(insp.ids[i]),
            "probabilities": dict(zip(insp.label_names, _r(probs[i]), strict=False)),
            "logit": float(e.prefix[i]), "logit_delta": float(e.deltas[i]),
        }  # fmt: skip
        for d, direction in enumerate(insp.directions):
            step[direction] = {q: _r(v[i]) for q, v in insp.traces[d].items()}
        steps.append(step)
    final = probs[-1]
    return {
        "layer": insp.layer, "layer_name": insp.layer_name, "cell": insp.cell,
        "units": insp.units, "directions": insp.directions, "unit": unit,
        "quantities": list(QUANTITIES[insp.cell]), "labels": insp.label_names,
        "prediction": {"label": insp.label_names[int(final.argmax())],
                       "probabilities": dict(zip(insp.label_names, _r(final), strict=False))},
        "final_state": {d: _r(s) for d, s in zip(insp.directions, insp.states, strict=True)},
        **explained_json(insp, unit, k), "steps": steps, "notes": insp.notes,
    }  # fmt: skip
