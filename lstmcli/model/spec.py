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
from lstmcli.model.cells import CELLS
from lstmcli.model.limits import LIMITS, head_tail, validate


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
    # How the last recurrent layer's sequence reaches the head: its last state, or max / mean
    # pooling over the unmasked steps, or both concatenated (see ``limits.POOLS``).
    pool: str = "last"
    truncate: str = "pre"  # which tokens of a longer text are kept (``limits.TRUNCATIONS``)
    head_tokens: int | None = None  # head+tail: the first k tokens (default T//4)
    embedding_dropout: float = 0.0  # SpatialDropout1D: whole embedding channels per text
    use_bias: bool = True
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"  # Keras 3's default (Keras 2's was hard_sigmoid)
    unit_forget_bias: bool = True  # LSTM: forget-gate bias starts at 1
    head: str = "dense"  # "none": the model ends at the last recurrent layer (or its pooling)
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

    @property
    def head_tail(self) -> tuple[int, int]:
        """(k, T − k): the head and tail a ``head+tail`` truncation keeps."""
        return head_tail(self.seq_len, self.head_tokens)

    @property
    def head_width(self) -> int:
        """How many numbers the head reads per prediction (pooling included)."""
        width = (2 if self.bidirectional else 1) * self.units[-1]
        return 2 * width if self.pool == "max+mean" else width

    def describe(self) -> str:
        parts = []
        if self.token_input:
            cut = {"pre": "", "post": f" (first {self.seq_len})"}.get(self.truncate)
            if cut is None:
                cut = " (first {} + last {})".format(*self.head_tail)
            parts.append(
                f"Embedding({self.vocab}, {self.embed_dim}) over {self.seq_len} tokens{cut}"
            )
        else:
            parts.append(f"input ({self.seq_len}, {self.features})")
        if self.embedding_dropout:
            parts.append(f"SpatialDropout1D({self.embedding_dropout:g})")
        options = "".join(f", {k}={v}" for k, v in self.cell_options().items())
        for h in self.units:
            layer = f"{CELLS[self.cell].keras_class}({h}{options})"
            parts.append(f"Bidirectional({layer})" if self.bidirectional else layer)
        if self.pool != "last":
            parts.append(f"{self.pool} pooling")
        if self.head == "dense":
            parts.append(f"Dense({self.classes}, {self.head_activation})")
        return " → ".join(parts)

    def cell_options(self) -> dict[str, Any]:
        """The recurrent layers' Keras arguments that differ from Keras's defaults."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        names = ("activation", "recurrent_activation", "use_bias", "unit_forget_bias")
        return {k: getattr(self, k) for k in names if getattr(self, k) != defaults[k]}

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
