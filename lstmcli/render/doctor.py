"""``lstmcli doctor``: the environment report as a table, or as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return ""


def _package(p: dict[str, Any]) -> str:
    if p["version"] is None and p["imported"] is None:
        return "not installed"
    text = f"{p['imported'] or p['version']}"
    if p.get("distribution") and p["distribution"] not in ("keras", "numpy"):
        text += f" ({p['distribution']})"
    return text if p["imported"] else f"{text}, does not import"


def rows(env: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("Python", f"{env['python']} on {env['platform']}")]
    out += [(name, _package(p)) for name, p in env["packages"].items()]
    if env["build"]:
        b = env["build"]
        cuda = (
            f"CUDA {b['cuda_version']}, cuDNN {b['cudnn_version']}"
            if b["is_cuda_build"]
            else "CPU only"
        )
        out.append(("TensorFlow build", cuda))
    if env["devices"]:
        out.append(
            (
                "Devices",
                ", ".join(d["name"].replace("/physical_device:", "") for d in env["devices"]),
            )
        )
    d = env["defaults"]
    if d:
        out.append(
            ("train default device", f"{d['device'].upper()}; batches padded at the {d['padding']}")
        )
        out.append(("cuDNN", f"{'yes' if d['cudnn'] else 'no'}: {d['cudnn_why']}"))
        out.append(
            (
                "XLA",
                f"train {'on' if d['xla_train'] else 'off'} ({d['xla_why']}); evaluate/predict off",
            )
        )
    t = env["threads"]
    text = f"{t['cores']} cores"
    if "tensorflow_intra_op" in t:
        intra, inter = t["tensorflow_intra_op"] or "auto", t["tensorflow_inter_op"] or "auto"
        text += f"; TensorFlow intra-op {intra}, inter-op {inter}"
    text += "".join(f"; {k}={v}" for k, v in t.items() if k.isupper())
    text += "".join(f"; BLAS ({b['api']}) {b['threads']}" for b in t.get("blas", []))
    out.append(("Threads", text))
    c = env["cache"]
    out.append(
        (
            "Cache",
            f"{c['path']} ({_size(c['bytes'])} in {c['files']:,} files)"
            if c["exists"]
            else f"{c['path']} (empty)",
        )
    )
    data = env["data"]
    if data:
        out.append(("Sample data", data["sample"]["found"] or "not found"))
        imdb = data["imdb"]
        out.append(
            (
                "IMDB",
                f"{imdb['found']} ({imdb['kind']})"
                if imdb["found"]
                else f"not here: {imdb['hint']}",
            )
        )
    return out


def render_doctor(console: Console, env: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows(env):
        table.add_row(key, value)
    console.print(table)
    for note in env["notes"]:
        console.print(f"note: {note}", markup=False)
    if env["problems"]:
        console.print(f"{len(env['problems'])} problem(s):", markup=False)
        for p in env["problems"]:
            console.print(f"  - {p}", markup=False)
    else:
        console.print("No problems found.")
