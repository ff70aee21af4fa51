"""Rich output and JSON for ``pretrain`` and ``neighbors``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from lstmcli.embed.pretrain import PretrainResult
from lstmcli.render.console import counted_progress

Neighbours = list[tuple[str, list[tuple[str, float]]]]  # (probe word, its nearest words)

_PHASES = {"vocabulary": "building the vocabulary", "encoding": "turning texts into token ids"}


class PretrainProgress:
    """A ``progress(done, total, logs)`` callback that draws one Rich bar (texts × epochs)."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.progress: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> PretrainProgress:
        if not self.quiet:
            self.progress = counted_progress(self.console, "{task.description}")
            self.progress.start()
            self.task = self.progress.add_task("pretraining", total=None, stats="")
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def __call__(self, done: int, total: int, logs: dict[str, Any]) -> None:
        if self.progress is None:
            return
        phase = logs.get("phase", "")
        if phase in _PHASES:
            self.progress.update(self.task, description=_PHASES[phase], total=None, stats="")
            return
        stats = "texts"
        if logs.get("loss") is not None:  # word2vec (gensim) reports neither
            stats += f"  loss {logs['loss']:.4f}  {logs.get('pairs', 0):,} pairs"
        self.progress.update(
            self.task,
            description=f"epoch {logs.get('epoch', '?')}",
            completed=done,
            total=total,
            stats=stats,
        )


ENGINES = {"skipgram": "TensorFlow", "word2vec": "gensim"}


def render_pretrain(
    console: Console, result: PretrainResult, output: Path, neighbours: Neighbours
) -> None:
    s = result.settings
    table = Table(title="word vectors: skip-gram with negative sampling", title_justify="left")
    table.add_column("epoch", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("pairs", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("tokens/s", justify="right")
    for row in result.history:
        rate = result.tokens / row["seconds"] if row["seconds"] else 0.0
        table.add_row(
            str(row["epoch"]),
            "–" if row["loss"] is None else f"{row['loss']:.4f}",
            "–" if row["pairs"] is None else f"{int(row['pairs']):,}",
            f"{row['seconds']:.1f}",
            f"{rate:,.0f}",
        )
    console.print(table)
    console.print(
        f"{result.texts:,} texts, {result.tokens:,} tokens; method {s.method} ({ENGINES[s.method]}); "
        f"window {s.window}, {s.negatives} "
        f"negatives, subsample {s.subsample:g}, learning rate {s.lr:g}, seed {s.seed}",
        markup=False,
    )
    if neighbours:
        nn = Table(title="nearest words (cosine similarity), a sanity check", title_justify="left")
        nn.add_column("word")
        nn.add_column("nearest")
        for word, rows in neighbours:
            nn.add_row(word, ", ".join(f"{w} {sim:.2f}" for w, sim in rows))
        console.print(nn)
    console.print(
        f"Saved {len(result.vocabulary) - 1:,} words × {result.dim} dimensions in "
        f"{result.seconds:.1f} s to {output}",
        markup=False,
    )
    console.print(
        f"Use them: lstmcli train DATASET --embedding-from {output} --embed-dim {result.dim}",
        markup=False,
    )


def pretrain_json(result: PretrainResult, output: Path, neighbours: Neighbours) -> dict[str, Any]:
    return {
        "output": str(output),
        "words": len(result.vocabulary) - 1,
        "dim": result.dim,
        "seconds": round(result.seconds, 2),
        "pairs": result.pairs,
        "loss": result.loss,
        "texts": result.texts,
        "tokens": result.tokens,
        "settings": dataclasses.asdict(result.settings),
        "history": result.history,
        "neighbours": {
            w: [{"word": x, "cosine": round(c, 4)} for x, c in rows] for w, rows in neighbours
        },
    }


def render_neighbors(
    console: Console, source: Path, word: str, rows: list[tuple[str, float]]
) -> None:
    table = Table(title=f"words nearest to {word!r} in {source}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("word")
    table.add_column("cosine", justify="right")
    for i, (w, sim) in enumerate(rows, 1):
        table.add_row(str(i), w, f"{sim:.4f}")
    console.print(table)


def neighbors_json(source: Path, word: str, rows: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "source": str(source),
        "word": word,
        "neighbors": [{"word": w, "cosine": round(sim, 6)} for w, sim in rows],
    }
