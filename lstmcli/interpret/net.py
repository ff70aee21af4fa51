"""The trained network recomputed in NumPy, step by step, keeping every gate and state.

Values are recomputed in NumPy from the trained weights with Keras's own equations (keras/
src/layers/rnn/*.py; a masked step keeps the previous state). Gate order in the kernels:

    LSTM       z = x·W + h·U + b → i, f, c̃, o   c = f·c + i·c̃   h = o·tanh(c)
    GRU        x·W + b_in → x_z, x_r, x_h   h·U + b_rec → r_z, r_r, r_h   (reset_after)
               z = σ(x_z + r_z)   r = σ(x_r + r_r)   h̃ = tanh(x_h + r·r_h)   h = z·h + (1 − z)·h̃
    SimpleRNN  h = tanh(x·W + h·U + b)

with the layer's own activation (tanh above) and recurrent activation (σ above), and b = 0
when it has no bias. The head reads one vector (``Pass.features``): the last recurrent layer's
state after the last token (forward then backward), or max / mean pooling (or both,
concatenated) over the unmasked steps of its sequence. ``Net.features`` names each of its
numbers, so the logit can be split over them (``logit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from lstmcli.core.errors import ModelFileError
from lstmcli.model.cells import CELLS

_KIND = {cell.keras_class: key for key, cell in CELLS.items()}
_ACT = {
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # overflow-free σ
    "tanh": np.tanh,
    "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),  # Keras 3: relu6(x + 3) / 6
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softmax": lambda z: (e := np.exp(z - z.max(-1, keepdims=True))) / e.sum(-1, keepdims=True),
}
_NAME = {fn: name for name, fn in _ACT.items()}  # a Cell's function → the name step.py prints


def act_name(fn: Any) -> str:
    """The name of one of the activation functions a ``Cell`` holds ("sigmoid", "tanh", …)."""
    return _NAME[fn]


def act_fn(name: str) -> Any:
    return _act(name)


class Feature(NamedTuple):
    """One number of the vector that feeds the head."""

    direction: str  # forward | backward
    unit: int  # 0-based, within its direction
    pool: str = "last"  # how the layer's outputs over time became this number


@dataclass
class Cell:
    """One direction of one recurrent layer."""

    kind: str  # lstm | gru | simplernn
    kernel: np.ndarray  # (d, g·h)
    recurrent: np.ndarray  # (h, g·h)
    bias_in: np.ndarray  # (g·h,) added to x·W
    bias_rec: np.ndarray  # GRU (reset_after): (3h,) added to h·U; zeros otherwise
    activation: Any
    recurrent_activation: Any
    backwards: bool = False

    @property
    def units(self) -> int:
        return int(self.recurrent.shape[0])


@dataclass
class Recurrent:
    name: str
    kind: str
    cells: list[Cell]  # [forward] or [forward, backward]
    return_sequences: bool

    @property
    def directions(self) -> list[str]:
        return ["forward", "backward"] if len(self.cells) == 2 else ["forward"]


@dataclass
class Net:
    embedding: np.ndarray  # (V, E)
    mask_zero: bool
    fixed_len: int | None  # the model's input length, None when variable
    layers: list[Recurrent]
    head_kernel: np.ndarray | None  # (d, classes); None: the model has no head (--head none)
    head_bias: np.ndarray | None
    head_activation: str
    pool: str = "last"  # last | max | mean | max+mean, as ``ModelSpec.pool``

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The head before its activation (binary: one logit, P = σ(logit); K classes: z)."""
        if self.head_kernel is None or self.head_bias is None:
            raise ModelFileError("the model has no Dense head (built with --head none)")
        return x @ self.head_kernel + self.head_bias

    def activate(self, z: np.ndarray) -> np.ndarray:
        return _act(self.head_activation)(z)

    def head(self, x: np.ndarray) -> np.ndarray:
        return self.activate(self.logits(x))

    def features(self) -> list[Feature]:
        """What each number of the head's input is, in order: per pooling kind (the last state,
        or max then mean), the forward units then the backward ones."""
        last = self.layers[-1]
        units = range(last.cells[0].units)
        return [Feature(d, j, kind) for kind in self.pool.split("+") for d in last.directions
                for j in units]  # fmt: skip

    def pooled(self, seq: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(B, T, d) → (B, d) or (B, 2d): max/mean over the unmasked steps (0 when none),
        as lstmcli's Keras pooling layers compute it."""
        return np.concatenate([_pool(kind, seq, mask) for kind in self.pool.split("+")], -1)

    def layout(self, rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Pad ``rows`` at the front, (ids, mask) both (B, L), as the model would read them:
        a variable-length model reads no padding (masked here); a fixed one reads it unless
        it masks zeros."""
        from lstmcli.data.textpipe import pad_front

        length = self.fixed_len or max(len(r) for r in rows)
        ids = pad_front(rows, length).astype(np.int64)
        real = ids != 0  # token ids start at 1 (0 is padding, 1 unknown)
        if self.fixed_len is not None and not self.mask_zero:
            return ids, np.ones_like(real)
        return ids, real


def _pool(kind: str, seq: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(bool)
    some = m.any(axis=1)
    if kind == "max":
        return np.where(some, np.where(m, seq, -np.inf).max(axis=1), 0.0).astype(seq.dtype)
    count = np.maximum(m.sum(axis=1), 1).astype(seq.dtype)
    return np.where(m, seq, 0.0).sum(axis=1) / count


def _act(fn: Any) -> Any:
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", str(fn))
    if name not in _ACT:
        raise ModelFileError(f"activation {name!r} is not supported by inspect")
    return _ACT[name]


def _np(v: Any) -> np.ndarray:
    return np.asarray(v.numpy(), dtype=np.float64)  # a Keras variable


def _cell(layer: Any, backwards: bool) -> Cell:
    kind, c = _KIND[type(layer).__name__], layer.cell
    kernel, rec = _np(c.kernel), _np(c.recurrent_kernel)
    bias = _np(c.bias) if c.bias is not None else np.zeros(kernel.shape[1])
    if kind == "gru" and not c.reset_after:
        raise ModelFileError("inspect supports GRU layers with reset_after=True (the default)")
    bias, bias_rec = bias if bias.ndim == 2 else (bias, np.zeros_like(bias))  # GRU: (2, 3h)
    ra = getattr(c, "recurrent_activation", "linear")
    return Cell(kind, kernel, rec, bias, bias_rec, _act(c.activation), _act(ra), backwards)


def net_from_model(model: Any) -> Net:
    """Read the weights of an lstmcli model (Embedding → recurrent layers → pooling → Dense)."""
    from lstmcli.backend.reader import model_parts

    parts = model_parts(model)
    if parts.embedding is None:
        raise ModelFileError("inspect needs a model with token input (an Embedding layer)")
    emb, head, rnns = parts.embedding, parts.head, []
    for lyr in parts.recurrent:
        if type(lyr).__name__ == "Bidirectional":
            inner = lyr.forward_layer
            cells = [_cell(inner, False), _cell(lyr.backward_layer, True)]
            if lyr.merge_mode != "concat":
                raise ModelFileError(f"layer {lyr.name}: only merge_mode='concat' is supported")
        else:
            inner, cells = lyr, [_cell(lyr, bool(lyr.go_backwards))]
        rs = bool(inner.return_sequences)
        rnns.append(Recurrent(lyr.name, _KIND[type(inner).__name__], cells, rs))
    t = model.inputs[0].shape[1]
    kernel = bias = None
    if head is not None:
        kernel = _np(head.kernel)
        bias = _np(head.bias) if head.bias is not None else np.zeros(int(head.units))
    return Net(
        _np(emb.embeddings), bool(emb.mask_zero), None if t is None else int(t), rnns,
        kernel, bias, getattr(getattr(head, "activation", None), "__name__", "linear"),
        parts.pool,
    )  # fmt: skip


def _step(cell: Cell, xw: np.ndarray, h: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
    """One timestep: ``xw`` = x·W + b_in already. Returns the step's quantities."""
    ra, act, u = cell.recurrent_activation, cell.activation, cell.units
    if cell.kind == "lstm":
        z = xw + h @ cell.recurrent
        i, f, o = ra(z[:, :u]), ra(z[:, u : 2 * u]), ra(z[:, 3 * u :])
        cand = act(z[:, 2 * u : 3 * u])
        c = f * c + i * cand
        return {"input": i, "forget": f, "candidate": cand, "output": o, "cell": c,
                "hidden": o * act(c)}  # fmt: skip
    if cell.kind == "gru":
        rec = h @ cell.recurrent + cell.bias_rec  # reset_after: r multiplies h·U_h + b_rec,h
        z, r = ra(xw[:, :u] + rec[:, :u]), ra(xw[:, u : 2 * u] + rec[:, u : 2 * u])
        cand = act(xw[:, 2 * u :] + r * rec[:, 2 * u :])
        return {"update": z, "reset": r, "candidate": cand, "hidden": z * h + (1 - z) * cand}
    return {"hidden": act(xw + h @ cell.recurrent)}


def run_cell(
    cell: Cell, x: np.ndarray, mask: np.ndarray, keep: bool = False
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run one direction over (B, T, d): per-step values (B, T, h) in input order, final h."""
    b, t, _ = x.shape
    dt, names = x.dtype, CELLS[cell.kind].quantities if keep else ("hidden",)
    cell = replace(cell, recurrent=cell.recurrent.astype(dt), bias_rec=cell.bias_rec.astype(dt))
    h = c = np.zeros((b, cell.units), dt)
    xw = x.transpose(1, 0, 2) @ cell.kernel.astype(dt) + cell.bias_in.astype(dt)  # (T, B, g·h)
    out = {q: np.zeros((t, b, cell.units), dt) for q in names}  # time-major while writing
    for s in range(t - 1, -1, -1) if cell.backwards else range(t):
        m = mask[:, s, None]
        vals = _step(cell, xw[s], h, c)
        h = np.where(m, vals["hidden"], h)
        if "cell" in vals:
            c = np.where(m, vals["cell"], c)
        for q in names:
            out[q][s] = h if q == "hidden" else c if q == "cell" else vals[q]
    out = {q: v.transpose(1, 0, 2) for q, v in out.items()}
    return out, h


@dataclass
class Pass:
    """One forward pass: each layer's output sequence and final output, as Keras returns."""

    sequences: list[np.ndarray] = field(default_factory=list)  # (B, T, units·directions)
    finals: list[np.ndarray] = field(default_factory=list)  # the layer's Keras output
    traces: list[dict[str, np.ndarray]] = field(default_factory=list)  # kept layer, per direction
    states: list[list[np.ndarray]] = field(default_factory=list)  # per layer: final h per dir.
    features: np.ndarray | None = None  # (B, D) the head's input, when every layer ran
    logits: np.ndarray | None = None  # (B, classes) the head before its activation
    probabilities: np.ndarray | None = None  # (B, classes), when every layer ran and has a head

    @property
    def head_input(self) -> np.ndarray | None:
        """What the head reads: the last state, or the pooled vector ([max ‖ mean] for both)."""
        return self.features


def run_net(
    net: Net, ids: np.ndarray, mask: np.ndarray, keep: int | None = None,
    upto: int | None = None, dtype: Any = np.float64,
) -> Pass:  # fmt: skip
    """Run layers ``1..upto`` (all by default); ``keep`` (0-based) keeps every gate."""
    x = net.embedding.astype(dtype)[ids]
    result = Pass()
    for i, layer in enumerate(net.layers[:upto]):
        runs = [run_cell(cell, x, mask, keep=i == keep) for cell in layer.cells]
        seq = np.concatenate([r[0]["hidden"] for r in runs], axis=-1)
        last = np.concatenate([r[1] for r in runs], axis=-1)
        result.sequences.append(seq)
        result.states.append([r[1] for r in runs])
        result.finals.append(seq if layer.return_sequences else last)
        if i == keep:
            result.traces = [r[0] for r in runs]
        x = seq
    if upto is None or upto >= len(net.layers):
        top = result.finals[-1]
        if net.pool != "last":
            result.features = net.pooled(result.sequences[-1], mask)
        else:
            result.features = top[:, -1] if top.ndim == 3 else top
        if net.head_kernel is not None:
            result.logits = net.logits(result.features)
            result.probabilities = net.activate(result.logits)
    return result


def prefix_pools(pool: str, seq: np.ndarray) -> np.ndarray:
    """(n, d) → what the head reads after each prefix: h_k, or the running max / mean."""
    if pool == "last":
        return seq
    running = {"max": lambda: np.maximum.accumulate(seq, axis=0),
               "mean": lambda: np.cumsum(seq, axis=0) / np.arange(1, len(seq) + 1)[:, None]}  # fmt: skip
    return np.concatenate([running[kind]() for kind in pool.split("+")], axis=-1)
