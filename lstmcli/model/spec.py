"""``ModelSpec``: the one description of a model that every command shares.

Flags, a ``--config`` TOML file and saved runs all turn into a ``ModelSpec``; ``build``,
``summary``, ``shapes``, ``train`` and ``inspect`` all read one.

>>> ModelSpec().describe()
'Embedding(10000, 32) over 500 tokens → LSTM(32) → Dense(1, sigmoid)'
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstmcli.core.errors import UsageError
from lstmcli.model.cells import CELL_KEYS, CELLS


@dataclass(frozen=True)
class ModelSpec:
    """Embedding (or vector input) → N recurrent layers → Dense head."""

    cell: str = "lstm"
    units: tuple[int, ...] = (32,)
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    vocab: int = 10000
    embed_dim: int = 32
    seq_len: int = 500
    mask_zero: bool = False
    features: int | None = None
    classes: int = 1
    return_sequences: bool = False
    trainable_embedding: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def token_input(self) -> bool:
        return self.features is None

    @property
    def stacked(self) -> int:
        return len(self.units)

    @property
    def head_activation(self) -> str:
        return "sigmoid" if self.classes == 1 else "softmax"

    def describe(self) -> str:
        parts = []
        if self.token_input:
            parts.append(f"Embedding({self.vocab}, {self.embed_dim}) over {self.seq_len} tokens")
        else:
            parts.append(f"input ({self.seq_len}, {self.features})")
        for h in self.units:
            layer = f"{CELLS[self.cell].keras_class}({h})"
            parts.append(f"Bidirectional({layer})" if self.bidirectional else layer)
        parts.append(f"Dense({self.classes}, {self.head_activation})")
        return " → ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("extra")
        d["units"] = list(self.units)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        clean = {k.replace("-", "_"): v for k, v in data.items()}
        unknown = sorted(set(clean) - known)
        if unknown:
            raise UsageError(f"unknown model key(s) {', '.join(unknown)}; allowed: {sorted(known)}")
        if "units" in clean:
            clean["units"] = parse_units(clean["units"])
        return cls(**clean)

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)


def merge_flags(
    base: dict[str, Any] | None = None, flags: dict[str, Any] | None = None
) -> ModelSpec:
    """Defaults ← an optional ``config`` TOML file ← the given flags (``None`` = not given).

    ``flags`` uses the model flag names (``cell``, ``units``, ``stacked``, ``embed_dim``…);
    ``stacked`` repeats a single ``units`` width.

    >>> merge_flags({"mask_zero": True}, {"stacked": 2, "units": 16}).units
    (16, 16)
    """
    values: dict[str, Any] = dict(base or {})
    flags = dict(flags or {})
    config = flags.pop("config", None)
    if config is not None:
        values.update(load_config(Path(config)))
    stacked = flags.pop("stacked", None)
    values.update({k: v for k, v in flags.items() if v is not None})
    stacked = stacked if stacked is not None else values.pop("stacked", None)
    values.pop("stacked", None)
    if "units" in values or stacked is not None:
        values["units"] = parse_units(values.get("units", 32), stacked)
    return ModelSpec.from_dict(values)


def parse_units(value: Any, stacked: int | None = None) -> tuple[int, ...]:
    """``32`` → (32,), ``"64,32"`` → (64, 32); ``stacked`` repeats a single width."""
    if isinstance(value, int) and not isinstance(value, bool):
        widths = [value]
    elif isinstance(value, list | tuple):
        widths = list(value)
    else:
        widths = [w.strip() for w in str(value).split(",")]
    out = []
    for w in widths:
        # Whole numbers only: a config's 2.5 or true must not quietly become 2 or 1.
        if isinstance(w, bool) or not isinstance(w, int | str):
            raise UsageError(f"--units: {w!r} is not a whole number (give H or a list like 64,32)")
        try:
            n = int(w)
        except ValueError:
            raise UsageError(
                f"--units: {w!r} is not a whole number (give H or a list like 64,32)"
            ) from None
        if n < 1:
            raise UsageError(f"--units: {n} is not allowed; every width must be ≥ 1")
        out.append(n)
    if not out:
        raise UsageError("--units: give at least one width")
    if stacked is not None:
        if isinstance(stacked, bool) or not isinstance(stacked, int):
            raise UsageError(f"--stacked: {stacked!r} is not a whole number")
        if not 1 <= stacked <= LIMITS["stacked"]:
            raise UsageError(f"--stacked: {stacked} is not allowed; use 1 to {LIMITS['stacked']}")
        if len(out) == 1:
            out = out * stacked
        elif stacked not in (1, len(out)):
            raise UsageError(
                f"--stacked {stacked} does not match the {len(out)} widths given in --units"
            )
    return tuple(out)


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

BOOL_FIELDS = ("bidirectional", "mask_zero", "return_sequences", "trainable_embedding")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _whole(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{_flag(name)}: {value!r} is not a whole number")
    high = LIMITS[name]
    if not low <= value <= high:
        raise UsageError(f"{_flag(name)}: {value} is not allowed; use {low} to {high:,}")


def validate(spec: ModelSpec) -> None:
    if spec.cell not in CELLS:
        raise UsageError(f"--cell: {spec.cell!r} is not one of {', '.join(CELL_KEYS)}")
    if not spec.units:
        raise UsageError("--units: give at least one width")
    if len(spec.units) > LIMITS["stacked"]:
        raise UsageError(
            f"--stacked: {len(spec.units)} layers is not allowed; use 1 to {LIMITS['stacked']}"
        )
    for h in spec.units:
        _whole("units", h)
    for name in ("dropout", "recurrent_dropout"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise UsageError(f"{_flag(name)}: {value!r} is not allowed; use a number 0 ≤ F < 1")
    for name in BOOL_FIELDS:
        value = getattr(spec, name)
        if not isinstance(value, bool):
            raise UsageError(f"{_flag(name)}: {value!r} is not allowed; use true or false")
    _whole("vocab", spec.vocab, low=2 if spec.token_input else 1)
    for name in ("embed_dim", "seq_len", "classes"):
        _whole(name, getattr(spec, name))
    if spec.features is not None:
        _whole("features", spec.features)
    if spec.features is not None and spec.mask_zero:
        raise UsageError("--mask-zero needs token input; it cannot be combined with --features")
    params = param_count(spec)
    if params > MAX_PARAMS:
        raise UsageError(
            f"the model would have {params:,} parameters; lstmcli allows up to {MAX_PARAMS:,} "
            "(lower --vocab, --embed-dim, --units or --stacked)"
        )


def param_count(spec: ModelSpec) -> int:
    """Total parameters (``arith.layer_rows`` gives the same per layer, with formulas)."""
    cell, dirs = CELLS[spec.cell], 2 if spec.bidirectional else 1
    n, x = (spec.vocab * spec.embed_dim, spec.embed_dim) if spec.token_input else (0, spec.features)
    for h in spec.units:
        n += dirs * cell.params(h, x or 0)
        x = dirs * h
    return n + (x or 0) * spec.classes + spec.classes


def load_config(path: Path) -> dict[str, Any]:
    """Read a ``--config`` TOML file; keys are the model flag names (``units``, ``embed-dim``…).

    Keys may sit at the top level or under a ``[model]`` table.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"--config: file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config: {path} is not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"--config: {path} is not UTF-8 text (TOML files must be)") from None
    except OSError as exc:
        raise UsageError(f"--config: cannot read {path} ({exc.strerror})") from None
    model = data.get("model", data)
    if not isinstance(model, dict):
        raise UsageError(f"--config: [model] in {path} must be a table")
    return {k.replace("-", "_"): v for k, v in model.items() if not isinstance(v, dict)}
