"""Look inside a trained model: gates, states and the prediction as it reads one text.

The numbers come from ``net.py``'s NumPy recomputation, which equals Keras to 1e-5; the
logit's split over units and words from ``logit.py``, one step's equations from ``step.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmcli.core.errors import UsageError
from lstmcli.interpret.logit import Decomposition, decompose, prefix_logits, start_logits
from lstmcli.interpret.net import Net, Pass, net_from_model, run_net
from lstmcli.model.cells import CELLS

QUANTITIES = {key: cell.quantities for key, cell in CELLS.items()}


def check_view(
    spec: Any, layer: int | None, show: str = "prediction", unit: int | None = None
) -> None:
    """Refuse, in one line, a layer, quantity or unit this run's model does not have."""
    if not spec.token_input:
        raise UsageError("inspect reads text; this run's model takes vectors, not tokens")
    layer = spec.stacked if layer is None else layer
    check_layer(spec.stacked, layer)
    allowed = ("prediction", *QUANTITIES[spec.cell])
    if show not in allowed:
        raise UsageError(f"--show {show}: a {spec.cell} layer shows {' | '.join(allowed)}")
    width = spec.units[layer - 1]
    if unit is not None and not 0 <= unit < width:
        raise UsageError(f"--unit {unit}: layer {layer} has {width} units; use 0..{width - 1}")


@dataclass
class Inspection:
    """What layer ``layer`` computed at every token of one text."""

    words: list[str]  # the words as read (standardised); unknown ones keep their spelling
    tokens: list[str]  # vocabulary entries ("[UNK]" for unknown words)
    ids: np.ndarray
    layer: int  # 1-based
    layer_name: str
    cell: str
    directions: list[str]
    traces: list[dict[str, np.ndarray]]  # per direction: quantity → (n, units), input order
    states: list[np.ndarray]  # per direction: the state after the whole text (units,)
    probabilities: np.ndarray  # (n, classes): the model's output had the text ended there
    label_names: list[str]
    notes: list[str] = field(default_factory=list)
    logits: np.ndarray | None = None  # (n, classes): the head before its activation, per prefix
    explained: Decomposition | None = None  # the logit split over the head's inputs and words
    net: Net | None = field(default=None, repr=False)  # what ``step.py`` recomputes from
    full: Pass | None = field(default=None, repr=False)  # the pass over the padded layout
    pad: int = 0  # steps in front of the first token in ``full``

    @property
    def units(self) -> int:
        return int(self.traces[0]["hidden"].shape[1])

    @property
    def feeds_head(self) -> bool:
        """Whether this layer is the one whose state the head reads."""
        return self.net is not None and self.layer == len(self.net.layers)

    def deciders(self, k: int, unit: int | None = None) -> list[tuple[int, int]]:
        """(direction, unit) pairs to follow: ``unit`` in every direction, or the ``k`` numbers
        of the head's input with the largest |contribution| to the logit (this layer must
        feed the head)."""
        if unit is not None:
            return [(d, unit) for d in range(len(self.directions))]
        assert self.explained is not None and self.feeds_head
        chosen: list[tuple[int, int]] = []
        for j in self.explained.ranked():  # with pooling, one unit may feed several numbers
            f = self.explained.features[j]
            pair = (self.directions.index(f.direction), f.unit)
            if pair not in chosen:
                chosen.append(pair)
        return chosen[:k]


def check_layer(n: int, layer: int) -> None:
    """``layer`` is 1-based; ``n`` is how many recurrent layers the model has."""
    if not 1 <= layer <= n:
        s = "" if n == 1 else "s"
        raise UsageError(f"--layer {layer}: the model has {n} recurrent layer{s}; use 1..{n}")


def read_words(text: str) -> list[str]:
    """The text standardised and split the way the vocabulary reads it."""
    from lstmcli.backend.tf import tensorflow
    from lstmcli.data.textpipe import standardize

    value = standardize(tensorflow().constant([text])).numpy()[0]
    return value.decode("utf-8", errors="replace").split()


def inspect_text(run: Any, text: str, layer: int | None = 1, model: Any = None) -> Inspection:
    """Step through ``text`` with the run's model; ``layer`` is 1-based (None: the last)."""
    net = net_from_model(model if model is not None else run.load_model())
    layer = len(net.layers) if layer is None else layer
    check_layer(len(net.layers), layer)
    ids = np.asarray(run.encode([text]).row(0), np.int64)
    if len(ids) == 0:
        raise UsageError("the text has no words to read; give a sentence or review")
    tokens = [run.vocabulary[i] if i < len(run.vocabulary) else "[UNK]" for i in ids]
    words, notes = read_words(text), []
    if len(words) > len(ids) == run.seq_len:
        words, note = run.cut_words(words)
        notes.append(note)
    words = words if len(words) == len(ids) else tokens
    lay_ids, mask = net.layout([ids])
    full = run_net(net, lay_ids, mask, keep=layer - 1)
    if pad := lay_ids.shape[1] - len(ids):
        how = "skipped (masked)" if net.mask_zero else "read, and not shown"
        notes.append(f"the model reads {lay_ids.shape[1]} steps: {pad} padding steps {how}")
    traces = [{q: v[0, pad:] for q, v in tr.items()} for tr in full.traces]
    lyr, logits = net.layers[layer - 1], prefix_logits(net, ids, full)
    explained = decompose(net, full, logits, start_logits(net), list(run.label_names))
    return Inspection(
        words, tokens, ids, layer, lyr.name, lyr.kind, lyr.directions, traces,
        [s[0] for s in full.states[layer - 1]], net.activate(logits), list(run.label_names),
        notes, logits, explained, net, full, pad,
    )  # fmt: skip
