"""``compare``: the lecture's models trained side by side, one table, the lecture's claims judged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli.cli.app import JsonFlag, command, fail
from lstmcli.cli.options import DataOption, EvalBatchSize, SpeedPanel, model_options
from lstmcli.core.errors import EXIT_RUNTIME
from lstmcli.render.console import print_json, stderr_console, stdout

C = "Comparison"
T = "Training (every arm)"
SAMPLE_SMALL_N = 400  # sample has 1,600 training texts: a quarter of them is "few labels"
SMALL_N = 2_000


def _c(*names: str, help: str | None = None, panel: str = C, **kw: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel, **kw)


@command("compare")
@model_options
def compare_cmd(
    dataset: Annotated[str, typer.Argument(help="imdb, sample, or a folder / CSV / TSV / JSONL file.")],
    arm: Annotated[list[str] | None, _c("--arm", help='One arm, as --config keys: "cell=gru", "bidirectional,dropout=0.2", "stacked=3", plus name=, pretrained, small (use --small-n labels), n=N. Repeat for more arms.')] = None,
    arm_file: Annotated[Path | None, _c("--arm-file", help="TOML file with \\[\\[arm]] tables (the same keys).")] = None,
    seeds: Annotated[str, _c("--seeds", help="Seeds, each arm is trained once per seed: 0,1,2.")] = "0",
    small_n: Annotated[int | None, _c("--small-n", min=2, help="Labelled texts for the small-data arms (default 2,000; 400 for sample).")] = None,
    output: Annotated[Path | None, _c("--output", "-o", help="Comparison folder (default runs/compare-<data>); the same command again resumes it.")] = None,
    data: DataOption = None,
    epochs: Annotated[int, _c("--epochs", min=1, max=100_000, panel=T)] = 3,
    limit: Annotated[int | None, _c("--limit", min=2, help="Train the other arms on N texts.", panel=T)] = None,
    eval_limit: Annotated[int | None, _c("--eval-limit", min=2, help="Cap validation and test at N texts.", panel=T)] = None,
    batch_size: Annotated[int, _c("--batch-size", min=1, max=65_536, panel=T)] = 32,
    optimizer: Annotated[str, _c("--optimizer", help="rmsprop | adam", panel=T)] = "rmsprop",
    lr: Annotated[float | None, _c("--lr", min=0.0, help="Learning rate (where the cosine starts). Default: 2e-3, or 1e-3 if constant.", panel=T)] = None,
    lr_schedule: Annotated[str, _c("--lr-schedule", help="cosine (from --lr down to 0 over all epochs) | constant", panel=T)] = "cosine",
    patience: Annotated[int | None, _c("--patience", min=1, help="Stop an arm after N epochs without a better val accuracy.", panel=T)] = None,
    val_split: Annotated[float, _c("--val-split", help="Validation fraction of the training texts.", panel=T)] = 0.2,
    val_by: Annotated[str, _c("--val-by", help="How validation is drawn: text (one by one, at random) | film (imdb: whole films, so none is also in training).", panel=T)] = "text",
    test: Annotated[Path | None, _c("--test", help="Test file/folder for user data.", panel=T)] = None,
    text_col: Annotated[str | None, _c("--text-col", panel=T)] = None,
    label_col: Annotated[str | None, _c("--label-col", panel=T)] = None,
    checkpoint_every: Annotated[int, _c("--checkpoint-every", min=0, help="Checkpoint every N batches (0: epoch ends only).", panel=T)] = 100,
    bucketing: Annotated[bool, _c("--bucketing/--no-bucketing", help="Length-bucketed training batches (faster, less accurate; see README).", panel=SpeedPanel)] = False,
    xla: Annotated[bool | None, _c("--xla/--no-xla", help="Compile the steps with XLA (default: on, but off for sample: its short texts take longer to compile than to train).", panel=SpeedPanel)] = None,
    eval_batch_size: EvalBatchSize = 256,
    cache: Annotated[bool, _c("--cache/--no-cache", help="Reuse vectorised data from earlier runs.", panel=SpeedPanel)] = True,
    as_json: JsonFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:  # fmt: skip
    """Default arms: SimpleRNN, LSTM, GRU, 3 stacked LSTMs and a Bi-LSTM (both with
    dropout 0.2), and an LSTM whose embedding is pretrained (on imdb's unlabelled
    reviews, else on the training texts) beside the same LSTM from scratch, both on
    --small-n labels. Model flags (--units, --embed-dim…) apply to every arm.

    Each arm is a run folder inside the comparison folder; the same command again
    skips finished arms and resumes an interrupted one.

    Verdicts: ± is the larger of the standard deviation over seeds and the standard
    error √(p(1−p)/n) of one accuracy; a claim is supported when its arm wins by more
    than the two spreads together, not supported when the other arm does.

    On sample (1,600 training texts) the small arms get 400 labels and XLA is off:
    `lstmcli compare sample` takes about a minute on 2 cores.
    Example: lstmcli compare imdb --epochs 3 --seeds 0,1,2
    """
    from lstmcli.core.signals import exit_code
    from lstmcli.data.request import DataRequest
    from lstmcli.render.compare import CompareProgress, compare_json, curves_png, render_comparison
    from lstmcli.rundir.compare import CompareFiles, default_compare_dir
    from lstmcli.train.arms import (
        arms_from_flags,
        arms_from_toml,
        default_arms,
        parse_seeds,
        resolve_arms,
    )
    from lstmcli.train.compare import CompareRequest, run_compare
    from lstmcli.train.config import Interrupted, TrainConfig

    chosen = (arms_from_toml(arm_file) if arm_file else []) + arms_from_flags(arm or [])
    small = small_n or (SAMPLE_SMALL_N if dataset == "sample" else SMALL_N)
    plans = resolve_arms(chosen or default_arms(), spec_flags, limit, small)
    req = DataRequest(
        name_or_path=dataset, data=str(data) if data else None, eval_limit=eval_limit,
        val_split=val_split, test=str(test) if test else None, text_col=text_col, label_col=label_col,
        val_by=val_by,
    )  # fmt: skip
    cfg = TrainConfig(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, patience=patience,
        lr_schedule=lr_schedule,
        checkpoint_every=checkpoint_every, bucketing=bucketing, eval_batch_size=eval_batch_size,
        xla=xla if xla is not None else dataset != "sample",
    )  # fmt: skip
    folder = output or default_compare_dir(dataset)
    request = CompareRequest(req, plans, parse_seeds(seeds), cfg, folder, use_cache=cache)
    out = stdout()
    events = CompareProgress(stderr_console() if as_json else out, batch_size)
    try:
        comparison = run_compare(request, events)
    except Interrupted as stop:
        raise fail(
            f"{stop}. Run the same command again to resume", exit_code(stop.signum)
        ) from None
    finally:
        events.stop()
    curves_png(comparison, CompareFiles(folder).curves)
    if as_json:
        print_json(out, compare_json(comparison))
    else:
        render_comparison(out, comparison)
    if comparison.failures:
        n = len(comparison.failures)
        raise fail(f"{n} arm run{'s' * (n > 1)} failed ({comparison.failures[0]}); the finished "
                   f"ones are kept in {folder}", EXIT_RUNTIME)  # fmt: skip
