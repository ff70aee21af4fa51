"""Rich tables and JSON for ``summary``, ``shapes`` and ``build``.

Every ``render_*`` function takes a ``Console``; every ``*_json`` returns a plain dict.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lstmcli.model.arith import LayerRow, Shape, Summary, human_bytes
from lstmcli.model.shapes import ShapeWalk


def fmt_shape(shape: Shape, batch: str = "None") -> str:
    dims = [
        batch if d is None and i == 0 else ("None" if d is None else str(d))
        for i, d in enumerate(shape)
    ]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


# --------------------------------------------------------------------------- summary


def weights_text(row: LayerRow) -> str:
    names = [w.name for w in row.weights]
    if names and all(n.startswith(("forward_", "backward_")) for n in names):
        # Bidirectional: both directions have the same shapes; show them once, ×2.
        half = row.weights[: len(row.weights) // 2]
        return "\n".join(f"{w.name.removeprefix('forward_')} {fmt_shape(w.shape)} ×2" for w in half)
    return "\n".join(f"{w.name} {fmt_shape(w.shape)}" for w in row.weights)


def render_summary(console: Console, summary: Summary) -> None:
    wide = console.width >= 118
    title = f"lstmcli model: {summary.spec.describe()}"
    table = Table(
        title=title, title_justify="left", show_lines=True, box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("Layer (type)", overflow="fold")
    if wide:
        table.add_column("Input shape", no_wrap=True)
    table.add_column("Output shape", no_wrap=True)
    if wide:
        table.add_column("Weights", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    table.add_column("Formula", no_wrap=True)
    for row in summary.layers:
        label = f"{row.name}\n({row.type})" + ("" if row.trainable else "\nfrozen")
        cells = [label]
        if wide:
            cells.append(fmt_shape(row.input_shape))
        cells.append(fmt_shape(row.output_shape))
        if wide:
            cells.append(weights_text(row))
        cells += [f"{row.params:,}", row.formula.replace(" = ", "\n= ")]
        table.add_row(*cells)
    console.print(table)
    if not wide:  # narrow terminal: input and weight shapes in a second, narrower table
        weights = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("Layer", "Input shape", "Weights"):
            weights.add_column(col, no_wrap=col != "Layer")
        for row in summary.layers:
            weights.add_row(row.name, fmt_shape(row.input_shape), weights_text(row))
        console.print(weights)
    t = summary.totals
    console.print(f"Total params: {t.total_params:,}")
    console.print(f"Trainable params: {t.trainable_params:,}")
    console.print(f"Non-trainable params: {t.non_trainable_params:,}")
    console.print(f"Parameter memory: {human_bytes(t.param_bytes)} (float32)")
    console.print(f"Multiply-adds per sample (one forward pass): {t.macs_per_sample:,}")
    if summary.keras_params is not None:
        verdict = "equals" if summary.agrees_with_keras else "DOES NOT equal"
        console.print(
            f"Formula total {t.total_params:,} {verdict} Keras count_params() "
            f"{summary.keras_params:,}",
            markup=False,
        )
    for note in summary.notes:
        console.print(note, markup=False)


def layer_json(row: LayerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
        "weights": [{"name": w.name, "shape": list(w.shape)} for w in row.weights],
        "params": row.params,
        "formula": row.formula,
        "trainable": row.trainable,
        "macs": row.macs,
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    t = summary.totals
    return {
        "model": summary.spec.to_dict(),
        "source": summary.source,
        "layers": [layer_json(r) for r in summary.layers],
        "total_params": t.total_params,
        "trainable_params": t.trainable_params,
        "non_trainable_params": t.non_trainable_params,
        "param_bytes": t.param_bytes,
        "macs_per_sample": t.macs_per_sample,
        "keras_count_params": summary.keras_params,
        "agrees_with_keras": summary.agrees_with_keras,
    }


# --------------------------------------------------------------------------- shapes


def render_shapes(console: Console, walk: ShapeWalk) -> None:
    b = "batch" if walk.batch is None else str(walk.batch)
    console.print(Text(f"Model: {walk.spec.describe()}", style="bold"))
    console.print(
        f"Input  {walk.input.symbol} {fmt_shape(walk.input.shape, b)}: {walk.input.meaning}"
    )
    shown_equations = False
    for n, step in enumerate(walk.steps, 1):
        row = step.row
        mark = ""
        if step.confirmed is not None:
            mark = (
                "  ✓ confirmed by Keras"
                if step.confirmed
                else (f"  ✗ Keras says {fmt_shape(step.keras_shape or (), b)}")
            )
        console.print()
        console.print(
            Text(
                f"{n}. {row.name} ({row.type})  {fmt_shape(row.input_shape, b)} → "
                f"{fmt_shape(row.output_shape, b)}{mark}",
                style="bold",
            )
        )
        console.print(f"   {step.what}", markup=False)
        if step.timestep:
            console.print("   one timestep:", markup=False)
            for tensor in step.timestep:
                console.print(
                    f"     {tensor.symbol:<8} {fmt_shape(tensor.shape, b):<16} {tensor.meaning}",
                    markup=False,
                )
            if shown_equations:
                console.print("     (the same equations as above, with this layer's W, U, b)")
            for eq in () if shown_equations else step.equations:
                console.print(f"     {eq}", markup=False)
            shown_equations = True
        if step.why:
            console.print(f"   {step.why}", markup=False)
    for note in walk.notes:
        console.print()
        console.print(note, markup=False)


def shapes_json(walk: ShapeWalk) -> dict[str, Any]:
    layers = []
    for step in walk.steps:
        item = layer_json(step.row)
        item["what"] = step.what
        item["why"] = step.why
        item["timestep"] = [
            {"symbol": t.symbol, "shape": list(t.shape), "meaning": t.meaning}
            for t in step.timestep
        ]
        item["equations"] = list(step.equations)
        item["confirmed"] = step.confirmed
        layers.append(item)
    total = sum(s.row.params for s in walk.steps)
    trainable = sum(s.row.params for s in walk.steps if s.row.trainable)
    return {
        "model": walk.spec.to_dict(),
        "batch": walk.batch,
        "input": {"symbol": walk.input.symbol, "shape": list(walk.input.shape)},
        "layers": layers,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "checked": walk.checked,
        "notes": walk.notes,
    }
