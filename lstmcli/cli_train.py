"""``train``, ``evaluate`` and ``predict`` commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli import render
from lstmcli.cli import JsonFlag, clean_text, command, fail, printable, stdout
from lstmcli.errors import EXIT_USAGE
from lstmcli.options import model_options, spec_from_flags

T = "Training"
S = "Speed (each on by default)"


@command("train")
@model_options
def train_cmd(
    dataset: Annotated[
        str, typer.Argument(help="imdb, sample, or a folder / CSV / TSV / JSONL file.")
    ],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="IMDB archive or folder (else cache, else download)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=100_000, rich_help_panel=T)] = 3,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=65_536, rich_help_panel=T)
    ] = 32,
    optimizer: Annotated[
        str, typer.Option("--optimizer", help="rmsprop | adam", rich_help_panel=T)
    ] = "rmsprop",
    lr: Annotated[
        float | None,
        typer.Option("--lr", min=0.0, help="Learning rate (optimizer default).", rich_help_panel=T),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, rich_help_panel=T)] = 0,
    patience: Annotated[
        int | None,
        typer.Option(
            "--patience",
            min=1,
            help="Stop after N epochs without a better val accuracy.",
            rich_help_panel=T,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=2, help="Train on N texts (seeded, balanced).", rich_help_panel=T
        ),
    ] = None,
    eval_limit: Annotated[
        int | None,
        typer.Option(
            "--eval-limit", min=2, help="Cap validation and test at N texts.", rich_help_panel=T
        ),
    ] = None,
    val_split: Annotated[
        float,
        typer.Option("--val-split", help="Validation fraction for user data.", rich_help_panel=T),
    ] = 0.2,
    test: Annotated[
        Path | None,
        typer.Option("--test", help="Test file/folder for user data.", rich_help_panel=T),
    ] = None,
    text_col: Annotated[str | None, typer.Option("--text-col", rich_help_panel=T)] = None,
    label_col: Annotated[str | None, typer.Option("--label-col", rich_help_panel=T)] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Run folder (default runs/<data>-<cell>).", rich_help_panel=T
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the run in --output from its last checkpoint.",
            rich_help_panel=T,
        ),
    ] = False,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            "--checkpoint-every",
            min=0,
            help="Checkpoint every N batches (0: epoch ends only).",
            rich_help_panel=T,
        ),
    ] = 100,
    embedding_from: Annotated[
        Path | None,
        typer.Option(
            "--embedding-from", help="Word vectors (.vec/.txt) or a run folder.", rich_help_panel=T
        ),
    ] = None,
    freeze_embedding: Annotated[
        bool | None,
        typer.Option(
            "--freeze-embedding/--fine-tune-embedding",
            help="With --embedding-from: keep it fixed (default) or train it.",
            rich_help_panel=T,
        ),
    ] = None,
    bucketing: Annotated[
        bool,
        typer.Option(
            "--bucketing/--no-bucketing",
            help="Group training texts by length, each batch padded to a bucket length: "
            "~1.65× faster per epoch, ~1.7 points lower IMDB test accuracy (see README). "
            "Evaluation is always bucketed.",
            rich_help_panel=S,
        ),
    ] = False,
    xla: Annotated[
        bool,
        typer.Option(
            "--xla/--no-xla", help="Compile train and predict steps with XLA.", rich_help_panel=S
        ),
    ] = True,
    eval_batch_size: Annotated[
        int, typer.Option("--eval-batch-size", min=1, max=65_536, rich_help_panel=S)
    ] = 256,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache", help="Reuse vectorised data from earlier runs.", rich_help_panel=S
        ),
    ] = True,
    as_json: JsonFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:
    """Train a model on IMDB, the sample set or your own labelled text.

    Texts are padded at the front and, by default, padding steps are masked
    (--no-mask-zero turns that off). Example: lstmcli train imdb --epochs 3
    """
    from lstmcli.errors import UsageError
    from lstmcli.prepare import DataRequest
    from lstmcli.render_train import RichTrainEvents
    from lstmcli.runner import default_run_dir, run_training
    from lstmcli.trainer import Interrupted, TrainConfig

    if optimizer not in ("rmsprop", "adam"):
        raise fail(f"--optimizer: {optimizer!r} is not one of rmsprop, adam", EXIT_USAGE)
    if freeze_embedding is not None and embedding_from is None:
        raise fail("--freeze-embedding/--fine-tune-embedding need --embedding-from", EXIT_USAGE)
    if resume and output is None:
        raise fail("--resume needs --output RUN (the run folder to continue)", EXIT_USAGE)
    base: dict[str, Any] = {}
    if spec_flags.get("features") is None:
        base["mask_zero"] = True  # exact for any padding length: bucketed predictions equal
    if embedding_from is not None:
        base["trainable_embedding"] = not (freeze_embedding is None or freeze_embedding)
    spec = spec_from_flags(base, **spec_flags)
    if not spec.token_input:
        raise UsageError("--features: train reads text, so it needs token input (drop --features)")
    if spec.return_sequences:
        raise UsageError("--return-sequences: train classifies whole texts; drop it")
    req = DataRequest(
        name_or_path=dataset, data=str(data) if data else None, seed=seed, limit=limit,
        eval_limit=eval_limit, val_split=val_split, test=str(test) if test else None,
        text_col=text_col, label_col=label_col,
    )  # fmt: skip
    cfg = TrainConfig(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, seed=seed,
        patience=patience, checkpoint_every=checkpoint_every, bucketing=bucketing, xla=xla,
        eval_batch_size=eval_batch_size,
    )  # fmt: skip
    out = stdout()
    err = render.stderr_console()
    run_dir = output or default_run_dir(dataset, spec)
    # Status goes to stdout (stderr stays for the one-line error), or to stderr with --json.
    status = err if as_json else out
    events = RichTrainEvents(status, batch_size)
    try:
        outcome = run_training(
            req, spec, cfg, run_dir, resume=resume,
            classes_given=spec_flags.get("classes") is not None,
            embedding_from=embedding_from, events=events,
            stage=lambda msg: status.print(printable(msg), style="dim", markup=False),
            use_cache=cache,
        )  # fmt: skip
    except Interrupted as stop:
        cmd = " ".join(["lstmcli", "train", dataset, "--output", str(run_dir), "--resume"])
        raise fail(f"{stop}; checkpoint saved. Resume with: {cmd}", 130) from None
    if as_json:
        render.print_json(out, {"run": str(outcome.run_dir), "model": outcome.spec.to_dict(),
                                "history": outcome.state.history, "metrics": outcome.metrics,
                                "notes": outcome.notes})  # fmt: skip
        return
    from lstmcli.render_train import render_metrics

    for note in outcome.notes:
        out.print(note, markup=False)
    render_metrics(
        out, outcome.metrics, f"{outcome.split} metrics (best epoch {outcome.state.best_epoch})"
    )
    out.print(f"Run saved in {outcome.run_dir}", markup=False)


@command("evaluate")
def evaluate_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    dataset: Annotated[
        str | None,
        typer.Argument(help="Dataset to evaluate on (default: the run's own test split)."),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="IMDB archive or folder.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=2, help="Evaluate on N texts (balanced).")
    ] = None,
    # One pass over 25,000 reviews: compiling a program per bucket shape costs more than XLA
    # saves (measured 4,364 vs 5,313 reviews/s), so it is off unless asked for.
    xla: Annotated[
        bool,
        typer.Option(
            "--xla/--no-xla", help="Compile the forward pass with XLA.", rich_help_panel=S
        ),
    ] = False,
    bucketing: Annotated[
        bool,
        typer.Option(
            "--bucketing/--no-bucketing",
            help="Group texts by length; pad each batch to a bucket length.",
            rich_help_panel=S,
        ),
    ] = True,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=65_536, rich_help_panel=S)
    ] = 256,
    as_json: JsonFlag = False,
) -> None:
    """Loss, accuracy, precision, recall, F1, ROC AUC and a confusion matrix.

    Example: lstmcli evaluate runs/imdb-lstm
    """
    from lstmcli.evaluation import evaluate_run
    from lstmcli.predictor import Speed, eval_threads
    from lstmcli.runs import open_run

    eval_threads()

    result = evaluate_run(
        open_run(run),
        dataset,
        Speed(bucketing, xla, batch_size),
        str(data) if data else None,
        limit,
    )
    out = stdout()
    if as_json:
        render.print_json(out, {"split": result.split, "dataset": result.dataset, **result.metrics})
        return
    from lstmcli.render_train import render_metrics

    render_metrics(out, result.metrics, f"{result.dataset} {result.split} split")


@command("predict")
def predict_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder (or its model.keras).")],
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to classify (stdin when none).")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="One text per line.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Label and probability for each text.

    Example: lstmcli predict runs/imdb-lstm "A moving, beautifully acted film."
    """
    from lstmcli.errors import DataError
    from lstmcli.evaluation import predict_texts
    from lstmcli.predictor import Speed, eval_threads
    from lstmcli.runs import open_run

    eval_threads()

    items = [clean_text(t) for t in texts or []]
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise DataError(f"--file: cannot read {file} ({exc.strerror})") from None
        items += [ln for ln in raw.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    if not items and file is None:
        items = [ln for ln in sys.stdin.read().splitlines() if ln.strip()]
    rows = predict_texts(open_run(run), items, Speed(True, False, 256))
    out = stdout()
    if as_json:
        render.print_json(out, {"predictions": rows})
    else:
        from lstmcli.render_train import render_predictions

        render_predictions(out, rows)
