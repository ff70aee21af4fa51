"""``lstmcli report``: one self-contained HTML page about a run.

Nothing is fetched when the page is opened: the style is inline, the pictures are PNG data
URIs (matplotlib) or inline SVG, there is no script, and a Content-Security-Policy forbids
loading anything else. Every piece of text that comes from outside lstmcli (review text,
label names, paths, data set names) goes through ``html.escape``.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from lstmcli.core import atomic
from lstmcli.interpret.report_data import Evaluated, ReportData, ReviewView
from lstmcli.model.arith import Summary, human_bytes
from lstmcli.render.inspect_common import PALETTE
from lstmcli.render.model import fmt_shape, weights_text
from lstmcli.render.plots import learning_curve_figure, png_bytes, roc_figure

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;
 max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fcfcfd}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;margin:36px 0 10px;
 border-bottom:2px solid #e3e7ec;padding-bottom:4px} h3{font-size:16px;margin:18px 0 6px}
.sub{color:#56616d;margin:0 0 14px} code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
 font-size:13px} table{border-collapse:collapse;margin:6px 0 10px}
th,td{padding:4px 10px;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top}
th{background:#f1f4f7;font-weight:600} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.model td{white-space:pre;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
.facts dt{color:#56616d} .facts dd{margin:0}
.row{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
img{max-width:100%;height:auto;border:1px solid #e3e7ec;border-radius:4px;background:#fff}
.ok{color:#1b7a34;font-weight:600} .bad{color:#b3261e;font-weight:600}
.note{color:#56616d;font-size:13px} .review{border:1px solid #e3e7ec;border-radius:6px;
 padding:10px 14px;margin:14px 0;background:#fff} .review header{font-size:14px;margin-bottom:6px}
.words{line-height:1.9} .words span{padding:1px 2px;border-radius:3px}
.words span.mover{outline:2px solid #1d232a;font-weight:600}
.legend{display:inline-block;width:220px;height:12px;vertical-align:middle;border-radius:3px;
 margin:0 6px} svg.spark{display:block;width:100%;height:44px;margin-top:6px}
"""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return escape(str(value))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _rgba(p: float, mid: float = 0.5) -> str:
    """P in [0, 1] → the prediction palette of ``inspect`` (0: red, 1: green), fainter near
    ``mid``: 0.5 for two classes, 1/K (a uniform guess) for K."""
    low, high = PALETTE["prediction"]
    r, g, b = high if p >= mid else low
    strength = (p - mid) / (1 - mid) if p >= mid else (mid - p) / mid
    return f"rgba({r},{g},{b},{0.08 + 0.72 * min(strength, 1.0):.2f})"


def _summary_html(s: Summary) -> str:
    head = "".join(f"<th{c}>{h}</th>" for h, c in (
        ("Layer (type)", ""), ("Input shape", ""), ("Output shape", ""), ("Weights", ""),
        ("Param #", ' class="num"'), ("Formula", "")))  # fmt: skip
    rows = []
    for r in s.layers:
        frozen = "\nfrozen" if not r.trainable else ""
        cells = [f"{r.name}\n({r.type}){frozen}", fmt_shape(r.input_shape),
                 fmt_shape(r.output_shape), weights_text(r)]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells)
                    + f'<td class="num">{r.params:,}</td><td>{escape(r.formula)}</td></tr>')  # fmt: skip
    t = s.totals
    agree = s.agrees_with_keras
    verdict = "" if agree is None else (
        f'<p>Formula total {t.total_params:,} <span class="{"ok" if agree else "bad"}">'
        f'{"equals" if agree else "does NOT equal"}</span> Keras count_params() {s.keras_params:,}</p>')  # fmt: skip
    return (f'<p class="mono">{escape(s.spec.describe())}</p><table class="model"><tr>{head}</tr>'
            + "".join(rows) + "</table>"
            + f"<p>Total params: <b>{t.total_params:,}</b> (trainable {t.trainable_params:,}, "
            f"non-trainable {t.non_trainable_params:,}) · parameter memory "
            f"{human_bytes(t.param_bytes)} (float32) · multiply-adds per sample "
            f"{t.macs_per_sample:,}</p>" + verdict)  # fmt: skip


def _facts(d: ReportData) -> str:
    data, train = d.info.get("data") or {}, d.info.get("train") or {}
    saved = d.saved_metrics or {}
    how = [f"--data {data['data']}" if data.get("data") else "", f"seed {data.get('seed', 0)}"]
    how += [
        f"--{k.replace('_', '-')} {data[k]}"
        for k in ("limit", "eval_limit", "val_by")
        if data.get(k)
    ]
    shown = f"{data.get('name_or_path')} ({', '.join(h for h in how if h)})" if data else None
    items = [("run folder", str(d.run)), ("data", shown),
             ("labels", ", ".join(d.label_names)),
             ("training", ", ".join(f"{k} {train[k]}" for k in ("epochs", "batch_size",
              "optimizer", "lr", "seed") if train.get(k) is not None)),
             ("best epoch", saved.get("best_epoch")), ("training time", (
              f"{saved['train_seconds']:,.1f} s" if isinstance(saved.get("train_seconds"), int | float) else None)),
             ("made by", f"lstmcli {d.version} on {d.created}")]  # fmt: skip
    rows = "".join(
        f"<dt>{escape(k)}</dt><dd>{_fmt(v)}</dd>" for k, v in items if v not in (None, "")
    )
    return f'<dl class="facts">{rows}</dl>'


def _curves_html(history: list[dict[str, float]]) -> str:
    if not history:
        return '<p class="note">No history.csv: no learning curves.</p>'
    cols = [
        c
        for c in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")
        if c in history[0]
    ]
    head = "".join(f'<th class="num">{c}</th>' for c in cols)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{int(r[c]) if c == "epoch" else _fmt(r.get(c), 1 if c == "seconds" else 4)}</td>'
        for c in cols) + "</tr>" for r in history)  # fmt: skip
    figure = _img(png_bytes(learning_curve_figure(history)), "loss and accuracy per epoch")
    return f'<div class="row"><div>{figure}</div><table><tr>{head}</tr>{body}</table></div>'


def _confusion_html(m: dict[str, Any]) -> str:
    labels, rows = [str(x) for x in m.get("labels") or []], m.get("confusion_matrix") or []
    if not rows:
        return ""
    head = "<th>true ↓ predicted →</th>" + "".join(
        f'<th class="num">{escape(n)}</th>' for n in labels
    )
    body = ""
    for name, row in zip(labels, rows, strict=False):
        total = max(sum(row), 1)
        body += f"<tr><th>{escape(name)}</th>" + "".join(
            f'<td class="num" style="background:rgba(33,102,172,{0.06 + 0.6 * v / total:.2f})">'
            f"{v:,}</td>" for v in row) + "</tr>"  # fmt: skip
    return (
        f"<table><tr>{head}</tr>{body}</table>"
        '<p class="note">confusion matrix; shade: share of the true class (row)</p>'
    )


def _metrics_html(ev: Evaluated | None, saved: dict[str, Any] | None) -> str:
    keys = ("n", "loss", "accuracy", "precision", "recall", "f1", "roc_auc")
    if ev is None and saved is None:
        return '<p class="note">No metrics: the data could not be read and there is no metrics.json.</p>'
    cols = ([("recomputed", ev.metrics)] if ev else []) + (
        [("metrics.json", saved)] if saved else []
    )
    said = (
        [f"recomputed from the saved model on the {escape(ev.dataset)} {ev.split} split"]
        if ev
        else []
    )
    said += (
        [f"metrics.json: written by train ({escape(str(saved.get('split', '?')))} split)"]
        if saved
        else []
    )
    head = "<th>metric</th>" + "".join(f'<th class="num">{escape(t)}</th>' for t, _ in cols)
    body = "".join(f"<tr><td>{k}</td>" + "".join(f'<td class="num">{_fmt(m.get(k))}</td>'
                   for _, m in cols) + "</tr>" for k in keys)  # fmt: skip
    main = ev.metrics if ev else saved or {}
    roc = ""
    if ev and ev.roc:
        roc = _img(png_bytes(roc_figure(ev.roc, f"{ev.dataset} {ev.split} split")), "ROC curve")
    return (
        f'<p class="note">{"; ".join(said)}.</p><div class="row"><div><table><tr>{head}</tr>'
        f"{body}</table></div><div>{_confusion_html(main)}</div><div>{roc}</div></div>"
    )


def _spark(probs: list[float], mid: float) -> str:
    n = len(probs)
    pts = " ".join(
        f"{(i / max(n - 1, 1)) * 1000:.1f},{(1 - p) * 40 + 2:.1f}" for i, p in enumerate(probs)
    )
    return ('<svg class="spark" viewBox="0 0 1000 44" preserveAspectRatio="none" role="img">'
            f'<line x1="0" y1="{(1 - mid) * 40 + 2:.1f}" x2="1000" y2="{(1 - mid) * 40 + 2:.1f}" '
            'stroke="#bbb" stroke-dasharray="6 6"/>'
            f'<polyline points="{pts}" fill="none" stroke="#2a5599" stroke-width="2" '
            'vector-effect="non-scaling-stroke"/></svg>')  # fmt: skip


MOVERS = 5  # words outlined per review: those that changed the probability most


def _review_html(r: ReviewView, mid: float) -> str:
    verdict = '<span class="ok">right</span>' if r.correct else '<span class="bad">wrong</span>'
    deltas = [p - q for p, q in zip(r.probs, [mid, *r.probs[:-1]], strict=True)]
    movers = set(sorted(range(len(deltas)), key=lambda i: -abs(deltas[i]))[:MOVERS])
    mark = ' class="mover"'
    words = " ".join(
        f'<span{mark if i in movers else ""} style="background:{_rgba(p, mid)}" '
        f'title="P({escape(r.shown)}) = {p:.3f} ({d:+.3f})">{escape(w)}</span>'
        for i, (w, p, d) in enumerate(zip(r.words, r.probs, deltas, strict=True)))  # fmt: skip
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in r.notes)
    return (f'<div class="review"><header><b>{escape(r.why)}</b> · true <b>{escape(r.label)}</b> · '
            f"predicted <b>{escape(r.predicted)}</b> ({r.confidence:.3f}) · {verdict} · "
            f"{len(r.words):,} words</header><div class=\"words\">{words}</div>"
            f"{_spark(r.probs, mid)}{notes}</div>")  # fmt: skip


def _reviews_html(d: ReportData) -> str:
    if not d.reviews:
        return '<p class="note">No reviews: the validation split could not be read.</p>'
    low, high = PALETTE["prediction"]
    k = max(len(d.label_names), 2)
    mid, centre = (0.5, "0.5") if k == 2 else (1 / k, f"1/{k}")
    gradient = f"linear-gradient(90deg,rgb{low},#fff {mid:.0%},rgb{high})"
    shown = d.reviews[0].shown if k == 2 else "the class it predicts in the end"
    return (f"<p>Each word is coloured by the model's probability of <b>{escape(shown)}</b> had the "
            f'review ended there: 0 <span class="legend" style="background:{gradient}"></span> 1 '
            f"(white: {centre}). The line under a review follows the same probability word by "
            f"word (dashed: {centre}). Outlined: the {MOVERS} words that moved it most. Hover a "
            "word for its numbers.</p>" + "".join(_review_html(r, mid) for r in d.reviews))  # fmt: skip


def report_html(d: ReportData) -> str:
    title = f"lstmcli report: {d.run}"
    notes = "".join(f"<li>{escape(n)}</li>" for n in d.notes)
    split = f"{d.evaluated.split} " if d.evaluated else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">{escape(d.summary.spec.describe())}</p>{_facts(d)}'
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + f"<h2>Model</h2>{_summary_html(d.summary)}"
        f"<h2>Learning curves</h2>{_curves_html(d.history)}"
        f"<h2>{escape(split.capitalize() or 'Test ')}metrics</h2>{_metrics_html(d.evaluated, d.saved_metrics)}"
        f"<h2>Validation reviews, as the model reads them</h2>{_reviews_html(d)}"
        "</body></html>\n"
    )  # fmt: skip


def write_report(d: ReportData, target: Path) -> int:
    """Write the page atomically; return its size in bytes."""
    page = report_html(d)
    atomic.write_text(target, page)
    return len(page.encode("utf-8"))
