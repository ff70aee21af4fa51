"""``lstmcli train`` end to end: data → model → fit → best model → test metrics → run files."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstmcli import __version__
from lstmcli.core import atomic
from lstmcli.core.errors import DataError, UsageError
from lstmcli.data.prepare import vectorize
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import SPEC_FILE, RunFiles, read_info, write_run_files
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.config import TrainConfig, TrainEvents
from lstmcli.train.trainer import train


@dataclass
class TrainOutcome:
    run_dir: Path
    spec: ModelSpec
    state: ckpt.TrainState
    metrics: dict[str, Any]
    split: str  # which split the metrics are on ("test" or "validation")
    notes: list[str] = field(default_factory=list)


def default_run_dir(dataset: str, spec: ModelSpec, root: Path = Path("runs")) -> Path:
    """``runs/<dataset>-<cell>``, numbered so an existing run is never reused silently."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(dataset).stem)[:40].strip("-") or "data"
    base = f"{stem}-{'bi' if spec.bidirectional else ''}{spec.cell}"
    candidate, n = root / base, 2
    while candidate.exists():
        candidate, n = root / f"{base}-{n}", n + 1
    return candidate


def fit_classes(spec: ModelSpec, n_labels: int, classes_given: bool) -> tuple[ModelSpec, list[str]]:
    if n_labels < 2:
        raise DataError("the training data has only one class; at least two are needed")
    if spec.classes == 1 and n_labels == 2:
        return spec, []
    if spec.classes == n_labels:
        return spec, []
    if not classes_given:
        return spec.replace(classes=n_labels), [
            f"{n_labels} classes found: using --classes {n_labels}"
        ]
    raise UsageError(f"--classes {spec.classes} but the data has {n_labels} classes")


def load_saved(run_dir: Path) -> tuple[ModelSpec, TrainConfig, DataRequest, dict[str, Any]]:
    """What a run was started with, read through the same guards as ``open_run``."""
    info, spec, _ = read_info(run_dir)
    saved = info.get("train")
    if not isinstance(saved, dict):
        raise DataError(f"{run_dir / SPEC_FILE}: the train entry must be an object")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(saved) - known)
    if unknown:
        raise DataError(f"{run_dir / SPEC_FILE}: unknown train key {unknown[0]!r}")
    req = DataRequest.from_saved(info.get("data"), str(run_dir))
    return spec, TrainConfig(**saved), req, info


def run_training(
    req: DataRequest,
    spec: ModelSpec,
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    classes_given: bool = False,
    embedding_from: Path | None = None,
    events: TrainEvents | None = None,
    stage: Callable[[str], None] = lambda _m: None,
    progress: Callable[[int, int | None], None] | None = None,
    use_cache: bool = True,
    callbacks: Sequence[Any] = (),
    cluster: Any = None,
) -> TrainOutcome:
    """``cluster`` (``distribute.Cluster``): the devices or workers to train on; a worker
    other than the chief gets a private ``run_dir`` and takes the chief's settings."""
    state = None
    extra_info: dict[str, Any] = {}
    if resume:
        state = ckpt.load_state(RunFiles(run_dir).checkpoints)
        if state is None:
            raise DataError(f"--resume: {run_dir} has no checkpoint to resume from")
        spec, cfg_saved, req, info = load_saved(run_dir)
        cfg = dataclasses.replace(cfg_saved, epochs=max(cfg.epochs, cfg_saved.epochs))
        extra_info = {k: v for k, v in info.items() if k == "embedding"}
        stage(f"resuming {run_dir} at epoch {state.epoch + 1}, batch {state.batch}")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise UsageError(
            f"--output: {run_dir} already holds a run; pass --resume to continue it or choose "
            "another --output"
        )
    if cluster is not None:
        spec, cfg, req = cluster.agree_setup(spec, cfg, req)
    vec = vectorize(
        req, spec.vocab, spec.seq_len, use_cache=use_cache, progress=progress, stage=stage,
        truncate=spec.truncate, head_tokens=spec.head_tail[0],
    )  # fmt: skip
    notes = list(vec.notes)
    if not resume:
        spec, more = fit_classes(spec, len(vec.label_names), classes_given)
        notes += more
    init = None
    if embedding_from is not None and not resume:
        from lstmcli.embed.vectors import embedding_matrix

        emb = embedding_matrix(
            embedding_from, vec.vocabulary, spec.embed_dim, seed=cfg.seed, rows=spec.vocab
        )
        init = emb.matrix
        notes += list(emb.notes)
        extra_info["embedding"] = {"from": str(embedding_from), "found": emb.found, "total": emb.total,
                                   "frozen": not spec.trainable_embedding}  # fmt: skip
    created = not run_dir.exists()
    try:
        return _train_and_report(
            run_dir,
            vec,
            spec,
            cfg,
            req,
            state,
            init,
            extra_info,
            notes,
            events,
            stage,
            callbacks,
            cluster,
        )
    except Exception:
        # A run that failed before its first checkpoint leaves nothing behind, so the same
        # command can simply be run again.
        if created and not (RunFiles(run_dir).checkpoints / ckpt.STATE_FILE).exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _train_and_report(
    run_dir: Path, vec: Any, spec: ModelSpec, cfg: TrainConfig, req: DataRequest,
    state: Any, init: Any, extra_info: dict[str, Any], notes: list[str],
    events: TrainEvents | None, stage: Callable[[str], None], callbacks: Sequence[Any] = (),
    cluster: Any = None,
) -> TrainOutcome:  # fmt: skip
    write_run_files(
        run_dir, spec, vec.vocabulary, vec.label_names,
        extra={"data": req.to_dict(), "train": dataclasses.asdict(cfg),
               "lstmcli_version": __version__, **extra_info},
    )  # fmt: skip
    result = train(vec, spec, cfg, run_dir, events, embedding_init=init, resume=state,
                   callbacks=callbacks, cluster=cluster)  # fmt: skip
    stage("evaluating the best model")
    metrics, split = final_metrics(run_dir, vec, spec, cfg)
    st = result.state
    metrics_doc = {
        "split": split, **metrics,
        "train_seconds": round(st.train_seconds, 3),
        "train_samples_per_s": round(st.samples_trained / st.train_seconds, 1) if st.train_seconds else None,
        "best_epoch": st.best_epoch, "epochs_run": len(st.history),
    }  # fmt: skip
    atomic.write_json(RunFiles(run_dir).metrics, metrics_doc)
    return TrainOutcome(run_dir, spec, st, metrics_doc, split, notes)


def final_metrics(
    run_dir: Path, vec: Any, spec: ModelSpec, cfg: TrainConfig
) -> tuple[dict[str, Any], str]:
    from lstmcli.backend.modelfile import load_model
    from lstmcli.core import metrics
    from lstmcli.train.predictor import Speed, predict_encoded

    model = load_model(RunFiles(run_dir).model)
    split, name = (vec.test, "test") if vec.test is not None else (vec.val, "validation")
    speed = Speed(True, False, cfg.eval_batch_size)
    probs, seconds = predict_encoded(model, split.enc, spec.seq_len, speed)
    m = metrics.compute(probs, split.labels, vec.label_names).to_dict()
    m["eval_seconds"] = round(seconds, 3)
    m["eval_samples_per_s"] = round(len(split) / seconds, 1) if seconds > 0 else None
    return m, name
