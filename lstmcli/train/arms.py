"""The arms of ``lstmcli compare``: what each trains, how it is written, and the lecture's own.

An arm is the model keys of ``--config`` (``cell``, ``units``, ``stacked``, ``bidirectional``,
``dropout``, ``embed-dim``…) plus four keys of its own: ``name``, ``pretrained`` (start from
word vectors pretrained on the data's unlabelled or training texts, frozen unless
``trainable-embedding``), ``small`` (train on ``--small-n`` labelled texts) and ``n`` (train
on N labelled texts). On the command line an arm is ``key=value`` pairs separated by commas,
a bare key meaning true and ``no-key`` false:

>>> parse_arm("bidirectional,dropout=0.2")
{'bidirectional': True, 'dropout': 0.2}
>>> parse_arm("cell=gru, units=64,32")
{'cell': 'gru', 'units': '64,32'}
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmcli.core.errors import UsageError
from lstmcli.model.arith import summarize
from lstmcli.model.cells import CELLS
from lstmcli.model.rules import check_trainable, training_defaults
from lstmcli.model.spec import ModelSpec, merge_flags

MODEL_KEYS = (*(f.name for f in dataclasses.fields(ModelSpec) if f.name != "extra"), "stacked")
ARM_KEYS = ("name", "pretrained", "small", "n")
BOOL_KEYS = {"bidirectional", "mask_zero", "return_sequences", "trainable_embedding",
             "pretrained", "small"}  # fmt: skip
INT_KEYS = {"stacked", "vocab", "embed_dim", "seq_len", "features", "classes", "n"}
FLOAT_KEYS = {"dropout", "recurrent_dropout"}
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")

# The lecture's models (Embedding(10000, 32) over 500 tokens, state 32): SimpleRNN, LSTM, GRU,
# three stacked LSTMs and a Bi-LSTM with dropout 0.2, and the pretraining experiment: the same
# LSTM at a small number of labels, with and without a pretrained embedding.
DEFAULT_ARMS: tuple[dict[str, Any], ...] = (
    {"cell": "simplernn"},
    {"cell": "lstm"},
    {"cell": "gru"},
    {"cell": "lstm", "stacked": 3, "dropout": 0.2},
    {"cell": "lstm", "bidirectional": True, "dropout": 0.2},
    {"cell": "lstm", "pretrained": True, "small": True},
    {"cell": "lstm", "small": True},
)

# The parameter totals the lecture notes print for their models (model.summary()).
LECTURE_FIGURES: tuple[tuple[ModelSpec, int], ...] = (
    (ModelSpec(), 328_353),
    (ModelSpec(units=(32, 32, 32), dropout=0.2), 344_993),
    (ModelSpec(bidirectional=True, dropout=0.2), 336_705),
)


@dataclass(frozen=True)
class Arm:
    """One arm as the user wrote it (not yet merged with the shared flags)."""

    model: dict[str, Any]  # model keys, as ``spec_from_flags`` takes them
    source: str  # how to name it in an error message: "--arm 2 (cell=gru)"
    name: str | None = None
    pretrained: bool = False
    small: bool = False
    n: int | None = None


@dataclass(frozen=True)
class ArmPlan:
    """One arm ready to train: its spec, its number of labels and its folder stem."""

    name: str
    slug: str
    spec: ModelSpec
    limit: int | None  # labelled training texts (None: all, or --limit)
    pretrained: bool
    params: int  # formula total (lstmcli.model.arith), as ``summary`` prints it
    lecture_params: int | None  # what the lecture notes print for this model, if they do

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.spec.to_dict(), "limit": self.limit,
                "pretrained": self.pretrained}  # fmt: skip


def _key(raw: str, where: str) -> str:
    key = raw.strip().lower().replace("-", "_")
    if key not in MODEL_KEYS and key not in ARM_KEYS:
        allowed = ", ".join(k.replace("_", "-") for k in (*MODEL_KEYS, *ARM_KEYS))
        raise UsageError(f"{where}: unknown key {raw.strip()!r}; allowed: {allowed}")
    return key


def _value(key: str, value: Any, where: str) -> Any:
    """A value from the command line (text) or a TOML file (typed), checked against its key."""
    flag = key.replace("_", "-")
    if key in BOOL_KEYS:
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {flag}={value!r} is not true or false")
        return value
    if key in INT_KEYS | FLOAT_KEYS and isinstance(value, str):
        try:
            value = int(value) if key in INT_KEYS else float(value)
        except ValueError:
            kind = "a whole number" if key in INT_KEYS else "a number"
            raise UsageError(f"{where}: {flag}={value!r} is not {kind}") from None
    if key in ("name", "cell") and not isinstance(value, str):
        raise UsageError(f"{where}: {flag}={value!r} must be text")
    if key == "n" and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
        raise UsageError(f"{where}: n={value!r} must be a whole number ≥ 2")
    return value


def parse_arm(text: str, where: str = "--arm") -> dict[str, Any]:
    """``"cell=gru,units=64,32,no-bidirectional"`` → ``{"cell": "gru", "units": "64,32",
    "bidirectional": False}`` (a bare number continues the ``units`` list before it)."""
    out: dict[str, Any] = {}
    last = None
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if "=" in token:
            raw, value = token.split("=", 1)
            key, value = _key(raw, where), value.strip()
        elif last == "units" and token.isdigit():
            out["units"] += f",{token}"
            continue
        elif token.lower().startswith(("no-", "no_")) and _key(token[3:], where) in BOOL_KEYS:
            key, value = _key(token[3:], where), False
        else:
            key, value = _key(token, where), True
        if key in out:
            raise UsageError(f"{where}: {key.replace('_', '-')} is given twice")
        out[key], last = (value if key == "units" else _value(key, value, where)), key
    if not out:
        raise UsageError(f"{where}: empty arm; give keys such as cell=gru or bidirectional")
    return out


def make_arm(values: dict[str, Any], source: str) -> Arm:
    """An ``Arm`` from parsed keys (``parse_arm``) or one ``[[arm]]`` table of a TOML file."""
    clean = {_key(str(k), source): v for k, v in values.items()}
    model = {k: v for k, v in clean.items() if k in MODEL_KEYS}
    for key, value in clean.items():
        if key != "units":
            clean[key] = _value(key, value, source)
    return Arm({k: clean[k] for k in model}, source, clean.get("name"),
               clean.get("pretrained", False), clean.get("small", False), clean.get("n"))  # fmt: skip


def arms_from_flags(texts: list[str]) -> list[Arm]:
    return [make_arm(parse_arm(t, f"--arm {i} ({t})"), f"--arm {i} ({t})")
            for i, t in enumerate(texts, 1)]  # fmt: skip


def arms_from_toml(path: Path) -> list[Arm]:
    """The ``[[arm]]`` tables of a TOML file, in order."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"--arm-file: {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--arm-file: {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise UsageError(f"--arm-file: cannot read {path} ({exc.strerror})") from None
    tables = data.get("arm")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"--arm-file: {path} has no [[arm]] tables")
    return [make_arm(t, f"{path} [[arm]] {i}") for i, t in enumerate(tables, 1)]


def default_arms() -> list[Arm]:
    return [make_arm(dict(a), f"default arm {i}") for i, a in enumerate(DEFAULT_ARMS, 1)]


def lecture_params(spec: ModelSpec) -> int | None:
    """The lecture's printed total for this model (masking and freezing change no count)."""
    plain = spec.replace(mask_zero=False, trainable_embedding=True)
    return next((n for lecture, n in LECTURE_FIGURES if lecture == plain), None)


def resolve_arms(
    arms: list[Arm], shared: dict[str, Any], limit: int | None, small_n: int
) -> list[ArmPlan]:
    """Merge each arm over the shared model flags; check every arm before anything trains."""
    plans: list[ArmPlan] = []
    given = {k: v for k, v in shared.items() if v is not None}
    for arm in arms:
        flags = {**given, **arm.model}
        try:
            spec = merge_flags(training_defaults(flags, arm.pretrained, None), flags)
            check_trainable(spec)
        except UsageError as exc:
            raise UsageError(f"{arm.source}: {exc}") from None
        if arm.pretrained and not spec.token_input:
            raise UsageError(f"{arm.source}: pretrained needs token input")
        n = arm.n if arm.n is not None else (small_n if arm.small else limit)
        if arm.small and limit is not None and small_n >= limit:
            raise UsageError(f"--small-n {small_n:,} must be below --limit {limit:,} "
                             "(the labels the other arms train on)")  # fmt: skip
        name, slug = arm_name(spec, arm, n)
        plans.append(ArmPlan(name, slug, spec, n, arm.pretrained,
                             summarize(spec).totals.total_params, lecture_params(spec)))  # fmt: skip
    return _unique(plans)


def arm_name(spec: ModelSpec, arm: Arm, n: int | None) -> tuple[str, str]:
    """("3×LSTM, dropout 0.2", "3xlstm-drop0.2"): the table's name and the folder stem."""
    cls = CELLS[spec.cell].keras_class
    core = f"{spec.stacked}×" * (spec.stacked > 1) + "Bi-" * spec.bidirectional + cls
    stem = [f"{spec.stacked}x" * (spec.stacked > 1) + "bi" * spec.bidirectional + spec.cell]
    extra: list[str] = []
    if spec.dropout:
        extra.append(f"dropout {spec.dropout:g}")
        stem.append(f"drop{spec.dropout:g}")
    for key in sorted(set(arm.model) - {"cell", "stacked", "bidirectional", "dropout"}):
        extra.append(f"{key.replace('_', '-')}={arm.model[key]}")
        stem.append(f"{key}{arm.model[key]}")
    if arm.pretrained:
        extra.append("pretrained embedding" + ", fine-tuned" * spec.trainable_embedding)
        stem.append("pretrained")
    if arm.small or arm.n is not None:
        extra.append(f"n={n:,}")
        stem.append(f"n{n}")
    slug = re.sub(r"[^a-z0-9.]+", "-", "-".join(stem).lower()).strip("-")[:60] or "arm"
    return arm.name or ", ".join([core, *extra]), slug


def _unique(plans: list[ArmPlan]) -> list[ArmPlan]:
    seen: dict[str, int] = {}
    out = []
    for p in plans:
        count = seen[p.slug] = seen.get(p.slug, 0) + 1
        if count > 1:
            p = dataclasses.replace(p, name=f"{p.name} ({count})", slug=f"{p.slug}-{count}")
        out.append(p)
    return out


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` → [0, 1, 2]: distinct whole numbers ≥ 0, in the order given."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit() or int(part) > 2**32 - 1:
            raise UsageError(f"--seeds: {part!r} is not a seed; give whole numbers like 0,1,2")
        if int(part) in seeds:
            raise UsageError(f"--seeds: {int(part)} is given twice")
        seeds.append(int(part))
    return seeds
