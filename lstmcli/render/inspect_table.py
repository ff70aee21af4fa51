"""The first screen of ``inspect``: why the model decided, in the lecture's terms.

The logit split over the units the head reads (``interpret/logit.py``), the units with the
largest share followed token by token (gates, cell, hidden state), and how much each word
moved the logit.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lstmcli.interpret.gates import Inspection
from lstmcli.interpret.logit import moved_most
from lstmcli.model.cells import CELLS
from lstmcli.render.inspect_common import (
    ARROW,
    GATES,
    SYMBOL,
    chosen_rows,
    class_probabilities,
    coloured,
    curve,
    num,
    signed,
    word_label,
)  # fmt: skip

# With several units side by side, the quantities that show keeping, writing and carrying;
# one unit alone shows all of them (the rest: --unit N).
BRIEF = {"lstm": ("forget", "input", "cell", "hidden"),
         "gru": ("update", "reset", "candidate", "hidden"), "simplernn": ("hidden",)}  # fmt: skip
SAY = {"forget": "forget gate", "input": "input gate", "output": "output gate", "cell": "cell",
       "hidden": "hidden state", "update": "update gate", "reset": "reset gate",
       "candidate": "candidate"}  # fmt: skip


def _print(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False)


def unit_name(insp: Inspection, d: int, unit: int) -> str:
    return f"{unit}{ARROW[insp.directions[d]]}" if len(insp.directions) == 2 else str(unit)


def _state(insp: Inspection) -> str:
    """The symbol of the vector the head reads."""
    return "v" if len(insp.directions) == 2 else "h_T"


def _binary(insp: Inspection) -> bool:
    """A sigmoid head: its one logit is for the second label, below 0 for the first."""
    return insp.probabilities.shape[1] == 1


def _toward(insp: Inspection, x: float, many: bool = False) -> str:
    """Which way a positive or negative share moves the prediction (``many``: said of units)."""
    if _binary(insp):
        return f"{'push toward' if many else '→'} {insp.label_names[int(x > 0)]}"
    verb = ("raise" if x > 0 else "lower") + ("" if many else "s")
    return f"{verb} z({insp.explained.label})"


def _logit_line(console: Console, insp: Inspection) -> None:
    e, (p, name) = insp.explained, curve(insp)
    v = _state(insp)
    if _binary(insp):
        _print(console, f"logit = Σ_j w_j·{v}[j] + b = {num(e.logit)}, and "
                        f"P({name}) = σ(logit) = {p[-1]:.3f}")  # fmt: skip
    else:
        _print(console, f"z({e.label}) = Σ_j w_j·{v}[j] + b = {num(e.logit)}, and "
                        f"P({e.label}) = softmax(z)({e.label}) = {p[-1]:.3f}")  # fmt: skip
    if len(insp.directions) == 2:
        _print(console, "v = [forward units after the last token ; backward units after the "
                        "first token]")  # fmt: skip


def render_contributions(console: Console, insp: Inspection, chosen: list[tuple[int, int]]) -> None:
    """The logit as a sum: the chosen units' w_j·v[j], the other units, the bias."""
    e, v = insp.explained, _state(insp)
    _logit_line(console, insp)
    index = {(insp.directions.index(f.direction), f.unit): j for j, f in enumerate(e.features)}
    rank = {j: r for r, j in enumerate(e.ranked(), 1)}
    table = Table(box=None, padding=(0, 0, 0, 2), pad_edge=False)
    for col in ("rank", "", "w_j", f"{v}[j]", f"w_j·{v}[j]", ""):
        table.add_column(Text(col), justify="left" if col in ("", "rank") else "right")
    shown = [index[pair] for pair in chosen if pair in index]
    for j in shown:
        c, d = e.contributions[j], insp.directions.index(e.features[j].direction)
        table.add_row(
            str(rank[j]),
            f"unit {unit_name(insp, d, e.features[j].unit)}",
            signed(e.weights[j]),
            signed(e.inputs[j]),
            signed(c),
            _toward(insp, c),
        )
    if rest := len(e.contributions) - len(shown):
        other = float(e.contributions.sum() - e.contributions[shown].sum())
        table.add_row("", f"{rest} other unit{'s' * (rest > 1)}", "", "", signed(other), "")
    table.add_row("", "bias b", "", "", signed(e.bias), "")
    table.add_row("", "logit" if _binary(insp) else f"z({e.label})", "", "", signed(e.logit), "")
    console.print(table)
    c = e.contributions
    sides = [(c > 0, _toward(insp, 1.0, True)), (c < 0, _toward(insp, -1.0, True))]
    parts = [f"{int(m.sum())} {way} (together {signed(c[m].sum())})"
             for m, way in sides if m.any()]  # fmt: skip
    if len(parts) == 1:  # every unit pushes the same way
        _print(console, f"All {len(c)} units {parts[0].split(' ', 1)[1]}")
    else:
        _print(console, f"Of all {len(c)} units, " + ", ".join(parts))


def _columns(
    insp: Inspection, chosen: list[tuple[int, int]], brief: bool
) -> list[tuple[str, np.ndarray, bool]]:
    """(header, values per token, is a gate) for each quantity of each chosen unit."""
    cols = []
    for d, unit in chosen:
        if cols:
            cols.append(("", np.zeros(0), False))  # a gap between units
        for q in BRIEF[insp.cell] if brief else tuple(insp.traces[0]):
            head = SYMBOL[insp.cell][q] + unit_name(insp, d, unit)
            cols.append((head, insp.traces[d][q][:, unit], q in GATES))
    return cols


def _token_table(
    insp: Inspection, chosen: list[tuple[int, int]], keep: list[int], brief: bool
) -> Table:
    p, name = curve(insp)
    delta = insp.explained.deltas
    table = Table(box=None, padding=(0, 0, 0, 1), pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("token", no_wrap=True, max_width=16)
    table.add_column(f"P({name})", justify="right")
    table.add_column("Δlogit", justify="right")
    cols = _columns(insp, chosen, brief)
    for head, _, _ in cols:
        table.add_column(head, justify="right")
    for i in keep:
        cells = [str(i + 1), word_label(insp, i), f"{p[i]:.3f}", signed(delta[i])]
        cells += ["" if not head else f"{v[i]:.2f}" if gate else signed(v[i])
                  for head, v, gate in cols]  # fmt: skip
        table.add_row(*cells)
    return table


def render_tokens(console: Console, insp: Inspection, chosen: list[tuple[int, int]],
                  rows: int) -> list[int]:  # fmt: skip
    """The table: per token P, Δlogit and the chosen units' quantities; as many tables as
    it takes to show every unit without cutting a number."""
    keep = chosen_rows(insp, rows, insp.explained.deltas)
    brief, todo = len(chosen) > 1, list(chosen)
    wide = console.options.update_width(10_000)  # measure the natural width, not the clamped one
    while todo:
        n = len(todo)
        while n > 1 and console.measure(_token_table(insp, todo[:n], keep, brief), options=wide
                                        ).maximum > console.width:  # fmt: skip
            n -= 1
        console.print(_token_table(insp, todo[:n], keep, brief))
        todo = todo[n:]
    return keep


def moved_line(insp: Inspection, k: int = 3) -> str:
    """One line naming the words that moved the logit most each way."""
    delta, e = insp.explained.deltas, insp.explained
    up, down = moved_most(delta, k)
    if _binary(insp):
        ways = (f"toward {insp.label_names[1]}", f"toward {insp.label_names[0]}")
    else:
        ways = (f"raised z({e.label})", f"lowered z({e.label})")
    parts = [f"{way}: " + ", ".join(f"{insp.words[i]} {signed(delta[i])}" for i in idx)
             for way, idx in zip(ways, (up, down), strict=True) if idx]  # fmt: skip
    return "Moved the logit most: " + "; ".join(parts or ["none"])


def _footer(
    console: Console, insp: Inspection, chosen: list[tuple[int, int]], keep: list[int]
) -> None:
    e = insp.explained
    _print(console, f"Δlogit: the logit after the token minus before it; from {num(e.start)} "
                    f"(nothing read) they add up to {num(e.logit)}")  # fmt: skip
    brief = BRIEF[insp.cell] if len(chosen) > 1 else tuple(insp.traces[0])
    names = ", ".join(f"{SYMBOL[insp.cell][q]} {SAY[q]}" for q in brief)
    cell = CELLS[insp.cell]
    _print(console, f"{names} of each unit")
    _print(console, f"{cell.keras_class}: {cell.short_equation}")
    if len(keep) < len(insp.words):
        _print(console, f"(showing the {len(keep)} of {len(insp.words)} tokens that move the "
                        "logit most; --rows 0 shows all)")  # fmt: skip
    if any(t == "[UNK]" for t in insp.tokens):
        _print(console, "word? = not in the vocabulary (read as [UNK])")
    for note in insp.notes:
        _print(console, f"note: {note}")


def render_explained(console: Console, insp: Inspection, show: str = "prediction",
                     unit: int | None = None, rows: int = 40, k: int = 3) -> None:  # fmt: skip
    """The first screen: the units that decided, what each word did, the units' gates."""
    p, name = curve(insp)
    cell, dirs = CELLS[insp.cell], " + ".join(insp.directions)
    role = "the layer the head reads" if insp.feeds_head else "not the layer the head reads"
    _print(console, f"Layer {insp.layer} ({insp.layer_name}): {cell.keras_class}({insp.units})"
                    f"{' ' + dirs if len(insp.directions) == 2 else ''}, {len(insp.words)} "
                    f"tokens, {role}")  # fmt: skip
    label = insp.label_names[int(class_probabilities(insp)[-1].argmax())]
    _print(console, f"Prediction: {label} (P({name}) = {p[-1]:.3f})")
    chosen = insp.deciders(k, unit)
    if insp.feeds_head:
        render_contributions(console, insp, chosen)
    else:
        _print(console, f"logit = {num(insp.explained.logit)}: it is split over the units of "
                        "the last layer (drop --layer to see them)")  # fmt: skip
    delta = insp.explained.deltas
    top = max(float(np.abs(delta).max()), 1e-9)
    title = Text(f"Δlogit [{signed(-top)} → {signed(top)}]: ", style="bold")
    console.print(title + coloured(insp, (delta / top + 1) / 2, "prediction"))
    if show != "prediction":
        for d, u in chosen:
            v = insp.traces[d][show][:, u]
            head = f"{SYMBOL[insp.cell][show]}{unit_name(insp, d, u)}"
            legend = (
                "0 → 1" if show in GATES else f"−{np.abs(v).max():.2f} → +{np.abs(v).max():.2f}"
            )
            console.print(Text(f"{head} [{legend}]: ", style="bold") + coloured(insp, v, show))
    keep = render_tokens(console, insp, chosen, rows)
    _print(console, moved_line(insp))
    _footer(console, insp, chosen, keep)
    _print(console, "--unit N: all of one unit; --step WORD: one step's equations with "
                    "numbers; --mean: means over units")  # fmt: skip
