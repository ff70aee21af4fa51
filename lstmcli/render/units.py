"""Rich and JSON output of ``inspect --top-units`` (see ``interpret/units.py``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lstmcli.render.inspect_common import ARROW


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
