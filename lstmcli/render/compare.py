"""Rich output, JSON and the validation-curve PNG of ``lstmcli compare``."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from lstmcli.core.atomic import atomic_path
from lstmcli.render.console import counted_progress
from lstmcli.render.train import batch_stats
from lstmcli.train.compare import CompareEvents, PendingRun
from lstmcli.train.compare_results import ArmRow, Comparison, SeedResult
from lstmcli.train.verdicts import RULE


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class CompareProgress(CompareEvents):
    """One line per arm run (arm k of n, what happens to it, the time left for all of them)
    and, on a terminal, one live bar: the arm, its epoch and batches, loss and accuracy."""

    def __init__(self, console: Console, batch_size: int) -> None:
        self.console, self.batch_size = console, batch_size
        self.progress: Progress | None = None
        self.task: Any = None
        self.arm, self.t0, self.seen = "", time.perf_counter(), 0
        self.runs: list[PendingRun] = []
        self.current = -1
        # seconds spent and work done (texts × multiply-adds per text) in the epochs so far
        self.spent, self.work, self.texts = 0.0, 0.0, 0.0
        self.epochs, self.all_texts = 0, 0.0

    def left(self) -> str:
        """Seconds per unit of work so far × the work left (an epoch costs texts × MACs)."""
        if self.work <= 0:
            return "time left: after the first epoch"
        # texts per epoch of an arm without a cap: as last seen, else the mean epoch so far
        full = self.texts or self.all_texts / max(self.epochs, 1)
        runs = self.runs[max(self.current, 0) :]
        work = sum(r.epochs_left * r.macs * min(r.limit or full, full) for r in runs)
        return f"about {_duration(self.spent / self.work * work)} left"

    def plan(self, runs: list[PendingRun]) -> None:
        self.runs, self.current = list(runs), -1

    def arm_begin(self, k: int, total: int, name: str, seed: int, action: str) -> None:
        self.arm = f"arm {k}/{total} {name} (seed {seed})"
        if not action.startswith("done"):
            self.current += 1
        tail = f" ({self.left()})" if not action.startswith("done") else ""
        line = f"[{k}/{total}] {name}, seed {seed}: {action}{tail}"
        self.console.print(line, markup=False, soft_wrap=True)
        # A live bar only on a terminal: elsewhere (a file, a pipe) it would leave blank lines.
        if not action.startswith("done") and self.console.is_terminal:
            self.progress = counted_progress(
                self.console, "{task.fields[arm]} · {task.description}"
            )
            self.progress.start()
            self.task = self.progress.add_task("starting", total=None, stats="", arm=self.arm)

    def stage(self, message: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=message, total=None, stats="")

    def pretrain_progress(self, done: int, total: int, logs: dict[str, Any]) -> None:
        if self.progress is not None and logs.get("phase") == "training":
            desc = f"pretraining word vectors, epoch {logs.get('epoch')}"
            self.progress.update(self.task, description=desc, completed=done, total=total,
                                 stats=f"loss {logs.get('loss', 0):.4f}")  # fmt: skip

    def epoch_begin(self, epoch: int, epochs: int, batches: int, skip: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=f"epoch {epoch + 1}/{epochs}",
                                 total=batches, completed=skip, stats="")  # fmt: skip
        self.t0, self.seen = time.perf_counter(), 0

    def batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.progress is None:
            return
        self.seen += self.batch_size
        stats = f"{batch_stats(logs, self.seen, time.perf_counter() - self.t0)}  {self.left()}"
        self.progress.update(self.task, completed=batch, stats=stats)

    def epoch_end(self, row: dict[str, Any]) -> None:
        seconds = float(row["seconds"])
        texts = seconds * float(row.get("samples_per_s") or 0.0)
        if 0 <= self.current < len(self.runs):
            run = self.runs[self.current]
            self.runs[self.current] = replace(run, epochs_left=max(run.epochs_left - 1, 0))
            self.spent, self.work = self.spent + seconds, self.work + texts * run.macs
            self.epochs, self.all_texts = self.epochs + 1, self.all_texts + texts
            if run.limit is None:
                self.texts = texts

    def arm_end(self, k: int, total: int, name: str, result: SeedResult) -> None:
        self.stop()
        if not result.ok:
            self.console.print(f"      failed: {result.error}", markup=False)
        elif result.accuracy is not None:
            self.console.print(
                f"      {result.split} acc {100 * result.accuracy:.2f}%, best val acc "
                f"{100 * (result.best_val_accuracy or 0):.2f}% (epoch {result.best_epoch}), "
                f"{result.s_per_epoch:.1f} s/epoch", markup=False)  # fmt: skip

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _best_val(row: ArmRow) -> str:
    best = row.mean_of("best_val_accuracy")
    if best is None:
        return "–"
    return f"{100 * best:.2f} ({', '.join(str(r.best_epoch) for r in row.done)})"


def _accuracy(row: ArmRow) -> str:
    st = row.stats
    if st is not None:
        failed = len(row.results) - len(row.done)
        return st.shown() + (f" ({failed} failed)" if failed else "")
    return "failed" if row.results else "–"


def comparison_table(comparison: Comparison) -> Table:
    split = comparison.split or "test"
    seeds = comparison.plan.get("seeds", [])
    epochs = comparison.plan.get("train", {}).get("epochs")
    title = f"{comparison.dataset}: {epochs} epochs, seeds {', '.join(map(str, seeds))}"
    # Light borders and folding cells: the table still fits 80 columns (piped output).
    table = Table(title=title, box=box.SIMPLE_HEAD)
    acc = "test acc" if split == "test" else "val acc*"
    table.add_column("model", overflow="fold")
    for name in ("formula total\nparams", "s/epoch", "samples/s", "best val acc\n(epoch)",
                 f"{acc}\n(mean ± spread)", "lecture\nfigure"):  # fmt: skip
        table.add_column(name, justify="right", overflow="fold")
    for row in comparison.rows:
        sec, sps = row.mean_of("s_per_epoch"), row.mean_of("samples_per_s")
        lec = row.plan.lecture_params
        table.add_row(
            row.plan.name, f"{row.params:,}", "–" if sec is None else f"{sec:.1f}",
            "–" if sps is None else f"{sps:,.0f}", _best_val(row), _accuracy(row),
            "–" if lec is None else f"{lec:,}",
        )  # fmt: skip
    return table


def render_comparison(console: Console, comparison: Comparison) -> None:
    """The table, the notes under it, the four claims with their verdicts, the files."""
    console.print(comparison_table(comparison))
    if comparison.split == "validation":
        console.print(f"* {comparison.dataset} has no test split: accuracies are on the "
                      "validation split, which also chose each run's best epoch.", markup=False)  # fmt: skip
    console.print("s/epoch and samples/s: median over epochs (epoch 1 also compiles the model); "
                  "lecture figure: the parameter total the lecture notes print for that model.", markup=False)  # fmt: skip
    console.print()
    console.print("The lecture's claims", style="bold")
    for i, v in enumerate(comparison.verdicts, 1):
        # soft_wrap: one line per verdict, whatever the width (the terminal folds it)
        console.print(f"{i}. {v.claim}", markup=False, soft_wrap=True)
        console.print(f"   {v.verdict} ({v.detail})", markup=False, soft_wrap=True)
    console.print(f"Rule: {RULE}.", markup=False, style="dim")
    for failure in comparison.failures:
        console.print(f"failed: {failure}", markup=False)
    console.print(f"Comparison saved in {comparison.output}", markup=False)


def compare_json(comparison: Comparison) -> dict[str, Any]:
    return {"plan": comparison.plan, **comparison.to_dict()}


def curves_png(comparison: Comparison, target: Path) -> None:
    """Validation accuracy per epoch: one colour per arm, one line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, row in enumerate(comparison.rows):
        for j, r in enumerate(row.done):
            epochs = list(range(1, len(r.val_curve) + 1))
            ax.plot(epochs, [100 * a for a in r.val_curve], "-o", markersize=3,
                    color=colours[i % len(colours)], alpha=0.9 if j == 0 else 0.45,
                    label=row.plan.name if j == 0 else None)  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(f"lstmcli compare {comparison.dataset}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
