"""``--resume``: continue a run exactly as it was started, on exactly the same data.

A run's ``spec.json`` and ``vocabulary.txt`` are frozen at its start, with the identity of
its data (``data_identity``: the files' sizes and times, and a hash of the texts and
labels). A resume reads them back and never writes them; a flag on the command line that
contradicts them is refused (only ``--checkpoint-every`` and ``--eval-batch-size``, which
change how a run goes rather than what it computes, may differ), and so is data that is no
longer what the run was started on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from lstmcli.core.errors import DataError, UsageError
from lstmcli.data.prepare import describe_change, source_identity
from lstmcli.data.request import DataRequest
from lstmcli.data.vcache import Vectorized
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.check import check_types
from lstmcli.rundir.folder import SPEC_FILE, read_info
from lstmcli.train.config import LR_SCHEDULE_BEFORE, TRAIN_TYPES, TrainConfig

# Flags that change how a resumed run goes, not what it computes.
HOW = frozenset({"train.checkpoint_every", "train.eval_batch_size"})
_PATHS = frozenset({"data.name_or_path", "data.data", "data.test"})


def load_saved(run_dir: Path) -> tuple[ModelSpec, TrainConfig, DataRequest, dict[str, Any]]:
    """What a run was started with, read through the same guards as ``open_run``."""
    info, spec, _ = read_info(run_dir)
    path = run_dir / SPEC_FILE
    saved = check_types(info.get("train"), TRAIN_TYPES, path, "train")
    saved = {"lr_schedule": LR_SCHEDULE_BEFORE, **saved}
    try:
        cfg = TrainConfig(**saved)
    except (UsageError, TypeError) as exc:
        raise DataError(f"{path}: key train: {exc}") from None
    req = DataRequest.from_saved(info.get("data"), str(run_dir))
    return spec, cfg, req, info


def _same(name: str, new: Any, old: Any) -> bool:
    if name in _PATHS and isinstance(new, str) and isinstance(old, str) and new != old:
        keywords = {"imdb", "sample"}
        if new in keywords or old in keywords:
            return False
        return Path(new).expanduser().resolve() == Path(old).expanduser().resolve()
    return bool(new == old)


def contradictions(given: frozenset[str], now: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """Each flag given on the command line whose value differs from the run's.

    ``given`` holds qualified names (``model.units``, ``train.epochs``, ``data.limit``,
    ``embedding``); ``now`` and ``saved`` map "model", "train" and "data" to the spec,
    config and data request built from the command line and read from the run."""
    found = []
    for name in sorted(given - HOW):
        if name == "embedding":
            found.append("--embedding-from/--freeze-embedding (they apply when a run starts)")
            continue
        section, _, field = name.partition(".")
        new, old = getattr(now[section], field), getattr(saved[section], field)
        if not _same(name, new, old):
            flag = "the dataset" if field == "name_or_path" else "--" + field.replace("_", "-")
            shown = list(new) if isinstance(new, tuple) else new
            was = list(old) if isinstance(old, tuple) else old
            found.append(f"{flag} {shown} (the run has {was})")
    return found


def resumed_config(given: frozenset[str], cfg: TrainConfig, saved: TrainConfig) -> TrainConfig:
    """The run's own config, with the how-flags that were given."""
    changes = {n.partition(".")[2]: getattr(cfg, n.partition(".")[2]) for n in given & HOW}
    return dataclasses.replace(saved, **changes)


def check_same_data(
    run_dir: Path, info: dict[str, Any], req: DataRequest, vec: Vectorized,
    vocabulary: list[str], labels: list[str],
) -> None:  # fmt: skip
    """Refuse to resume on data other than the run's own (it would train on new token ids)."""
    frozen = info.get("data_identity")
    hint = "start a new run with another --output"
    if isinstance(frozen, dict) and frozen.get("content") != vec.fingerprint:
        what = describe_change(frozen, source_identity(req))
        raise DataError(f"--resume: the data changed since {run_dir} started ({what}); {hint}")
    if vec.vocabulary != vocabulary or vec.label_names != labels:
        what = "vocabulary" if vec.vocabulary != vocabulary else "labels"
        raise DataError(
            f"--resume: the data now gives another {what} than {run_dir} was started with; {hint}"
        )
