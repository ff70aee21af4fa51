"""How ``train``'s flags meet a ``--recipe``: which settings the recipe still sets, which run
fields the command line gave (for ``--resume``), and the recipe's pretrained embedding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lstmcli.cli.app import fail
from lstmcli.core.errors import EXIT_USAGE
from lstmcli.render.console import stderr_console
from lstmcli.train.recipes import Recipe


def embedding_plan(
    chosen: Recipe | None, embedding_from: Path | None, freeze: bool | None
) -> tuple[dict[str, Any] | None, bool | None]:
    """The recipe's [pretrain] table where it applies (no --embedding-from given), and whether
    the embedding stays fixed (the flag, else the table's ``fine-tune``)."""
    pretrain = chosen.pretrain if chosen is not None and embedding_from is None else None
    if freeze is not None and embedding_from is None and pretrain is None:
        raise fail("--freeze-embedding/--fine-tune-embedding need --embedding-from", EXIT_USAGE)
    if pretrain is not None and freeze is None:
        freeze = not pretrain.get("fine_tune", False)
    return pretrain, freeze


def train_spec(
    spec_flags: dict[str, Any],
    chosen: Recipe | None,
    embedding_from: Path | None,
    freeze: bool | None,
) -> tuple[Any, dict[str, Any] | None]:
    """The model to train (the recipe's [model] under the flags, training's defaults under
    both) and the recipe's [pretrain] table where it applies."""
    from lstmcli.cli.options import spec_from_flags
    from lstmcli.model.rules import check_trainable, training_defaults

    pretrain, freeze = embedding_plan(chosen, embedding_from, freeze)
    given = embedding_from is not None or pretrain is not None
    base = training_defaults(spec_flags, given, freeze)
    spec = spec_from_flags({**base, **(chosen.model if chosen else {})}, **spec_flags)
    check_trainable(spec)
    return spec, pretrain


def recipe_vectors(table: dict[str, Any], req: Any, spec: Any, stage: Any, quiet: bool) -> Path:
    """The recipe's [pretrain] vectors: from the cache, or learnt now with a progress bar."""
    from lstmcli.render.embed import PretrainProgress
    from lstmcli.render.train import DownloadProgress
    from lstmcli.train.pretrained import ensure_vectors

    err = stderr_console()
    with DownloadProgress(err, quiet) as download, PretrainProgress(err, quiet=quiet) as bar:
        return ensure_vectors(table, req, spec, stage, bar, download)


def recipe_train(ctx: typer.Context, chosen: Recipe | None, table: str = "train") -> dict[str, Any]:
    """The recipe's [train] settings that no flag on the command line overrides (``table``
    "data": those of them that set the data request, such as val-by)."""
    if chosen is None:
        return {}
    settings: dict[str, Any] = getattr(chosen, table)
    given = {
        name for name in settings
        if (src := ctx.get_parameter_source(name)) is not None and src.name not in ("DEFAULT", "DEFAULT_MAP")
    }  # fmt: skip
    return {k: v for k, v in settings.items() if k not in given}


def recipe_val_by(ctx: typer.Context, chosen: Recipe | None, dataset: str, flag: str) -> str:
    """--val-by, else the recipe's: a recipe's ``film`` (tuned on IMDB) reads as ``text`` for
    data without films, so that a recipe trains on any data; the flag itself is checked."""
    value = recipe_train(ctx, chosen, "data").get("val_by", flag)
    return "text" if value == "film" and flag != "film" and dataset != "imdb" else value


# Each train flag and the field of the run it sets (checked by --resume).
_FIELDS = {
    "dataset": ("data.name_or_path",), "data": ("data.data",), "seed": ("train.seed", "data.seed"),
    **{n: (f"data.{n}",) for n in ("limit", "eval_limit", "val_split", "val_by", "test",
                                   "text_col", "label_col")},
    **{n: (f"train.{n}",) for n in ("epochs", "batch_size", "optimizer", "lr", "patience",
                                    "checkpoint_every", "xla", "eval_batch_size", "batching",
                                    "lr_schedule", "clipnorm", "fused", "split_step")},
    "bucketing": ("train.batching",),
    "embedding_from": ("embedding",), "freeze_embedding": ("embedding",),
}  # fmt: skip


def given_flags(ctx: Any, spec_flags: dict[str, Any], chosen: Recipe | None) -> frozenset[str]:
    """The run fields that the command line sets: flags that were given (not defaults), a
    --config file's keys and a --recipe's settings (checked by --resume)."""
    from lstmcli.model.spec import load_config

    given: set[str] = set()
    for name, fields in _FIELDS.items():
        source = ctx.get_parameter_source(name) if ctx is not None else None
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.update(fields)
    model = {k: v for k, v in spec_flags.items() if v is not None}
    if "config" in model:
        model |= load_config(Path(model.pop("config")))
    if chosen is not None:
        model |= chosen.model
        given.update(f"train.{k}" for k in chosen.train)
        given.update(f"data.{k}" for k in chosen.data)
    given.update(f"model.{'units' if k == 'stacked' else k}" for k in model)
    return frozenset(given)
