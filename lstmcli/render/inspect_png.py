"""``inspect --png``: the chosen units' gates and states as heatmaps under the text, or
(with ``--mean``) every unit of one quantity and the prediction curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.interpret.gates import Inspection
from lstmcli.render.inspect_common import ARROW, GATES, SYMBOL, curve

DPI = 100
ROW_PX = 24  # one heatmap row (one quantity of one unit)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, target: Path) -> None:
    from lstmcli.core.atomic import atomic_path

    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    _pyplot().close(fig)


def _width(n_tokens: int) -> int:
    return min(max(300 + 20 * n_tokens, 800), 4000)


def figure_size(n_tokens: int, n_directions: int) -> tuple[int, int]:
    """Pixels (width, height) of the ``--mean`` figure."""
    return _width(n_tokens), 300 + 250 * n_directions


def unit_rows(
    insp: Inspection, chosen: list[tuple[int, int]]
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """(label, values per token) of the chosen (direction, unit) pairs: gates, then states."""
    gates, states = [], []
    for d, unit in chosen:
        arrow = ARROW[insp.directions[d]] if len(insp.directions) == 2 else ""
        for q, v in insp.traces[d].items():
            if q == "candidate":
                continue
            row = (f"{SYMBOL[insp.cell][q]} {unit}{arrow}", v[:, unit])
            (gates if q in GATES else states).append(row)
    return gates, states


def units_figure_size(n_tokens: int, gate_rows: int, state_rows: int) -> tuple[int, int]:
    """Pixels (width, height) of the default figure: the logit's moves, then the heatmaps."""
    return _width(n_tokens), 320 + ROW_PX * (gate_rows + state_rows) + (40 if gate_rows else 0)


def write_units_png(insp: Inspection, target: Path, chosen: list[tuple[int, int]]) -> None:
    """Δlogit per word under the text, then a heatmap of the chosen units' gates (0 → 1) and
    one of their cell and hidden state (signed)."""
    plt = _pyplot()
    gates, states = unit_rows(insp, chosen)
    n = len(insp.words)
    w, h = units_figure_size(n, len(gates), len(states))
    panels = [(None, 140)] + ([(gates, ROW_PX * len(gates))] if gates else [])
    panels.append((states, ROW_PX * len(states)))
    fig = plt.figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    grid = fig.add_gridspec(
        len(panels), 2, width_ratios=[60, 1], height_ratios=[px for _, px in panels],
        wspace=0.02, hspace=0.15 * 140 / max(ROW_PX * len(states), 140), left=70 / w,
        right=1 - 60 / w, top=1 - 100 / h, bottom=40 / h,
    )  # fmt: skip
    bars = fig.add_subplot(grid[0, 0])
    delta = insp.explained.deltas
    bars.bar(np.arange(n), delta, color=["#1e9b3c" if x > 0 else "#c82828" for x in delta])
    bars.axhline(0, color="grey", lw=0.6)
    bars.set_xlim(-0.5, n - 0.5)
    bars.set_ylabel("Δlogit")
    bars.xaxis.tick_top()
    bars.set_xticks(np.arange(n))
    bars.set_xticklabels(insp.words, rotation=90, fontsize=7)
    for row, (rows, _) in enumerate(panels[1:], 1):
        ax = fig.add_subplot(grid[row, 0], sharex=bars)
        v = np.array([r[1] for r in rows])
        gate = rows is gates
        top = 1.0 if gate else max(float(np.abs(v).max()), 1e-9)
        im = ax.imshow(
            v,
            aspect="auto",
            interpolation="nearest",
            cmap="viridis" if gate else "coolwarm",
            vmin=0 if gate else -top,
            vmax=top,
        )
        ax.set_yticks(np.arange(len(rows)))
        ax.set_yticklabels([r[0] for r in rows], fontsize=7)
        ax.tick_params(labelbottom=False, labeltop=False, bottom=False)
        fig.colorbar(im, cax=fig.add_subplot(grid[row, 1]))
    fig.suptitle(
        f"P({curve(insp)[1]}) = {curve(insp)[0][-1]:.3f}: what each word did "
        "(Δlogit), and the units that decided",
        fontsize=9,
        x=70 / w,
        ha="left",
    )
    _save(fig, target)


def write_png(
    insp: Inspection, target: Path, show: str = "prediction", unit: int | None = None
) -> None:
    """Heatmap of ``show`` (tokens × units; the hidden state for ``prediction``) per direction,
    and the prediction curve under it."""
    plt = _pyplot()
    quantity = "hidden" if show == "prediction" else show
    n, dirs = len(insp.words), len(insp.directions)
    w, h = figure_size(n, dirs)
    fig = plt.figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    grid = fig.add_gridspec(
        dirs + 1, 2, width_ratios=[60, 1], height_ratios=[3] * dirs + [2], wspace=0.02,
        hspace=0.3, left=70 / w, right=1 - 60 / w, top=1 - 30 / h, bottom=110 / h,
    )  # fmt: skip
    curve_ax = fig.add_subplot(grid[dirs, 0])
    gate = quantity in GATES
    for d in range(dirs):
        ax = fig.add_subplot(grid[d, 0], sharex=curve_ax)
        v = insp.traces[d][quantity].T  # (units, tokens)
        top = 1.0 if gate else max(float(np.abs(v).max()), 1e-9)
        im = ax.imshow(v, aspect="auto", interpolation="nearest",
                       cmap="viridis" if gate else "coolwarm",
                       vmin=0.0 if gate else -top, vmax=top)  # fmt: skip
        if unit is not None:
            ax.axhline(unit, color="black", lw=0.8, ls=":")
        ax.set_ylabel("unit")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelbottom=False)
        ax.set_title(f"layer {insp.layer} {insp.layer_name}: {quantity} ({insp.directions[d]})",
                     fontsize=9, loc="left")  # fmt: skip
        fig.colorbar(im, cax=fig.add_subplot(grid[d, 1]))
    p, name = curve(insp)
    curve_ax.plot(np.arange(n), p, "-o", ms=3)
    curve_ax.axhline(0.5, color="grey", lw=0.6, ls="--")
    curve_ax.set_xlim(-0.5, n - 0.5)
    curve_ax.set_ylim(0, 1)
    curve_ax.set_ylabel(f"P({name})")
    curve_ax.set_xticks(np.arange(n))
    curve_ax.set_xticklabels(insp.words, rotation=90, fontsize=7)
    _save(fig, target)
