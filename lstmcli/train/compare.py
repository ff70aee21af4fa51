"""``lstmcli compare``: train every arm on the same data, split, seeds and epochs, each as an
ordinary run folder inside one comparison folder, and judge the lecture's claims.

Running the same comparison again skips the arms that finished (their ``metrics.json`` is
written last) and resumes an interrupted one from its last checkpoint, through the same
``--resume`` machinery as ``train``. A folder that holds a different comparison is refused.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmcli.core.errors import DataError, LstmcliError, UsageError
from lstmcli.data.request import DataRequest
from lstmcli.model.arith import summarize
from lstmcli.rundir.compare import CompareFiles
from lstmcli.rundir.folder import RunFiles
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.arms import ArmPlan
from lstmcli.train.compare_results import (
    ArmRow,
    Comparison,
    SeedResult,
    read_seed_result,
    write_files,
)
from lstmcli.train.config import LR_SCHEDULE_BEFORE, Interrupted, TrainConfig, TrainEvents

# Training settings that change what a comparison measures (the rest only change its speed).
IDENTITY_KEYS = ("epochs", "batch_size", "optimizer", "lr", "lr_schedule", "patience", "bucketing")


@dataclass
class CompareRequest:
    data: DataRequest  # its seed and limit are set per arm and seed
    arms: list[ArmPlan]
    seeds: list[int]
    cfg: TrainConfig  # its seed is set per run
    output: Path
    use_cache: bool = True

    def plan(self) -> dict[str, Any]:
        """What makes two comparisons the same one (stored in ``compare.json``)."""
        data = {k: v for k, v in self.data.to_dict().items() if k not in ("seed", "limit")}
        plan = {"data": data, "arms": [a.identity() for a in self.arms], "seeds": self.seeds,
                "train": {k: getattr(self.cfg, k) for k in IDENTITY_KEYS}}  # fmt: skip
        return json.loads(json.dumps(plan))  # as it reads back from compare.json


@dataclass(frozen=True)
class PendingRun:
    """An arm run still to train, for the estimate of the time left (texts × cost per text)."""

    epochs_left: int
    macs: int  # multiply-adds per text, one forward pass (lstmcli.model.arith)
    limit: int | None  # texts per epoch, when the arm caps them


class CompareEvents(TrainEvents):
    """Progress hooks of a comparison (the CLI draws them); per-epoch hooks as in ``train``."""

    def plan(self, runs: list[PendingRun]) -> None: ...  # the arm runs still to train, in order
    def arm_begin(self, k: int, total: int, name: str, seed: int, action: str) -> None: ...
    def arm_end(self, k: int, total: int, name: str, result: SeedResult) -> None: ...
    def stage(self, message: str) -> None: ...
    def pretrain_progress(self, done: int, total: int, logs: dict[str, Any]) -> None: ...
    def pretrain_end(self) -> None: ...


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The first thing that differs between two plans, for the refusal message."""
    for key in ("data", "seeds", "train", "arms"):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            sub = next((k for k in b if a.get(k) != b.get(k)), None)
            if sub is not None:
                return f"{sub.replace('_', ' ')} {a.get(sub)} there, {b[sub]} now"
        if key == "arms" and isinstance(a, list):
            names = [str(arm.get("name")) for arm in a if isinstance(arm, dict)]
            return f"its arms are {', '.join(names)}"
        return f"{key} {a} there, {b} now"
    return "made by another version of lstmcli"


def check_folder(files: CompareFiles, plan: dict[str, Any]) -> None:
    """Refuse a file, a folder that is not a comparison, or one of a different comparison."""
    root = files.root
    if root.exists() and not root.is_dir():
        raise UsageError(f"--output: {root} is a file; give a folder for the comparison")
    if not root.is_dir() or not any(root.iterdir()):
        return
    if not files.json.is_file():
        raise UsageError(f"--output: {root} is not empty and holds no comparison "
                         "(no compare.json); choose a new folder")  # fmt: skip
    try:
        old = json.loads(files.json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{files.json} is corrupt ({type(exc).__name__}); "
                        "choose a new --output") from None  # fmt: skip
    saved = old.get("plan") if isinstance(old, dict) else None
    if isinstance(saved, dict) and isinstance(saved.get("train"), dict):
        saved["train"].setdefault("lr_schedule", LR_SCHEDULE_BEFORE)
    if not isinstance(old, dict) or old.get("plan") != plan:
        diff = _difference(old.get("plan") or {}, plan) if isinstance(old, dict) else "unreadable"
        raise UsageError(f"--output: {root} holds a different comparison ({diff}); choose "
                         "another --output, or repeat that comparison's own flags to resume it")  # fmt: skip


class _FirstArmFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def run_compare(req: CompareRequest, events: CompareEvents | None = None) -> Comparison:
    """Train what is missing, resume what was interrupted; return the whole comparison.

    An arm that fails is recorded and the others go on; but when the first arm to train
    fails before any has finished (bad data, most likely), its error is raised as is.
    """
    events = events or CompareEvents()
    files, plan = CompareFiles(req.output), req.plan()
    check_folder(files, plan)
    created = not files.root.exists()
    files.root.mkdir(parents=True, exist_ok=True)
    comparison = Comparison(req.output, req.data.name_or_path, [ArmRow(a, []) for a in req.arms],
                            plan)  # fmt: skip
    # The plan first: a kill at any later moment leaves a folder the same command resumes.
    write_files(files, comparison)
    try:
        _run_jobs(req, files, comparison, events)
    except _FirstArmFailed as failed:
        if created and not any(p.is_dir() for p in files.root.iterdir()):
            shutil.rmtree(files.root, ignore_errors=True)
        raise failed.error from None
    finally:
        if files.root.is_dir():
            comparison.judge()
            write_files(files, comparison)
    return comparison


def _run_jobs(
    req: CompareRequest, files: CompareFiles, comparison: Comparison, events: CompareEvents
) -> None:
    jobs = [(row, seed) for row in comparison.rows for seed in req.seeds]
    finished = {}
    for row, seed in jobs:
        if RunFiles(files.run(row.plan.slug, seed)).metrics.is_file():
            finished[(row.plan.slug, seed)] = read_seed_result(files.run(row.plan.slug, seed), seed)
    events.plan([PendingRun(_epochs_left(files.run(r.plan.slug, s), req.cfg.epochs),
                            summarize(r.plan.spec).totals.macs_per_sample, r.plan.limit)
                 for r, s in jobs if (r.plan.slug, s) not in finished])  # fmt: skip
    for k, (row, seed) in enumerate(jobs, 1):
        result = finished.get((row.plan.slug, seed))
        if result is not None:
            events.arm_begin(k, len(jobs), row.plan.name, seed, "done before: skipped")
        else:
            try:
                result = _run_arm(req, files, row.plan, seed, events, (k, len(jobs)))
            except Interrupted:
                raise
            except Exception as exc:  # a failing arm must not lose the others: record, go on
                if not any(r.ok for other in comparison.rows for r in other.results):
                    raise _FirstArmFailed(exc) from None
                result = _failed(seed, files.run(row.plan.slug, seed), exc)
        row.results.append(result)
        events.arm_end(k, len(jobs), row.plan.name, result)
        comparison.judge()
        write_files(files, comparison)


def _failed(seed: int, run_dir: Path, exc: Exception) -> SeedResult:
    if isinstance(exc, LstmcliError):
        return SeedResult(seed, str(run_dir), ok=False, error=str(exc))
    detail = (str(exc).strip().splitlines() or [""])[0][:300]
    return SeedResult(seed, str(run_dir), ok=False, error=f"{type(exc).__name__}: {detail}")


def _epochs_left(run_dir: Path, epochs: int) -> int:
    state = _state(run_dir)
    return max(epochs - state.epoch, 0) if state is not None else epochs


def _state(run_dir: Path) -> ckpt.TrainState | None:
    try:
        return ckpt.load_state(RunFiles(run_dir).checkpoints)
    except LstmcliError:
        return None


def _run_arm(
    req: CompareRequest, files: CompareFiles, arm: ArmPlan, seed: int, events: CompareEvents,
    where: tuple[int, int],
) -> SeedResult:  # fmt: skip
    """Train (or resume) one arm with one seed."""
    from lstmcli.backend.tf import tensorflow
    from lstmcli.train.runner import run_training  # imports Keras: only when an arm trains

    # Each model traces its own inference function; TensorFlow warns about "retracing" when
    # one process builds many models, which is exactly what a comparison does.
    tensorflow().get_logger().setLevel("ERROR")

    run_dir = files.run(arm.slug, seed)
    state = _state(run_dir)
    if state is None and run_dir.exists():
        shutil.rmtree(run_dir)  # started but killed before its first checkpoint: start again
    action = (
        "training" if state is None else f"resuming at epoch {state.epoch + 1}, batch {state.batch}"
    )
    events.arm_begin(*where, arm.name, seed, action)
    vectors = None
    if arm.pretrained and state is None:
        vectors = ensure_vectors(req, files, arm, seed, events)
    run_training(
        req.data.replace(seed=seed, limit=arm.limit), arm.spec,
        dataclasses.replace(req.cfg, seed=seed), run_dir, resume=state is not None,
        embedding_from=vectors, events=events, stage=events.stage, use_cache=req.use_cache,
    )  # fmt: skip
    return read_seed_result(run_dir, seed)


def ensure_vectors(
    req: CompareRequest, files: CompareFiles, arm: ArmPlan, seed: int, events: CompareEvents
) -> Path:
    """Word vectors for a pretrained arm, learnt once per seed and width: imdb's unlabelled
    and training reviews, or the training split of any other data (never its val/test)."""
    from lstmcli.embed.corpus import corpus_for
    from lstmcli.embed.pretrain import PretrainSettings, pretrain

    path = files.vectors(seed, arm.spec.embed_dim, arm.spec.vocab)
    if path.is_file():
        return path
    texts = corpus_for(req.data.replace(seed=seed))
    events.stage(f"pretraining {arm.spec.embed_dim}-wide word vectors on {len(texts):,} texts")
    settings = PretrainSettings(dim=arm.spec.embed_dim, vocab=arm.spec.vocab, seed=seed)
    try:
        result = pretrain(texts, settings, events.pretrain_progress)
    finally:
        events.pretrain_end()
    result.save(path)
    return path
