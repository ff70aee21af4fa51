"""What every view of ``inspect`` shares: the prediction curve, colours, number formats."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lstmcli.interpret.gates import Inspection

GATES = ("input", "forget", "output", "update", "reset")  # in [0, 1]; the rest are signed
SHORT = {"candidate": "cand", "hidden": "h", "cell": "c"}
ARROW = {"forward": "→", "backward": "←"}
PALETTE = {"prediction": ((200, 40, 40), (30, 170, 60)), "state": ((50, 90, 230), (240, 150, 20))}
# The equations' letter for each traced quantity (the lecture's notation).
SYMBOL = {
    "lstm": {"input": "i", "forget": "f", "candidate": "c̃", "output": "o", "cell": "c",
             "hidden": "h"},
    "gru": {"update": "u", "reset": "r", "candidate": "h̃", "hidden": "h"},
    "simplernn": {"hidden": "h"},
}  # fmt: skip


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


def scaled(v: np.ndarray, quantity: str) -> tuple[np.ndarray, str]:
    """Values mapped into [0, 1] for colouring, and the legend of the scale."""
    if quantity == "prediction" or quantity in GATES:
        return v, "0 → 1"
    top = max(float(np.abs(v).max()), 1e-9)
    return (v / top + 1) / 2, f"−{top:.2f} → +{top:.2f}"


def coloured(insp: Inspection, v: np.ndarray, quantity: str, palette: str = "") -> Text:
    """The words, each coloured by its value of ``v`` (a signed ``v`` around 0 unless it is
    a probability or a gate)."""
    low, high = PALETTE[palette or ("prediction" if quantity == "prediction" else "state")]
    text = Text()
    for i, (word, x) in enumerate(zip(insp.words, scaled(v, quantity)[0], strict=True)):
        text.append(("" if i == 0 else " ") + word)
        text.stylize(_rgb(x, low, high), len(text) - len(word), len(text))
    return text


def chosen_rows(insp: Inspection, limit: int, change: np.ndarray | None = None) -> list[int]:
    """All tokens, or the ``limit`` that change the prediction most (in reading order):
    by ``change`` when given, else by the change of the probability."""
    if change is None:
        p, _ = curve(insp)
        change = np.diff(np.concatenate([[0.5], p]))
    if limit == 0 or len(change) <= limit:
        return list(range(len(change)))
    return sorted(np.argsort(-np.abs(change), kind="stable")[:limit].tolist())


def _plain(x: float, digits: int) -> float:
    return float(f"{float(x):.{digits}f}") + 0.0  # −0.001 prints as 0.00, not −0.00


def signed(x: float, digits: int = 2) -> str:
    """+0.42 / −0.32, with a real minus sign."""
    return f"{_plain(x, digits):+.{digits}f}".replace("-", "−")


def num(x: float, digits: int = 2) -> str:
    """0.42 / −0.32 as the equations print them."""
    return f"{_plain(x, digits):.{digits}f}".replace("-", "−")


def word_label(insp: Inspection, i: int) -> str:
    return insp.words[i] + ("?" if insp.tokens[i] == "[UNK]" else "")
