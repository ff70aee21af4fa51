"""What a comparison found: each arm's runs read back from their folders, the table's numbers,
the verdicts, and ``compare.json`` / ``compare.csv`` (written atomically)."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lstmcli import __version__
from lstmcli.core import atomic
from lstmcli.core.errors import DataError
from lstmcli.model.arith import summarize
from lstmcli.rundir.compare import CompareFiles
from lstmcli.rundir.folder import RunFiles, read_info
from lstmcli.train.arms import ArmPlan
from lstmcli.train.verdicts import RULE, ArmStats, Verdict, judge_claims


@dataclass
class SeedResult:
    """One arm trained with one seed: its run folder and the numbers the table needs."""

    seed: int
    run: str
    ok: bool = True
    accuracy: float | None = None  # on the test split (the validation split if there is none)
    n_eval: int | None = None
    split: str | None = None
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    s_per_epoch: float | None = None  # median over epochs (epoch 1 also compiles the model)
    samples_per_s: float | None = None  # median over epochs
    params: int | None = None
    val_curve: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class ArmRow:
    plan: ArmPlan
    results: list[SeedResult]

    @property
    def done(self) -> list[SeedResult]:
        return [r for r in self.results if r.ok]

    @property
    def stats(self) -> ArmStats | None:
        done = self.done
        if not done:
            return None
        accs = tuple(float(r.accuracy or 0.0) for r in done)
        return ArmStats(self.plan.name, accs, min(int(r.n_eval or 0) for r in done))

    def mean_of(self, key: str) -> float | None:
        values = [getattr(r, key) for r in self.done if getattr(r, key) is not None]
        return statistics.fmean(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        st, p = self.stats, self.plan
        return {
            "name": p.name, "slug": p.slug, "model": p.spec.to_dict(), "labels": p.limit,
            "pretrained": p.pretrained, "params": self.params, "lecture_params": p.lecture_params,
            "accuracy_mean": st.mean if st else None, "accuracy_spread": st.spread if st else None,
            "best_val_accuracy_mean": self.mean_of("best_val_accuracy"),
            "best_epochs": [r.best_epoch for r in self.done],
            "s_per_epoch": self.mean_of("s_per_epoch"), "samples_per_s": self.mean_of("samples_per_s"),
            "seeds": [asdict(r) for r in self.results],
        }  # fmt: skip

    @property
    def params(self) -> int:
        """The formula total of the model as trained (its classes fitted to the data)."""
        return next((r.params for r in self.done if r.params is not None), self.plan.params)


@dataclass
class Comparison:
    output: Path
    dataset: str
    rows: list[ArmRow]
    plan: dict[str, Any]
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def split(self) -> str | None:
        return next((r.split for row in self.rows for r in row.done), None)

    @property
    def failures(self) -> list[str]:
        return [f"{row.plan.name} (seed {r.seed}): {r.error}"
                for row in self.rows for r in row.results if not r.ok]  # fmt: skip

    def judge(self) -> None:
        self.verdicts = judge_claims([r.plan for r in self.rows], [r.stats for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output), "dataset": self.dataset, "split": self.split,
            "arms": [row.to_dict() for row in self.rows],
            "claims": [v.to_dict() for v in self.verdicts], "rule": RULE,
            "failures": self.failures, "lstmcli_version": __version__,
        }  # fmt: skip


def read_history(path: Path) -> list[dict[str, float]]:
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append({k: float(v) for k, v in row.items() if v not in ("", None)})
    return rows


def read_seed_result(run_dir: Path, seed: int) -> SeedResult:
    """The numbers of a finished run folder (``metrics.json`` is written last)."""
    files = RunFiles(run_dir)
    try:
        metrics = json.loads(files.metrics.read_text(encoding="utf-8"))
        history = read_history(files.history)
        _info, spec, _labels = read_info(run_dir)
        best = int(metrics["best_epoch"])
        best_val = next(r["val_accuracy"] for r in history if int(r["epoch"]) == best)
        return SeedResult(
            seed, str(run_dir), True, float(metrics["accuracy"]), int(metrics["n"]),
            str(metrics["split"]), best_val, best,
            round(statistics.median(r["seconds"] for r in history), 3),
            round(statistics.median(r.get("samples_per_s", 0.0) for r in history), 1),
            summarize(spec).totals.total_params, [r["val_accuracy"] for r in history],
        )  # fmt: skip
    except (
        OSError,
        KeyError,
        ValueError,
        TypeError,
        StopIteration,
        statistics.StatisticsError,
    ) as exc:
        raise DataError(
            f"{run_dir}: cannot read its results ({type(exc).__name__}: {exc})"
        ) from None


CSV_COLUMNS = ["arm", "seed", "run", "status", "params", "labels", "split", "accuracy", "n_eval",
               "best_val_accuracy", "best_epoch", "s_per_epoch", "samples_per_s", "error"]  # fmt: skip


def write_files(files: CompareFiles, comparison: Comparison) -> None:
    """``compare.json`` (plan, table, verdicts) and ``compare.csv`` (one row per arm and seed)."""
    atomic.write_json(files.json, {"plan": comparison.plan, **comparison.to_dict()})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        for r in row.results:
            writer.writerow([row.plan.name, r.seed, r.run, "done" if r.ok else "failed",
                             r.params or row.plan.params, row.plan.limit or "", r.split or "",
                             r.accuracy, r.n_eval, r.best_val_accuracy, r.best_epoch,
                             r.s_per_epoch, r.samples_per_s, r.error or ""])  # fmt: skip
    atomic.write_text(files.csv, buf.getvalue())
