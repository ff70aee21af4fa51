"""``train``, ``evaluate`` and ``predict`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli.cli.app import JsonFlag, clean_text, command, fail, printable
from lstmcli.cli.devices import (
    CpuDevicesOption,
    DeviceOption,
    PeerTimeoutOption,
    StrategyOption,
    one_device,
    start_cluster,
)
from lstmcli.cli.options import (
    BucketingFlag,
    DataOption,
    EvalBatchSize,
    FusedFlag,
    QuietFlag,
    SpeedPanel,
    SplitStepFlag,
    XlaFlag,
    model_options,
)
from lstmcli.cli.recipe_flags import (
    given_flags,
    recipe_train,
    recipe_val_by,
    recipe_vectors,
    train_spec,
)
from lstmcli.core.errors import EXIT_USAGE
from lstmcli.render.console import print_json, stderr_console, stdout
from lstmcli.train.recipes import available, load_recipe

T = "Training"


def _t(*names: str, help: str | None = None, **kw: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=T, **kw)


@command("train")
@model_options
def train_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="imdb, sample, or a folder / CSV / TSV / JSONL file.")],
    data: DataOption = None,
    recipe: Annotated[str | None, _t("--recipe", help=f"Model and training settings from a recipe: {' | '.join(available())} (lstmcli/recipes/NAME.toml), or a PATH.toml. Flags given beside it override it.")] = None,
    epochs: Annotated[int, _t("--epochs", min=1, max=100_000)] = 3,
    batch_size: Annotated[int, _t("--batch-size", min=1, max=65_536, help="Texts per step on each replica; the global batch is this × replicas (printed).")] = 32,
    optimizer: Annotated[str, _t("--optimizer", help="rmsprop | adam")] = "rmsprop",
    lr: Annotated[float | None, _t("--lr", min=0.0, help="Learning rate (where the cosine starts). Default: 2e-3, or 1e-3 if constant.")] = None,
    seed: Annotated[int, _t("--seed", min=0, max=2**32 - 1)] = 0,
    patience: Annotated[int | None, _t("--patience", min=1, help="Stop after N epochs without a better val accuracy.")] = None,
    lr_schedule: Annotated[str, _t("--lr-schedule", help="cosine (from --lr down to 0 over all epochs) | constant")] = "cosine",
    clipnorm: Annotated[float | None, _t("--clipnorm", help="Clip each gradient to this L2 norm.")] = None,
    limit: Annotated[int | None, _t("--limit", min=2, help="Train on N texts (seeded, balanced).")] = None,
    eval_limit: Annotated[int | None, _t("--eval-limit", min=2, help="Cap validation and test at N texts.")] = None,
    val_split: Annotated[float, _t("--val-split", help="Validation fraction of the training texts.")] = 0.2,
    val_by: Annotated[str, _t("--val-by", help="How validation is drawn from the training texts: text (one by one, at random) | film (imdb: whole films, so none is also in training; see README).")] = "text",
    test: Annotated[Path | None, _t("--test", help="Test file/folder for user data.")] = None,
    text_col: Annotated[str | None, _t("--text-col")] = None,
    label_col: Annotated[str | None, _t("--label-col")] = None,
    output: Annotated[Path | None, _t("--output", "-o", help="Run folder (default runs/<data>-<cell>).")] = None,
    resume: Annotated[bool, _t("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    checkpoint_every: Annotated[int, _t("--checkpoint-every", min=0, help="Checkpoint every N batches (0: epoch ends only).")] = 100,
    embedding_from: Annotated[Path | None, _t("--embedding-from", help="Word vectors (.vec/.txt) or a run folder.")] = None,
    freeze_embedding: Annotated[bool | None, _t("--freeze-embedding/--fine-tune-embedding", help="With --embedding-from: keep it fixed (default) or train it.")] = None,
    batching: Annotated[str, typer.Option("--batching", rich_help_panel=SpeedPanel,
        help="How training batches are drawn: sortish (shuffled chunks sorted by length: each batch "
        "padded to about its own length) | random (all padded to one length) | bucket "
        "(grouped by length). See the README's Speed section.")] = "sortish",
    bucketing: Annotated[bool, typer.Option("--bucketing/--no-bucketing", hidden=True,
        help="Same as --batching bucket (kept for older scripts).")] = False,
    xla: XlaFlag = True,
    fused: FusedFlag = True,
    split_step: SplitStepFlag = True,
    eval_batch_size: EvalBatchSize = 256,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse vectorised data from earlier runs.", rich_help_panel=SpeedPanel)] = True,
    tensorboard: Annotated[Path | None, _t("--tensorboard", help="Also write TensorBoard logs (loss, accuracy, val_*) to DIR; needs the tensorboard package.")] = None,
    device: DeviceOption = "auto",
    strategy: StrategyOption = "auto",
    cpu_devices: CpuDevicesOption = None,
    peer_timeout: PeerTimeoutOption = 300.0,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:  # fmt: skip
    """Texts are padded at the front and, by default, padding steps are masked
    (--no-mask-zero turns that off). Example: lstmcli train imdb --epochs 3
    """
    from lstmcli.core.signals import exit_code
    from lstmcli.data.request import DataRequest
    from lstmcli.render.train import DownloadProgress, RichTrainEvents, render_outcome, train_json
    from lstmcli.train.config import Interrupted, TrainConfig
    from lstmcli.train.distribute import global_batch, worker_run
    from lstmcli.train.runner import default_run_dir, run_training
    from lstmcli.train.tboard import tensorboard_callbacks

    if resume and output is None:
        raise fail("--resume needs --output RUN (the run folder to continue)", EXIT_USAGE)
    chosen = load_recipe(recipe) if recipe is not None else None
    spec, pretrain = train_spec(spec_flags, chosen, embedding_from, freeze_embedding)
    req = DataRequest(
        name_or_path=dataset, data=str(data) if data else None, seed=seed, limit=limit,
        eval_limit=eval_limit, test=str(test) if test else None,
        val_split=recipe_train(ctx, chosen, "data").get("val_split", val_split),
        text_col=text_col, label_col=label_col, val_by=recipe_val_by(ctx, chosen, dataset, val_by),
    )  # fmt: skip
    cluster = start_cluster(device, strategy, cpu_devices, peer_timeout, output)
    settings = dict(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, seed=seed,
        patience=patience, checkpoint_every=checkpoint_every, bucketing=bucketing,
        batching=batching, xla=xla, eval_batch_size=eval_batch_size, lr_schedule=lr_schedule,
        clipnorm=clipnorm, fused=fused, split_step=split_step,
    )  # fmt: skip
    cfg = cluster.global_batch(TrainConfig(**{**settings, **recipe_train(ctx, chosen)}))
    callbacks = tensorboard_callbacks(tensorboard) if cluster.is_chief else []
    out = stdout()
    status = stderr_console() if as_json else out  # stdout stays clean for --json
    if chosen is not None:
        status.print(f"recipe {chosen.name} ({chosen.source})", style="dim", markup=False)
    run_dir = output or default_run_dir(dataset, spec)
    stage = _stage_printer(status, quiet)
    stage(cluster.describe(global_batch(cfg, run_dir, resume and cluster.is_chief)))
    if pretrain is not None and not resume:
        embedding_from = recipe_vectors(pretrain, req, spec, stage, quiet)
    try:
        with (
            DownloadProgress(stderr_console(), quiet) as download,
            worker_run(cluster, run_dir) as work_dir,
        ):
            outcome = run_training(
                req, spec, cfg, work_dir, resume=resume and cluster.is_chief,
                given=given_flags(ctx, spec_flags, chosen),
                classes_given=spec_flags.get("classes") is not None, embedding_from=embedding_from,
                events=RichTrainEvents(status, cfg.batch_size, quiet), stage=stage, progress=download,
                use_cache=cache, callbacks=callbacks, cluster=cluster,
                # drawn while the run folder is still locked: the picture is the run's too
                finish=_curve if cluster.is_chief else None,
            )  # fmt: skip
    except Interrupted as stop:
        cmd = f"lstmcli train {dataset} --output {run_dir} --resume"
        raise fail(f"{stop}. Resume with: {cmd}", exit_code(stop.signum)) from None
    outcome = cluster.as_seen_by_user(outcome, run_dir)
    if as_json:
        print_json(out, train_json(outcome))
    else:
        render_outcome(out, outcome)


def _curve(done: Any) -> None:
    from lstmcli.render.plots import learning_curve
    from lstmcli.rundir.folder import RunFiles

    learning_curve(done.state.history, RunFiles(done.run_dir).curve)


def _stage_printer(console: Any, quiet: bool) -> Any:
    """``stage(message)``: one dim line per stage of a long command, nothing when quiet."""
    if quiet:
        return lambda _msg: None
    return lambda msg: console.print(printable(msg), style="dim", markup=False)


@command("evaluate")
def evaluate_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    dataset: Annotated[str | None, typer.Argument(help="Dataset to evaluate on (default: the run's own test split).")] = None,
    data: DataOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=2, help="Evaluate on N texts (balanced).")] = None,
    # One pass over 25,000 reviews: compiling a program per bucket shape costs more than XLA
    # saves (measured 4,364 vs 5,313 reviews/s), so it is off unless asked for.
    xla: XlaFlag = False,
    bucketing: BucketingFlag = True,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=65_536, rich_help_panel=SpeedPanel)] = 256,
    plots: Annotated[bool, typer.Option("--plots", help="Also write confusion_matrix.png and roc_curve.png into the run folder.")] = False,
    device: DeviceOption = "auto",
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
) -> None:  # fmt: skip
    """Example: lstmcli evaluate runs/imdb-lstm --plots"""
    from lstmcli.render.train import DownloadProgress, render_metrics
    from lstmcli.rundir.folder import RunFiles, open_run
    from lstmcli.train.evaluation import evaluate_run
    from lstmcli.train.predictor import Speed, eval_threads

    eval_threads()
    one_device(device)
    speed = Speed(bucketing, xla, batch_size)
    opened = open_run(run)
    with DownloadProgress(stderr_console(), quiet) as download:
        result = evaluate_run(opened, dataset, speed, str(data) if data else None, limit, download)
    title = f"{result.dataset} {result.split} split"
    written: list[Path] = []
    if plots:
        from lstmcli.core.metrics import roc_curves
        from lstmcli.render.plots import write_eval_plots

        assert result.probs is not None and result.labels is not None
        curves = roc_curves(result.probs, result.labels, opened.label_names)
        targets = RunFiles(opened.path).eval_plots(dataset)
        written = write_eval_plots(result.metrics, curves, title, targets)
    out = stdout()
    if as_json:
        doc = {"split": result.split, "dataset": result.dataset, **result.metrics}
        print_json(out, doc | ({"plots": [str(p) for p in written]} if plots else {}))
    else:
        render_metrics(out, result.metrics, title)
        for path in written:
            out.print(f"Wrote {printable(str(path))}", markup=False)


@command("predict")
def predict_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify (stdin when none).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="One text per line ('-': stdin).")] = None,
    device: DeviceOption = "auto",
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Example: lstmcli predict runs/imdb-lstm "A moving, beautifully acted film." """
    from lstmcli.cli.inputs import read_lines
    from lstmcli.rundir.folder import open_run

    # The run and the texts first: a wrong path, or the terminal hint, comes before the
    # seconds it takes to load TensorFlow.
    opened = open_run(run)
    items = [clean_text(t) for t in texts or []]
    items += read_lines(file, stdin=not texts and file is None)
    from lstmcli.render.train import render_predictions
    from lstmcli.train.evaluation import predict_texts
    from lstmcli.train.predictor import Speed, eval_threads

    eval_threads()
    one_device(device)
    rows = predict_texts(opened, items, Speed(True, False, 256))
    out = stdout()
    if as_json:
        print_json(out, {"predictions": rows})
    else:
        render_predictions(out, rows)
