"""Rich output for ``train``, ``evaluate`` and ``predict`` (progress bars, epoch and metric tables)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from lstmcli.render.console import counted_progress
from lstmcli.train.config import TrainEvents
from lstmcli.train.runner import TrainOutcome


def batch_stats(logs: dict[str, float], samples: int, seconds: float) -> str:
    """The progress bar's running figures: loss, accuracy and samples/s so far this epoch."""
    rate = samples / max(seconds, 1e-9)
    return (
        f"loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}  {rate:,.0f} samples/s"
    )


class RichTrainEvents(TrainEvents):
    """A progress bar per epoch (batches, loss, accuracy, samples/s, ETA) and a table row per epoch."""

    def __init__(self, console: Console, batch_size: int, quiet: bool = False) -> None:
        self.console, self.batch_size, self.quiet = console, batch_size, quiet
        self.progress: Progress | None = None
        self.task: Any = None
        self.table_started = False

    def epoch_begin(self, epoch: int, epochs: int, batches: int, skip: int) -> None:
        if self.quiet:
            return
        if self.progress is None:
            # One live display for the whole run; rows are printed above it.
            self.progress = counted_progress(self.console, "epoch {task.fields[epoch]}")
            self.progress.start()
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(
            "train", total=batches, completed=skip, stats="", epoch=f"{epoch + 1}/{epochs}"
        )
        self.t0, self.seen = time.perf_counter(), 0

    def batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.progress is None:
            return
        self.seen += self.batch_size
        stats = batch_stats(logs, self.seen, time.perf_counter() - self.t0)
        self.progress.update(self.task, completed=batch, stats=stats)

    def epoch_end(self, row: dict[str, Any]) -> None:
        if self.quiet:
            return
        console = self.progress.console if self.progress is not None else self.console
        if not self.table_started:
            console.print(
                f"{'epoch':>5}  {'loss':>7}  {'acc':>7}  {'val_loss':>8}  {'val_acc':>7}  "
                f"{'seconds':>7}  {'samples/s':>9}"
            )
            self.table_started = True
        console.print(
            f"{row['epoch']:>5}  {row['loss']:>7.4f}  {row['accuracy']:>7.4f}  {row['val_loss']:>8.4f}  "
            f"{row['val_accuracy']:>7.4f}  {row['seconds']:>7.1f}  {row['samples_per_s'] or 0:>9,.0f}"
        )

    def train_end(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class DownloadProgress:
    """A ``progress(done, total)`` callback for downloads: a Rich bar with bytes, rate and time
    left, drawn from the first call until ``done == total`` (or the block ends), then one line
    saying what was downloaded. Use it as a context manager; ``quiet`` draws nothing."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.progress: Progress | None = None
        self.task: Any = None
        self.t0 = 0.0

    def __enter__(self) -> DownloadProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def __call__(self, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if self.progress is None:
            from rich.progress import DownloadColumn, TransferSpeedColumn

            self.progress = Progress(
                TextColumn("downloading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn(), console=self.console, transient=True,
            )  # fmt: skip
            self.task = self.progress.add_task("download", total=total)
            self.progress.start()
            self.t0 = time.perf_counter()
        self.progress.update(self.task, completed=done, total=total)
        if total is not None and done >= total:
            self._stop()
            seconds = time.perf_counter() - self.t0
            self.console.print(f"downloaded {decimal(done)} in {seconds:,.1f} s", style="dim")

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def render_metrics(console: Console, metrics: dict[str, Any], title: str) -> None:
    console.print(title, markup=False)
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("n", "loss", "accuracy", "precision", "recall", "f1", "roc_auc"):
        value = metrics.get(key)
        if value is None:
            shown = "n/a"
        elif key == "n":
            shown = f"{value:,}"
        else:
            shown = f"{value:.4f}"
        table.add_row(key, shown)
    for key in ("eval_samples_per_s", "train_samples_per_s", "train_seconds"):
        if metrics.get(key) is not None:
            table.add_row(key.replace("_", " "), f"{metrics[key]:,.1f}")
    console.print(table)
    labels = metrics.get("labels") or []
    confusion = metrics.get("confusion_matrix") or []
    if confusion:
        console.print("confusion matrix (rows: true class, columns: predicted)")
        cm = Table()
        cm.add_column("")
        for name in labels:
            cm.add_column(str(name), justify="right")
        for name, row in zip(labels, confusion, strict=False):
            cm.add_row(str(name), *[f"{v:,}" for v in row])
        console.print(cm)


def render_outcome(console: Console, outcome: TrainOutcome) -> None:
    """What ``train`` prints after the epochs: notes, the final metrics, the run folder."""
    for note in outcome.notes:
        console.print(note, markup=False)
    title = f"{outcome.split} metrics (best epoch {outcome.state.best_epoch})"
    render_metrics(console, outcome.metrics, title)
    console.print(f"Run saved in {outcome.run_dir}", markup=False)


def train_json(outcome: TrainOutcome) -> dict[str, Any]:
    return {
        "run": str(outcome.run_dir), "model": outcome.spec.to_dict(),
        "history": outcome.state.history, "metrics": outcome.metrics, "notes": outcome.notes,
    }  # fmt: skip


def render_predictions(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    table.add_column("label")
    table.add_column("probability", justify="right")
    table.add_column("text")
    for r in rows:
        text = r["text"] if len(r["text"]) <= 70 else r["text"][:67] + "..."
        table.add_row(str(r["label"]), f"{r['probability']:.4f}", text)
    console.print(table)
