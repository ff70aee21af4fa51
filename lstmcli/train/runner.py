"""``lstmcli train`` end to end: data → model → fit → best model → test metrics → run files.

TensorFlow is loaded only once the run folder is locked: a second ``train`` on a folder in
use is refused at once, not after the seconds TensorFlow takes to start.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstmcli import __version__
from lstmcli.core import atomic
from lstmcli.core.atomic import clean_stale
from lstmcli.core.errors import DataError, UsageError
from lstmcli.data.prepare import source_identity, vectorize
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir import lock
from lstmcli.rundir.folder import RunFiles, read_info, read_vocabulary, write_run_files
from lstmcli.train import checkpoint as ckpt
from lstmcli.train import resume
from lstmcli.train.config import TrainConfig, TrainEvents


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


def run_training(
    req: DataRequest,
    spec: ModelSpec,
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    given: frozenset[str] = frozenset(),
    classes_given: bool = False,
    embedding_from: Path | None = None,
    events: TrainEvents | None = None,
    stage: Callable[[str], None] = lambda _m: None,
    progress: Callable[[int, int | None], None] | None = None,
    use_cache: bool = True,
    callbacks: Sequence[Any] = (),
    finish: Callable[[TrainOutcome], None] | None = None,
    cluster: Any = None,
) -> TrainOutcome:
    """Start a run in ``run_dir`` or (``resume``) continue it; the folder is locked
    throughout, ``finish`` included. ``given``: the flags given on the command line (see
    ``resume.contradictions``); ``callbacks``: more Keras callbacks for ``fit``; ``cluster``
    (``distribute.Cluster``): the devices or workers to train on (a worker other than the
    chief gets a private ``run_dir``, starts there and takes the chief's settings)."""
    try:
        run_dir.mkdir(parents=True)
        created = True
    except FileExistsError:
        created = False
    with lock.hold(run_dir):
        if not resume and RunFiles(run_dir).run_files():
            raise UsageError(
                f"--output: {run_dir} already holds a run; pass --resume to continue it or "
                "choose another --output"
            )
        try:
            if resume:
                outcome = _resume(req, spec, cfg, run_dir, given, events, stage, progress,
                                  use_cache, callbacks, cluster)  # fmt: skip
            else:
                outcome = _start(req, spec, cfg, run_dir, classes_given, embedding_from, events,
                                 stage, progress, use_cache, callbacks, cluster)  # fmt: skip
            if finish is not None:
                finish(outcome)
            return outcome
        except BaseException:
            # A run that failed before its first checkpoint leaves nothing behind, so the
            # same command can simply be run again.
            if created and not any(RunFiles(run_dir).checkpoints.glob("ckpt-*.npz")):
                shutil.rmtree(run_dir, ignore_errors=True)
            raise


def _start(
    req: DataRequest, spec: ModelSpec, cfg: TrainConfig, run_dir: Path, classes_given: bool,
    embedding_from: Path | None, events: TrainEvents | None, stage: Callable[[str], None],
    progress: Any, use_cache: bool, callbacks: Sequence[Any], cluster: Any,
) -> TrainOutcome:  # fmt: skip
    if cluster is not None:  # multi-worker: every worker takes the chief's model, data, settings
        spec, cfg, req = cluster.agree_setup(spec, cfg, req)
    vec = vectorize(
        req, spec.vocab, spec.seq_len, use_cache=use_cache, progress=progress, stage=stage,
        truncate=spec.truncate, head_tokens=spec.head_tail[0],
    )  # fmt: skip
    spec, more = fit_classes(spec, len(vec.label_names), classes_given)
    notes = list(vec.notes) + more
    init, extra_info = None, {}
    if embedding_from is not None:
        from lstmcli.embed.vectors import embedding_matrix

        emb = embedding_matrix(
            embedding_from, vec.vocabulary, spec.embed_dim, seed=cfg.seed, rows=spec.vocab
        )
        init = emb.matrix
        notes += list(emb.notes)
        extra_info["embedding"] = {"from": str(embedding_from), "found": emb.found, "total": emb.total,
                                   "frozen": not spec.trainable_embedding}  # fmt: skip
    from lstmcli.train.trainer import train

    run_id = uuid.uuid4().hex[:16]
    write_run_files(
        run_dir, spec, vec.vocabulary, vec.label_names,
        extra={"run_id": run_id, "data": req.to_dict(), "train": dataclasses.asdict(cfg),
               "data_identity": {"content": vec.fingerprint, **source_identity(req)},
               "lstmcli_version": __version__, **extra_info},
    )  # fmt: skip
    result = train(vec, spec, cfg, run_dir, events, embedding_init=init, callbacks=callbacks,
                   run_id=run_id, cluster=cluster)  # fmt: skip
    # (a worker other than the chief trained the chief's run: its models carry that id)
    return _report(run_dir, vec, spec, cfg, result.state, notes, stage, result.state.run_id)


def _resume(
    req: DataRequest, spec: ModelSpec, cfg: TrainConfig, run_dir: Path, given: frozenset[str],
    events: TrainEvents | None, stage: Callable[[str], None], progress: Any, use_cache: bool,
    callbacks: Sequence[Any], cluster: Any,
) -> TrainOutcome:  # fmt: skip
    files = RunFiles(run_dir)
    if not files.spec.is_file():
        raise DataError(f"--resume: {run_dir} holds no run to resume (no spec.json)")
    files.run_files()  # (deletes temporary files of dead writers)
    clean_stale(files.checkpoints)
    saved_spec, saved_cfg, saved_req, info = resume.load_saved(run_dir)
    now = {"model": spec, "train": cfg, "data": req}
    found = resume.contradictions(given, now, {"model": saved_spec, "train": saved_cfg,
                                               "data": saved_req})  # fmt: skip
    if found:
        raise UsageError(
            f"--resume continues {run_dir} as it was started, but {found[0]}; drop the flag, "
            "or start a new run with another --output"
        )
    ck = ckpt.load(files.checkpoints)
    if ck is None:
        raise DataError(f"--resume: {run_dir} has no checkpoint to resume from")
    run_id = info.get("run_id")
    if run_id is not None and ck.state.run_id != run_id:
        raise DataError(
            f"--resume: checkpoint {ck.path} belongs to another run than {files.spec}; "
            "start a new run with another --output"
        )
    spec, req = saved_spec, saved_req
    cfg = resume.resumed_config(given, cfg, saved_cfg)
    if cluster is not None:  # the saved settings, for the other workers (which start afresh)
        spec, cfg, req = cluster.agree_setup(spec, cfg, req)
    vocabulary, labels = read_vocabulary(run_dir), read_info(run_dir)[2]
    st = ck.state
    stage(f"resuming {run_dir} at epoch {st.epoch + 1}, batch {st.batch}")
    vec = vectorize(
        req, spec.vocab, spec.seq_len, use_cache=use_cache, progress=progress, stage=stage,
        truncate=spec.truncate, head_tokens=spec.head_tail[0],
    )  # fmt: skip
    resume.check_same_data(run_dir, info, req, vec, vocabulary, labels)
    notes = list(vec.notes)
    if st.done:
        notes.append(f"{run_dir} had already finished; nothing was left to train")
    from lstmcli.train.trainer import train

    result = train(vec, spec, cfg, run_dir, events, resume=ck, callbacks=callbacks,
                   cluster=cluster)  # fmt: skip
    return _report(run_dir, vec, spec, cfg, result.state, notes, stage, run_id)


def _report(
    run_dir: Path, vec: Any, spec: ModelSpec, cfg: TrainConfig, st: ckpt.TrainState,
    notes: list[str], stage: Callable[[str], None], run_id: str | None,
) -> TrainOutcome:  # fmt: skip
    stage("evaluating the best model")
    metrics, split = final_metrics(run_dir, vec, spec, cfg, run_id)
    metrics_doc = {
        "split": split, **metrics,
        "train_seconds": round(st.train_seconds, 3),
        "train_samples_per_s": round(st.samples_trained / st.train_seconds, 1) if st.train_seconds else None,
        "best_epoch": st.best_epoch, "epochs_run": len(st.history),
    }  # fmt: skip
    atomic.write_json(RunFiles(run_dir).metrics, metrics_doc)
    return TrainOutcome(run_dir, spec, st, metrics_doc, split, notes)


def final_metrics(
    run_dir: Path, vec: Any, spec: ModelSpec, cfg: TrainConfig, run_id: str | None = None
) -> tuple[dict[str, Any], str]:
    from lstmcli.backend.modelfile import load_model
    from lstmcli.core import metrics
    from lstmcli.rundir.check import check_model
    from lstmcli.train.predictor import Speed, inference_graph, predict_encoded

    path = RunFiles(run_dir).model
    model = load_model(path)
    check_model(model, spec, vec.vocabulary, path, run_id)
    split, name = (vec.test, "test") if vec.test is not None else (vec.val, "validation")
    speed = Speed(True, False, cfg.eval_batch_size)
    probs, seconds = predict_encoded(inference_graph(model, spec), split.enc, spec.seq_len, speed)
    m = metrics.compute(probs, split.labels, vec.label_names).to_dict()
    m["eval_seconds"] = round(seconds, 3)
    m["eval_samples_per_s"] = round(len(split) / seconds, 1) if seconds > 0 else None
    return m, name
