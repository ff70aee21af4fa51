"""Learning-curve PNG (matplotlib, imported only here and only when called)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmcli.core.atomic import atomic_path


def learning_curve(history: list[dict[str, Any]], target: Path) -> None:
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    for key, style in (("loss", "-o"), ("val_loss", "--o")):
        ax_loss.plot(epochs, [r[key] for r in history], style, label=key)
    for key, style in (("accuracy", "-o"), ("val_accuracy", "--o")):
        ax_acc.plot(epochs, [r[key] for r in history], style, label=key)
    ax_loss.set_title("loss")
    ax_acc.set_title("accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
