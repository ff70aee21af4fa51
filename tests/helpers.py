"""What many test files need: a tiny vocabulary, a run folder with a real model, the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from lstmcli.cli.main import app
from lstmcli.model.spec import ModelSpec

VOCAB = ["", "[UNK]", "the", "movie", "was", "great", "bad", "fun", "boring", "and", "not", "a"]
runner = CliRunner()


def invoke(args: list[Any], columns: int = 120, **kw: Any) -> Any:
    """Run the CLI in-process, as a user would type it, on a terminal ``columns`` wide."""
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)}, **kw)


def make_model(spec: ModelSpec, variable: bool = True, seed: int = 0, scale: float | None = None):
    """A built model; ``scale`` replaces its weights by N(0, scale) so gates move visibly."""
    from lstmcli.backend.build import build_model

    model = build_model(spec, variable_length=variable, seed=seed)
    if scale is not None:
        rng = np.random.default_rng(seed)
        model.set_weights(
            [rng.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()]
        )
    return model


def make_run(
    folder: Path,
    spec: ModelSpec,
    *,
    model: Any = None,
    vocabulary: list[str] = VOCAB,
    labels: tuple[str, ...] = ("neg", "pos"),
    extra: dict[str, Any] | None = None,
    seed: int = 0,
    scale: float | None = None,
) -> Path:
    """A run folder (spec.json, vocabulary.txt, model.keras) as ``train`` would leave it."""
    from lstmcli.backend.modelfile import save_model
    from lstmcli.rundir.folder import write_run_files

    model = model if model is not None else make_model(spec, seed=seed, scale=scale)
    write_run_files(folder, spec, list(vocabulary), list(labels), extra)
    save_model(model, folder / "model.keras")
    return folder


def toy_corpus(n: int = 600, seed: int = 0) -> list[str]:
    """Texts about fruit or about vehicles, never both: words of a topic share contexts."""
    rng = np.random.default_rng(seed)
    topics = [
        ["apple", "banana", "cherry", "grape", "mango"],
        ["car", "truck", "bus", "train", "bike"],
    ]
    return [" ".join(rng.choice(topics[i % 2], 20)) for i in range(n)]


def small_spec(kw: dict) -> ModelSpec:
    """A tiny masked model (300 words × 8, 12 steps, 8 units) with ``kw`` changed: the specs
    the graph-equivalence tests (fused, folded, split step) run."""
    return ModelSpec(vocab=300, embed_dim=8, seq_len=12, **{"units": (8,), "mask_zero": True, **kw})


def padded_tokens(rows: int = 6) -> np.ndarray:
    """Token ids for ``small_spec`` (``rows`` ≥ 4) padded every way a batch can be."""
    x = np.random.default_rng(0).integers(1, 300, (rows, 12)).astype("int32")
    x[1, 7:] = 0  # padded at the end (a GPU's layout)
    x[3, :5] = 0  # padded at the front (a CPU's layout)
    x[2, :] = 0  # no word at all
    return x
