"""Benchmark: the cost of one XLA training step for recurrent stacks, pooled and not.

Builds each model as lstmcli does (masked token input, variable length), compiles it with
`jit_compile=True`, warms it up, then times `train_on_batch` and `predict_on_batch` on one
fixed batch of random ids (batch 32, T = 256 by default). Each case is timed layer by layer
(`--no-fused`) and, where `backend/fused.py` has one, as the fused graph `train` uses on a
CPU by default. Only the ratios mean anything: the machine here varies 2x between sessions.

Usage:
  python bench/step_cost.py [--batch 32] [--timesteps 256] [--steps 15] [CASE ...]
Cases: lstm, lstm-pool (returns its whole sequence into mean pooling), lstm-d0.2 (dropout),
2xlstm, 3xlstm, 3xlstm-d0.2, 3xlstm-nomask, bilstm, bilstm-pool, and strong (the `strong`
recipe's model: Bi-LSTM 64 over a 128-wide embedding, max+mean; try it with --batch 64).
"""

from __future__ import annotations

import argparse
import os
import time

CASES = {
    "lstm": {"units": (32,)},
    "lstm-pool": {"units": (32,), "pool": "mean"},
    "lstm-d0.2": {"units": (32,), "dropout": 0.2},
    "2xlstm": {"units": (32, 32)},
    "3xlstm": {"units": (32, 32, 32)},
    "3xlstm-d0.2": {"units": (32, 32, 32), "dropout": 0.2},
    "3xlstm-nomask": {"units": (32, 32, 32), "mask_zero": False},
    "bilstm": {"units": (32,), "bidirectional": True},
    "bilstm-pool": {"units": (32,), "bidirectional": True, "pool": "max+mean"},
    "strong": {"units": (64,), "bidirectional": True, "pool": "max+mean", "embed_dim": 128,
               "vocab": 20000, "embedding_dropout": 0.3},
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--timesteps", type=int, default=256)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("cases", nargs="*", help=f"Any of: {', '.join(CASES)} (default: all).")
    args = parser.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from lstmcli.backend.build import build_model
    from lstmcli.backend.fused import training_model
    from lstmcli.model.spec import ModelSpec

    rng = np.random.default_rng(0)
    x = rng.integers(1, 10000, (args.batch, args.timesteps)).astype("int32")
    y = rng.integers(0, 2, (args.batch, 1)).astype("float32")
    base = None
    print(f"{'case':14s} {'train step':>11s} {'x first':>8s} {'fused':>9s} {'gain':>6s}"
          f" {'predict':>9s} {'fused':>9s}")  # fmt: skip
    for name in args.cases or list(CASES):
        spec = ModelSpec(**{"mask_zero": True, **CASES[name]})
        layers = _time(build_model(spec, variable_length=True, seed=0), x, y, args.steps)
        base = base or layers[0]
        fused_model = training_model(build_model(spec, variable_length=True, seed=0), spec)
        fused = _time(fused_model, x, y, args.steps) if fused_model is not None else None
        row = f"{name:14s} {1000 * layers[0]:8.1f} ms {layers[0] / base:7.1f}x"
        if fused is None:
            row += f" {'-':>9s} {'-':>6s} {1000 * layers[1]:6.1f} ms {'-':>9s}"
        else:
            row += f" {1000 * fused[0]:6.1f} ms {layers[0] / fused[0]:5.2f}x"
            row += f" {1000 * layers[1]:6.1f} ms {1000 * fused[1]:6.1f} ms"
        print(row, flush=True)


def _time(model, x, y, steps: int) -> tuple[float, float]:
    """Seconds per training step and per prediction, after a warm-up (compiles)."""
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", jit_compile=True)
    model.train_on_batch(x, y)
    model.predict_on_batch(x)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    train = (time.perf_counter() - start) / steps
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(x)
    return train, (time.perf_counter() - start) / steps


if __name__ == "__main__":
    main()
