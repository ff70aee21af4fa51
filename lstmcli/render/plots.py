"""Pictures of a run: learning curves, confusion matrix, ROC curve (matplotlib, imported only
here and only when called). Each ``*_figure`` returns a figure; ``save_png`` writes one
atomically and ``png_bytes`` returns it for the HTML report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lstmcli.core.atomic import atomic_path
from lstmcli.core.metrics import RocCurve

DPI = 100


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, target: Path) -> None:
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)


def png_bytes(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    _pyplot().close(fig)
    return buf.getvalue()


def learning_curve_figure(history: list[dict[str, Any]]) -> Any:
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=DPI)
    for key, style in (("loss", "-o"), ("val_loss", "--o")):
        ax_loss.plot(epochs, [r[key] for r in history], style, label=key)
    for key, style in (("accuracy", "-o"), ("val_accuracy", "--o")):
        ax_acc.plot(epochs, [r[key] for r in history], style, label=key)
    ax_loss.set_title("loss")
    ax_acc.set_title("accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def learning_curve(history: list[dict[str, Any]], target: Path) -> None:
    if history:
        save_png(learning_curve_figure(history), target)


def confusion_figure(confusion: list[list[int]], labels: list[str], title: str) -> Any:
    """Counts in every cell, shaded by the share of the true class (row) they hold."""
    plt = _pyplot()
    k = len(confusion)
    size = min(3.2 + 0.45 * k, 9)
    fig, ax = plt.subplots(figsize=(size + 0.8, size), dpi=DPI)
    totals = [max(sum(row), 1) for row in confusion]
    shares = [[v / t for v in row] for row, t in zip(confusion, totals, strict=True)]
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(confusion):
        for j, v in enumerate(row):
            colour = "white" if shares[i][j] > 0.6 else "black"
            ax.text(j, i, f"{v:,}", ha="center", va="center", color=colour)
    names = [str(n) for n in labels[:k]]
    ax.set_xticks(range(k), names, rotation=45 if k > 4 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fig.tight_layout()
    return fig


def roc_figure(curves: list[RocCurve], title: str) -> Any:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.0, 3.9), dpi=DPI)
    for c in curves:
        ax.plot(c.fpr, c.tpr, label=f"{c.label} (AUC {c.auc:.4f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_eval_plots(
    metrics: dict[str, Any], curves: list[RocCurve], title: str, targets: tuple[Path, Path]
) -> list[Path]:
    """``evaluate --plots``: the confusion matrix and (when both classes occur) the ROC curve."""
    confusion_png, roc_png = targets
    save_png(confusion_figure(metrics["confusion_matrix"], metrics["labels"], title), confusion_png)
    written = [confusion_png]
    if curves:
        save_png(roc_figure(curves, title), roc_png)
        written.append(roc_png)
    return written
