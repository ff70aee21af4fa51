"""Keras-backed parts of ``summary``, ``shapes --check`` and ``build``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.backend.build import build_model
from lstmcli.backend.modelfile import load_model, save_model
from lstmcli.backend.reader import spec_from_model
from lstmcli.model.arith import Summary, summarize
from lstmcli.model.shapes import ShapeWalk
from lstmcli.model.spec import ModelSpec


def summary_from_spec(spec: ModelSpec) -> Summary:
    model = build_model(spec)
    return summarize(spec, keras_params=int(model.count_params()))


def summary_from_file(path: Path) -> Summary:
    model = load_model(path)
    spec = spec_from_model(model)
    result = summarize(spec, keras_params=int(model.count_params()), source=str(path))
    _compare_layers(result, model)
    return result


def _compare_layers(result: Summary, model: Any) -> None:
    by_name = {lyr.name: lyr for lyr in model.layers}
    for row in result.layers:
        layer = by_name.get(row.name)
        if layer is not None and int(layer.count_params()) != row.params:
            result.notes.append(
                f"note: layer {row.name}: formula {row.params:,} ≠ Keras {layer.count_params():,}"
            )


def build_and_save(spec: ModelSpec, output: Path, seed: int) -> Summary:
    model = build_model(spec, seed=seed)
    save_model(model, output)
    return summarize(spec, keras_params=int(model.count_params()))


def random_batch(spec: ModelSpec, batch: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if spec.token_input:
        return rng.integers(1, spec.vocab, size=(batch, spec.seq_len), dtype=np.int32)
    return rng.standard_normal((batch, spec.seq_len, spec.features or 1)).astype("float32")


def keras_output_shapes(spec: ModelSpec, batch: int = 2) -> dict[str, tuple[int | None, ...]]:
    """Run a random batch through the model; return each layer's actual output shape."""
    from lstmcli.backend.tf import keras

    k = keras()
    model = build_model(spec)
    layers = [lyr for lyr in model.layers if type(lyr).__name__ != "InputLayer"]
    probe = k.Model(model.input, [lyr.output for lyr in layers])
    outputs = probe(random_batch(spec, batch), training=False)
    if len(layers) == 1:  # one recurrent layer and nothing else (--features … --head none)
        outputs = [outputs]
    return {
        lyr.name: (None, *tuple(out.shape)[1:]) for lyr, out in zip(layers, outputs, strict=True)
    }


def confirm_shapes(walk: ShapeWalk) -> None:
    actual = keras_output_shapes(walk.spec, walk.batch or 2)
    for step in walk.steps:
        shape = actual.get(step.row.name)
        step.keras_shape = shape
        step.confirmed = shape == step.row.output_shape
    walk.checked = True
