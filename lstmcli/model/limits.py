"""What a ``ModelSpec`` allows: the choices of each option, the bounds, and the checks.

``ModelSpec.__post_init__`` calls ``validate``; every refusal is one ``UsageError`` line that
names the flag.

>>> head_tail(500, None)
(125, 375)
"""

from __future__ import annotations

from typing import Any

from lstmcli.core.errors import UsageError
from lstmcli.model.cells import CELL_KEYS, CELLS

# Upper bounds, so that a typo (an extra zero or two) is a usage error rather than minutes
# of swapping or an overflow deep inside TensorFlow. Far above any model a CPU can train.
LIMITS = {
    "units": 16_384,
    "stacked": 64,
    "vocab": 5_000_000,
    "embed_dim": 4_096,
    "seq_len": 1_000_000,
    "classes": 100_000,
    "features": 100_000,
}
MAX_PARAMS = 1_000_000_000  # 4 GB of float32 weights

# How the last recurrent layer's sequence becomes one vector for the head.
POOLS = ("last", "max", "mean", "max+mean")
# Which tokens of a text longer than T are kept (Keras's pad_sequences names: "pre" cuts the
# front and keeps the end; "post" keeps the start; head+tail keeps the first k and last T−k).
TRUNCATIONS = ("pre", "post", "head+tail")
HEADS = ("dense", "none")
# Cell activations lstmcli builds, inspects (interpret/net.py recomputes each in NumPy) and
# loads (backend/modelconfig.py allows each).
ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "softsign", "elu")
BOOL_FIELDS = (
    "bidirectional", "mask_zero", "return_sequences", "trainable_embedding", "use_bias",
    "unit_forget_bias",
)  # fmt: skip
TEXT_ONLY = {"truncate": "pre", "head_tokens": None, "embedding_dropout": 0.0}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def head_tail(seq_len: int, head_tokens: int | None) -> tuple[int, int]:
    """(k, T − k) for ``--truncate head+tail``: the first k tokens and the last T − k."""
    k = seq_len // 4 if head_tokens is None else head_tokens
    return k, seq_len - k


def _whole(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{flag(name)}: {value!r} is not a whole number")
    high = LIMITS[name]
    if not low <= value <= high:
        raise UsageError(f"{flag(name)}: {value} is not allowed; use {low} to {high:,}")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise UsageError(f"{flag(name)}: {value!r} is not one of {', '.join(allowed)}")


def _fraction(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise UsageError(f"{flag(name)}: {value!r} is not allowed; use a number 0 ≤ F < 1")


def validate(spec: Any) -> None:
    """Refuse a spec lstmcli cannot build, in one line naming the flag."""
    _choice("cell", spec.cell, CELL_KEYS)
    if not spec.units:
        raise UsageError("--units: give at least one width")
    if len(spec.units) > LIMITS["stacked"]:
        raise UsageError(
            f"--stacked: {len(spec.units)} layers is not allowed; use 1 to {LIMITS['stacked']}"
        )
    for h in spec.units:
        _whole("units", h)
    for name in ("dropout", "recurrent_dropout", "embedding_dropout"):
        _fraction(name, getattr(spec, name))
    for name in BOOL_FIELDS:
        value = getattr(spec, name)
        if not isinstance(value, bool):
            raise UsageError(f"{flag(name)}: {value!r} is not allowed; use true or false")
    _whole("vocab", spec.vocab, low=2 if spec.token_input else 1)
    for name in ("embed_dim", "seq_len", "classes"):
        _whole(name, getattr(spec, name))
    if spec.features is not None:
        _whole("features", spec.features)
    for name, allowed in (("pool", POOLS), ("truncate", TRUNCATIONS), ("head", HEADS),
                          ("activation", ACTIVATIONS), ("recurrent_activation", ACTIVATIONS)):  # fmt: skip
        _choice(name, getattr(spec, name), allowed)
    _check_combinations(spec)
    params = param_count(spec)
    if params > MAX_PARAMS:
        raise UsageError(
            f"the model would have {params:,} parameters; lstmcli allows up to {MAX_PARAMS:,} "
            "(lower --vocab, --embed-dim, --units or --stacked)"
        )


def _check_combinations(spec: Any) -> None:
    if spec.features is not None:
        if spec.mask_zero:
            raise UsageError("--mask-zero needs token input; it cannot be combined with --features")
        for name, default in TEXT_ONLY.items():
            if getattr(spec, name) != default:
                raise UsageError(f"{flag(name)} needs token input; drop it or drop --features")
    _check_truncation(spec)
    if spec.pool != "last" and spec.return_sequences:
        raise UsageError(
            f"--pool {spec.pool} turns the sequence into one vector; drop --return-sequences"
        )
    if spec.cell == "simplernn" and spec.recurrent_activation != "sigmoid":
        raise UsageError("--recurrent-activation: a simplernn layer has no gates; drop it")
    if not spec.unit_forget_bias:
        if spec.cell != "lstm":
            raise UsageError(f"--no-unit-forget-bias: a {spec.cell} layer has no forget gate")
        if not spec.use_bias:
            raise UsageError("--no-unit-forget-bias has no bias to act on with --no-bias")
    if spec.head == "none" and spec.classes != 1:
        raise UsageError(f"--classes {spec.classes} needs a head; drop --head none")


def _check_truncation(spec: Any) -> None:
    if spec.head_tokens is not None and spec.truncate != "head+tail":
        raise UsageError("--head-tokens needs --truncate head+tail")
    if spec.truncate != "head+tail":
        return
    t, k = spec.seq_len, spec.head_tokens
    if k is None:
        if t < 4:
            raise UsageError(
                f"--truncate head+tail: --seq-len {t} is too small; it keeps the first T//4 "
                "and the last T−T//4 tokens, so T must be at least 4"
            )
        return
    if isinstance(k, bool) or not isinstance(k, int):
        raise UsageError(f"--head-tokens: {k!r} is not a whole number")
    if t < 2:
        raise UsageError(f"--truncate head+tail: --seq-len {t} is too small; T must be at least 2")
    if not 1 <= k <= t - 1:
        raise UsageError(
            f"--head-tokens {k}: with --seq-len {t} keep 1 to {t - 1} head tokens "
            "(the other T − K are the tail)"
        )


def param_count(spec: Any) -> int:
    """Total parameters (``arith.layer_rows`` gives the same per layer, with formulas)."""
    cell, dirs = CELLS[spec.cell], 2 if spec.bidirectional else 1
    n, x = (spec.vocab * spec.embed_dim, spec.embed_dim) if spec.token_input else (0, spec.features)
    for h in spec.units:
        n += dirs * cell.params(h, x or 0, spec.use_bias)
        x = dirs * h
    if spec.pool == "max+mean":
        x = 2 * (x or 0)
    if spec.head == "none":
        return n
    return n + (x or 0) * spec.classes + spec.classes
