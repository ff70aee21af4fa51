"""``pretrain`` (learn word vectors from raw text) and ``neighbors`` (nearest words)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lstmcli.cli.app import JsonFlag, command, fail
from lstmcli.cli.options import QuietFlag
from lstmcli.core.errors import EXIT_RUNTIME, EXIT_USAGE
from lstmcli.render.console import print_json, stderr_console, stdout

W = "Word vectors"


@command("pretrain")
def pretrain_cmd(
    dataset: Annotated[
        str,
        typer.Argument(
            help="imdb (its unlabelled + training reviews), sample, or your own data file/folder."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to write the vectors (.vec, word2vec text format)."
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="skipgram (lstmcli's TensorFlow loop) or word2vec (gensim's C loops, the same "
            "objective, ~3x faster): both skip-gram with negative sampling.",
            rich_help_panel=W,
        ),
    ] = "skipgram",
    dim: Annotated[
        int,
        typer.Option(
            "--dim",
            "--embed-dim",
            min=1,
            max=4096,
            help="Vector width E (use the same --embed-dim in train).",
            rich_help_panel=W,
        ),
    ] = 32,
    vocab: Annotated[
        int,
        typer.Option(
            "--vocab",
            min=3,
            max=5_000_000,
            help="Keep the V most frequent words.",
            rich_help_panel=W,
        ),
    ] = 10000,
    epochs: Annotated[
        int,
        typer.Option("--epochs", min=1, max=1000, help="Passes over the texts.", rich_help_panel=W),
    ] = 2,
    window: Annotated[
        int,
        typer.Option(
            "--window", min=1, max=100, help="Context words on each side W.", rich_help_panel=W
        ),
    ] = 4,
    negatives: Annotated[
        int,
        typer.Option(
            "--negatives", min=1, max=100, help="Negative words per pair K.", rich_help_panel=W
        ),
    ] = 5,
    subsample: Annotated[
        float,
        typer.Option(
            "--subsample",
            min=0.0,
            help="Subsample words more frequent than t (0: off; try 1e-3 on small data).",
            rich_help_panel=W,
        ),
    ] = 1e-4,
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            min=0.0,
            help="Starting learning rate, decayed linearly (default: Adam's 0.05 for skipgram, "
            "SGD's 0.025 for word2vec).",
            rich_help_panel=W,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Pairs per step.", rich_help_panel=W)
    ] = 4096,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, max=2**32 - 1, help="Seed for sampling and initial vectors."),
    ] = 0,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Use N texts (a seeded random sample).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="IMDB archive or folder (else cache, else download)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output file.")
    ] = False,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
) -> None:
    """For imdb it reads the 50,000 unlabelled and 25,000 training reviews (never the test
    reviews). Example: lstmcli pretrain imdb --dim 32 -o imdb32.vec, then
    lstmcli train imdb --embedding-from imdb32.vec --freeze-embedding
    """
    from lstmcli.embed.corpus import pretraining_texts, sanity_neighbours
    from lstmcli.embed.pretrain import pretrain
    from lstmcli.embed.settings import PretrainSettings
    from lstmcli.render.embed import PretrainProgress, pretrain_json, render_pretrain
    from lstmcli.render.train import DownloadProgress

    if output.is_dir():
        raise fail(
            f"--output: {output} is a folder; give a file name such as vectors.vec", EXIT_USAGE
        )
    if output.exists() and not overwrite:
        raise fail(f"--output: {output} exists; pass --overwrite to replace it", EXIT_RUNTIME)
    settings = PretrainSettings(
        method=method,
        dim=dim,
        vocab=vocab,
        epochs=epochs,
        window=window,
        negatives=negatives,
        subsample=subsample,
        batch_size=batch_size,
        learning_rate=lr,
        seed=seed,
    )
    settings.check()
    out, err = stdout(), stderr_console()
    if not quiet:
        err.print(f"reading {dataset} texts", style="dim", markup=False)
    with DownloadProgress(err, quiet) as download:
        texts = pretraining_texts(dataset, data, seed, limit, download)
    with PretrainProgress(err, quiet=quiet) as progress:
        result = pretrain(texts, settings, progress)
    result.save(output)
    neighbours = sanity_neighbours(result)
    if as_json:
        print_json(out, pretrain_json(result, output, neighbours))
    else:
        render_pretrain(out, result, output, neighbours)


@command("neighbors")
def neighbors_cmd(
    source: Annotated[
        Path,
        typer.Argument(help="A .vec/.txt word-vector file, or a run folder (its Embedding layer)."),
    ],
    word: Annotated[str, typer.Argument(help="The word to look up.")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="How many neighbours.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Example: lstmcli neighbors imdb32.vec great -k 10"""
    from lstmcli.embed.vectors import nearest
    from lstmcli.render.embed import neighbors_json, render_neighbors

    rows = nearest(source, word, k)
    out = stdout()
    if as_json:
        print_json(out, neighbors_json(source, word, rows))
    else:
        render_neighbors(out, source, word, rows)
