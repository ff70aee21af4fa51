"""The prediction as a sum: the head's logit split over the numbers it reads, and over the words.

The head is a Dense layer. For the explained class k its logit is

    logit = Σ_j w_j·v[j] + b        (w = column k of the head's kernel, b = its bias)

where v is the vector that feeds the head (``Net.head_input``: the last recurrent layer's state
after the last token, forward then backward units). The split is exact: the contributions
w_j·v[j] plus b are the logit. A binary model (sigmoid) explains its one output, so
P(positive) = σ(logit) and logit = log(p/(1 − p)); with K classes (softmax) it explains the
predicted class's z_k.

Over the words: logit_t is the logit had the text ended after token t, logit_0 that of the
empty text (the head's bias when nothing read leaves the state at zero), and
Δ_t = logit_t − logit_{t−1}; so Σ_t Δ_t = logit − logit_0.

Example: for the lecture LSTM(32), ``decompose(...)`` gives ``weights``, ``inputs`` and
``contributions`` of shape (32,), and ``contributions.sum() + bias`` equals ``logit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmcli.interpret.net import Feature, Net, Pass, prefix_pools, run_net


@dataclass
class Decomposition:
    """The explained class's logit, split over the head's inputs and over the words."""

    label: str  # the explained class
    column: int  # its column of the head's kernel
    logit: float
    bias: float  # b
    weights: np.ndarray  # (D,) w
    inputs: np.ndarray  # (D,) v, the vector that feeds the head
    features: list[Feature]  # what each number of v is
    start: float  # logit_0: the logit with nothing read
    prefix: np.ndarray  # (n,) logit_t: the logit had the text ended after token t

    @property
    def contributions(self) -> np.ndarray:
        """(D,) w_j·v[j]; they add up to ``logit − bias``."""
        return self.weights * self.inputs

    @property
    def deltas(self) -> np.ndarray:
        """(n,) Δ_t = logit_t − logit_{t−1}: how much reading token t moved the logit."""
        return np.diff(np.concatenate([[self.start], self.prefix]))

    def ranked(self, k: int | None = None) -> list[int]:
        """Indices into v by |contribution|, largest first (ties: the lower index)."""
        order = np.argsort(-np.abs(self.contributions), kind="stable")
        return [int(i) for i in order[:k]]


def explained_column(net: Net, logits: np.ndarray) -> int:
    """The head's column to explain: the one output of a binary model, else the predicted
    class (the largest z, as softmax keeps the order)."""
    return 0 if logits.shape[-1] == 1 else int(np.argmax(logits))


def class_name(column: int, classes: int, label_names: list[str]) -> str:
    """A sigmoid head's one output is the probability of the second label."""
    k = 1 if classes == 1 else column
    return label_names[k] if k < len(label_names) else str(k)


def prefix_logits(net: Net, ids: np.ndarray, full: Pass, chunk: int = 128) -> np.ndarray:
    """(n, classes): the head's logits for the text cut after each token. Exact: a
    one-direction model that reads no padding gives the head of each step's state; otherwise
    every prefix is run through the network as the model would see it. The last row is the
    full pass's own (float64) logits."""
    n = len(ids)
    causal = all(len(x.cells) == 1 and not x.cells[0].backwards for x in net.layers)
    if causal and (net.fixed_len is None or net.mask_zero):
        return net.logits(prefix_pools(net.pool, full.sequences[-1][0, -n:]))
    out = []
    for start in range(0, n, chunk):
        rows = [ids[: k + 1] for k in range(start, min(n, start + chunk))]
        out.append(run_net(net, *net.layout(rows), dtype=np.float32).logits)
    result = np.concatenate(out).astype(np.float64)
    result[-1] = full.logits[0]
    return result


def start_logits(net: Net) -> np.ndarray:
    """(classes,): the logits with nothing read. The state stays zero, so the head gives its
    bias, unless a fixed-length model reads its padding (then: the all-padding input)."""
    if net.fixed_len is None or net.mask_zero:
        return net.logits(np.zeros(len(net.features())))
    return run_net(net, *net.layout([np.zeros(0, np.int64)])).logits[0]


def decompose(
    net: Net, full: Pass, prefix: np.ndarray, start: np.ndarray, label_names: list[str]
) -> Decomposition:
    """Split the logit of the one text in ``full`` (a pass over every layer)."""
    logits = full.logits[0]
    k = explained_column(net, logits)
    return Decomposition(
        class_name(k, len(logits), label_names), k, float(logits[k]),
        float(net.head_bias[k]), net.head_kernel[:, k].astype(np.float64),
        full.features[0].astype(np.float64), net.features(), float(start[k]), prefix[:, k],
    )  # fmt: skip


def moved_most(deltas: np.ndarray, k: int = 3) -> tuple[list[int], list[int]]:
    """Token indices of the ``k`` largest rises and the ``k`` largest falls of the logit."""
    order = np.argsort(-deltas, kind="stable")
    up = [int(i) for i in order[:k] if deltas[i] > 0]
    down = [int(i) for i in order[::-1][:k] if deltas[i] < 0]
    return up, down
