"""Recipes: shipped, readable TOML files of model and training settings.

``lstmcli train imdb --recipe strong`` reads ``lstmcli/recipes/strong.toml``; ``--recipe
PATH.toml`` reads any file of the same form. A recipe has a ``[model]`` table (the model flag
names, as in ``--config``) and a ``[train]`` table (the training flag names below, and
``val-by`` and ``val-split``: the validation split a recipe is tuned on belongs to it), and optionally a
``[pretrain]`` table: skip-gram word vectors learnt before training, at the model's embedding
width, with ``lstmcli pretrain``'s flag names (``vocab``, ``epochs``, ``window``, ``negatives``,
``subsample``, ``lr``, ``batch-size``, ``method``) and ``fine-tune`` (train the embedding from them; else it
stays fixed). See ``train/pretrained.py``. Flags given on the command line override it.

>>> "strong" in available()
True
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lstmcli.core.errors import UsageError
from lstmcli.data.request import VAL_BY

# The [train] keys a recipe may set, and their types (the seed, data and speed flags stay on
# the command line: a recipe says what to train, not on what or how fast).
TRAIN_KEYS: dict[str, tuple[type, ...]] = {
    "epochs": (int,), "batch_size": (int,), "optimizer": (str,), "lr": (int, float),
    "patience": (int,), "lr_schedule": (str,), "clipnorm": (int, float),
}  # fmt: skip
# The [train] keys that set the data request rather than the training config.
DATA_KEYS: dict[str, tuple[type, ...]] = {"val_by": (str,), "val_split": (float,)}
# The [pretrain] keys: lstmcli pretrain's flags, and whether the embedding is trained further.
PRETRAIN_KEYS: dict[str, tuple[type, ...]] = {
    "vocab": (int,), "epochs": (int,), "window": (int,), "negatives": (int,),
    "subsample": (int, float), "lr": (int, float), "batch_size": (int,), "fine_tune": (bool,),
    "method": (str,),
}  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    name: str
    source: str  # where it was read from
    model: dict[str, Any] = field(default_factory=dict)  # model keys, underscores
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    data: dict[str, Any] = field(default_factory=dict)  # DataRequest fields ([train] val-by)
    pretrain: dict[str, Any] | None = None  # the [pretrain] table, underscores; None: none


def _shipped() -> Any:
    return resources.files("lstmcli").joinpath("recipes")


def available() -> list[str]:
    """The names of the shipped recipes."""
    folder = _shipped()
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_recipe(value: str) -> Recipe:
    """A shipped recipe by name, or a TOML file by path (anything ending in .toml)."""
    if value.endswith(".toml") or "/" in value or "\\" in value:
        path = Path(value)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--recipe: file {value} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--recipe: cannot read {value} ({exc})") from None
        return parse_recipe(path.stem, str(path), text)
    names = available()
    if value not in names:
        raise UsageError(
            f"--recipe {value!r}: no such recipe; available: {', '.join(names)} (or a PATH.toml)"
        )
    text = _shipped().joinpath(f"{value}.toml").read_text(encoding="utf-8")
    return parse_recipe(value, f"lstmcli/recipes/{value}.toml", text)


def parse_recipe(name: str, source: str, text: str) -> Recipe:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--recipe: {source} is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"model", "train", "pretrain"})
    if unknown or not all(isinstance(v, dict) for v in data.values()):
        raise UsageError(f"--recipe: {source} may hold only [model], [train] and [pretrain] tables")
    model = {k.replace("-", "_"): v for k, v in data.get("model", {}).items()}
    train = {k.replace("-", "_"): v for k, v in data.get("train", {}).items()}
    types = TRAIN_KEYS | DATA_KEYS
    for key, value in train.items():
        if key not in types:
            allowed = ", ".join(k.replace("_", "-") for k in types)
            raise UsageError(f"--recipe: {source}: unknown [train] key {key!r}; allowed: {allowed}")
        if isinstance(value, bool) or not isinstance(value, types[key]):
            flag = key.replace("_", "-")
            raise UsageError(f"--recipe: {source}: [train] {flag} = {value!r} has the wrong type")
        if key in ("epochs", "batch_size", "patience", "lr") and not value > 0:
            flag = key.replace("_", "-")
            raise UsageError(f"--recipe: {source}: [train] {flag} = {value!r} must be above 0")
        if key == "val_split" and not 0 < value < 1:
            raise UsageError(f"--recipe: {source}: [train] val-split = {value!r} must be in (0, 1)")
        if key == "val_by" and value not in VAL_BY:
            allowed = " or ".join(repr(v) for v in VAL_BY)
            raise UsageError(f"--recipe: {source}: [train] val-by = {value!r} must be {allowed}")
    data_keys = {k: train.pop(k) for k in list(train) if k in DATA_KEYS}
    pretrain = None
    if "pretrain" in data:
        pretrain = {k.replace("-", "_"): v for k, v in data["pretrain"].items()}
        _check_pretrain(source, pretrain)
    return Recipe(name, source, model, train, data_keys, pretrain)


def _check_pretrain(source: str, table: dict[str, Any]) -> None:
    for key, value in table.items():
        flag = key.replace("_", "-")
        if key not in PRETRAIN_KEYS:
            allowed = ", ".join(k.replace("_", "-") for k in PRETRAIN_KEYS)
            raise UsageError(
                f"--recipe: {source}: unknown [pretrain] key {key!r}; allowed: {allowed}"
            )
        kinds = PRETRAIN_KEYS[key]
        if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds):
            raise UsageError(
                f"--recipe: {source}: [pretrain] {flag} = {value!r} has the wrong type"
            )
        if key == "method":
            from lstmcli.embed.settings import METHODS

            if value not in METHODS:
                allowed = " or ".join(METHODS)
                raise UsageError(
                    f"--recipe: {source}: [pretrain] method = {value!r}; use {allowed}"
                )
        elif key not in ("fine_tune", "subsample") and not value > 0:
            raise UsageError(f"--recipe: {source}: [pretrain] {flag} = {value!r} must be above 0")
