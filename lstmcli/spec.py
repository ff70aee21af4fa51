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

from lstmcli.errors import UsageError

CELLS = ("lstm", "gru", "simplernn")
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
# Gate blocks per cell: how many (x, h) matrices the kernel holds side by side.
GATE_BLOCKS = {"lstm": 4, "gru": 3, "simplernn": 1}


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
            layer = f"{CELL_NAMES[self.cell]}({h})"
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
        try:
            n = int(w)
        except (TypeError, ValueError):
            raise UsageError(
                f"--units: {w!r} is not a whole number (give H or a list like 64,32)"
            ) from None
        if n < 1:
            raise UsageError(f"--units: {n} is not allowed; every width must be ≥ 1")
        out.append(n)
    if not out:
        raise UsageError("--units: give at least one width")
    if stacked is not None:
        if stacked < 1:
            raise UsageError(f"--stacked: {stacked} is not allowed; it must be ≥ 1")
        if len(out) == 1:
            out = out * stacked
        elif stacked not in (1, len(out)):
            raise UsageError(
                f"--stacked {stacked} does not match the {len(out)} widths given in --units"
            )
    return tuple(out)


def validate(spec: ModelSpec) -> None:
    if spec.cell not in CELLS:
        raise UsageError(f"--cell: {spec.cell!r} is not one of {', '.join(CELLS)}")
    if not spec.units or any((not isinstance(h, int)) or h < 1 for h in spec.units):
        raise UsageError(f"--units: {spec.units} is not allowed; every width must be ≥ 1")
    for name in ("dropout", "recurrent_dropout"):
        value = getattr(spec, name)
        if not isinstance(value, int | float) or not 0 <= value < 1:
            raise UsageError(f"--{name.replace('_', '-')}: {value} is not allowed; use 0 ≤ F < 1")
    for name in ("vocab", "embed_dim", "seq_len", "classes"):
        value = getattr(spec, name)
        if not isinstance(value, int) or value < 1:
            raise UsageError(f"--{name.replace('_', '-')}: {value} is not allowed; it must be ≥ 1")
    if spec.token_input and spec.vocab < 2:
        raise UsageError("--vocab: must be ≥ 2 (index 0 is the padding token)")
    if spec.features is not None and (not isinstance(spec.features, int) or spec.features < 1):
        raise UsageError(f"--features: {spec.features} is not allowed; it must be ≥ 1")
    if spec.features is not None and spec.mask_zero:
        raise UsageError("--mask-zero needs token input; it cannot be combined with --features")


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
    except OSError as exc:
        raise UsageError(f"--config: cannot read {path} ({exc.strerror})") from None
    model = data.get("model", data)
    if not isinstance(model, dict):
        raise UsageError(f"--config: [model] in {path} must be a table")
    return {k.replace("-", "_"): v for k, v in model.items() if not isinstance(v, dict)}
