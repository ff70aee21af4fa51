"""Rich, JSON and PNG output of ``inspect`` (see ``interpret/gates.py`` and ``cli/interpret.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lstmcli.interpret.gates import QUANTITIES, Inspection
from lstmcli.model.cells import CELLS

GATES = ("input", "forget", "output", "update", "reset")  # in [0, 1]; the rest are signed
SHORT = {"candidate": "cand", "hidden": "h", "cell": "c"}
ARROW = {"forward": "→", "backward": "←"}
DPI = 100
PALETTE = {"prediction": ((200, 40, 40), (30, 170, 60)), "state": ((50, 90, 230), (240, 150, 20))}


def class_probabilities(insp: Inspection) -> np.ndarray:
    from lstmcli.core.metrics import class_probs

    return class_probs(insp.probabilities)


def curve(insp: Inspection) -> tuple[np.ndarray, str]:
    """The probability followed token by token: of the positive label (binary) or of the
    label the whole text gets."""
    p = class_probabilities(insp)
    k = 1 if p.shape[1] == 2 else int(p[-1].argmax())
    name = insp.label_names[k] if k < len(insp.label_names) else str(k)
    return p[:, k], name


def values(insp: Inspection, direction: int, quantity: str, unit: int | None) -> np.ndarray:
    """(n,) per token: one unit, or the mean over units."""
    v = insp.traces[direction][quantity]
    return v[:, unit] if unit is not None else v.mean(axis=1)


def _rgb(x: float, low: tuple[int, ...], high: tuple[int, ...]) -> str:
    """x in [0, 1]: low colour → light grey → high colour."""
    mid, x = (190, 190, 190), min(max(float(x), 0.0), 1.0)
    a, b, t = (low, mid, x * 2) if x < 0.5 else (mid, high, x * 2 - 1)
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return f"rgb({r},{g},{bl})"


def _scaled(v: np.ndarray, quantity: str) -> tuple[np.ndarray, str]:
    """Values mapped into [0, 1] for colouring, and the legend of the scale."""
    if quantity == "prediction" or quantity in GATES:
        return v, "0 → 1"
    top = max(float(np.abs(v).max()), 1e-9)
    return (v / top + 1) / 2, f"−{top:.2f} → +{top:.2f}"


def coloured(insp: Inspection, v: np.ndarray, quantity: str) -> Text:
    low, high = PALETTE["prediction" if quantity == "prediction" else "state"]
    text = Text()
    for i, (word, x) in enumerate(zip(insp.words, _scaled(v, quantity)[0], strict=True)):
        text.append(("" if i == 0 else " ") + word)
        text.stylize(_rgb(x, low, high), len(text) - len(word), len(text))
    return text


def chosen_rows(insp: Inspection, limit: int) -> list[int]:
    """All tokens, or the ``limit`` that change the prediction most (in reading order)."""
    p, _ = curve(insp)
    if limit == 0 or len(p) <= limit:
        return list(range(len(p)))
    change = np.abs(np.diff(np.concatenate([[0.5], p])))
    return sorted(np.argsort(-change, kind="stable")[:limit].tolist())


def _fmt(x: float, quantity: str) -> str:
    return f"{x:.2f}" if quantity in GATES else f"{x:+.2f}"


def render_inspection(
    console: Console, insp: Inspection, show: str = "prediction", unit: int | None = None,
    rows: int = 40,
) -> None:  # fmt: skip
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
        scale = _scaled(v, show)[1]
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
            word = insp.words[i] + ("?" if insp.tokens[i] == "[UNK]" else "")
            cells = [str(i + 1), word] + ([f"{p[i]:.3f}"] if d == 0 else [])
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
            "means over units cancel in the states: --top-units 3 finds the units that "
            "separate the classes, --unit N follows one", markup=False,
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


def inspection_json(insp: Inspection, unit: int | None = None) -> dict[str, Any]:
    probs = class_probabilities(insp)
    steps = []
    for i, (word, token) in enumerate(zip(insp.words, insp.tokens, strict=True)):
        step: dict[str, Any] = {
            "position": i, "word": word, "token": token, "id": int(insp.ids[i]),
            "probabilities": dict(zip(insp.label_names, _r(probs[i]), strict=False)),
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
        "steps": steps, "notes": insp.notes,
    }  # fmt: skip


# --------------------------------------------------------------------------- PNG


def figure_size(n_tokens: int, n_directions: int) -> tuple[int, int]:
    """Pixels (width, height) of the ``--png`` figure."""
    width = min(max(300 + 20 * n_tokens, 800), 4000)
    return width, 300 + 250 * n_directions


def write_png(
    insp: Inspection, target: Path, show: str = "prediction", unit: int | None = None
) -> None:
    """Heatmap of ``show`` (tokens × units; the hidden state for ``prediction``) per direction,
    and the prediction curve under it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstmcli.core.atomic import atomic_path

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
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    plt.close(fig)


# --------------------------------------------------------------------------- top units


def _tokens(items: list[tuple[str, float, int]]) -> str:
    return ", ".join(t for t, _, _ in items) or "-"


def render_top_units(console: Console, top: Any) -> None:
    counts = ", ".join(f"{c} {n}" for n, c in zip(top.label_names, top.class_counts, strict=False))
    console.print(
        f"Layer {top.layer} ({top.layer_name}): the {len(top.units)} units whose final value best "
        f"separates the classes ({top.n_texts} validation texts: {counts})", markup=False,
    )  # fmt: skip
    table = Table(box=None, padding=(0, 1), pad_edge=False)
    for col, kw in (("#", {"justify": "right"}), ("unit", {}), ("d", {"justify": "right"}),
                    ("AUC", {"justify": "right"}), ("higher for", {}),
                    ("raised by", {"ratio": 1}), ("lowered by", {"ratio": 1})):  # fmt: skip
        table.add_column(col, **kw)
    bi = any(u.direction == "backward" for u in top.units)
    for i, u in enumerate(top.units, 1):
        name = f"{u.unit} {ARROW[u.direction]}" if bi else str(u.unit)
        higher = u.label if u.separation > 0 else f"not {u.label}"
        auc = "-" if u.auc is None else f"{u.auc:.3f}"
        table.add_row(str(i), name, f"{u.separation:+.2f}", auc, higher, _tokens(u.up),
                      _tokens(u.down))  # fmt: skip
    console.print(table)
    console.print(
        "d: difference of class means / pooled std; AUC: P(a text of that class has the "
        "higher value); tokens: mean change of the unit when read",
        markup=False,
    )


def top_units_json(top: Any) -> dict[str, Any]:
    def toks(items: list[tuple[str, float, int]]) -> list[dict[str, Any]]:
        return [{"token": t, "mean_change": round(v, 6), "count": c} for t, v, c in items]

    return {
        "layer": top.layer, "layer_name": top.layer_name, "cell": top.cell,
        "texts": top.n_texts,
        "class_counts": dict(zip(top.label_names, top.class_counts, strict=False)),
        "units": [{"direction": u.direction, "unit": u.unit, "separation": round(u.separation, 6),
                   "auc": None if u.auc is None else round(u.auc, 6), "label": u.label,
                   "raised_by": toks(u.up), "lowered_by": toks(u.down)} for u in top.units],
    }  # fmt: skip
