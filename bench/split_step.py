"""Benchmark: Keras's compiled training step against backend/split_step.py's, in one part
and in two (one per core), for the models `train` builds.

Each model is built and compiled as `train` builds it on a CPU (masked token input, the
fused graph where there is one, RMSprop, XLA), three times: Keras's step, the split step
with one part, with two. Each arm is warmed up on every batch shape, then the arms take
turns: `--rounds` rounds of `--steps` `train_on_batch` calls on one fixed batch of random
ids (batch 32 by default) per length; the median of the rounds is printed, in ms per step,
and Keras's time over each split arm's. Only the ratios carry over between machines.

Usage:
  python bench/split_step.py [--batch 32] [--timesteps 128,256,500] [--rounds 5]
         [--steps 10] [CASE ...]
Cases: lstm (the lecture's), gru, 3xlstm, bilstm, bilstm-pool.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

CASES = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "3xlstm": {"units": (32, 32, 32)},
    "bilstm": {"bidirectional": True},
    "bilstm-pool": {"bidirectional": True, "pool": "max+mean"},
}


def arms(spec: object) -> dict[str, object]:
    from lstmcli.backend import split_step
    from lstmcli.backend.build import build_model
    from lstmcli.backend.fused import training_model
    from lstmcli.train.config import TrainConfig
    from lstmcli.train.trainer import compile_model

    built = {}
    for name, parts in (("keras", 0), ("split 1", 1), ("split 2", 2)):
        model = build_model(spec, variable_length=True, seed=0)
        model = training_model(model, spec) or model
        compile_model(model, spec, TrainConfig(xla=True), steps_per_epoch=1000)
        if parts:
            split_step.install(model, spec.classes, parts)
        built[name] = model
    return built


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--timesteps", default="128,256,500")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("cases", nargs="*", help=f"Any of: {', '.join(CASES)} (default: lstm).")
    args = parser.parse_args()
    cases = args.cases or ["lstm"]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from lstmcli.model.spec import ModelSpec

    lengths = [int(t) for t in args.timesteps.split(",")]
    rng = np.random.default_rng(0)
    data = {}
    for t in lengths:
        x = rng.integers(1, 10000, (args.batch, t)).astype("int32")
        x[: args.batch // 4, : t // 3] = 0  # a quarter of the rows padded at the front
        data[t] = (x, rng.integers(0, 2, (args.batch, 1)).astype("float32"))
    print(f"{'case':12s} {'T':>4s} {'keras ms':>9s} {'split 1':>8s} {'split 2':>8s} "
          f"{'gain 1':>7s} {'gain 2':>7s}")  # fmt: skip
    for case in cases:
        models = arms(ModelSpec(mask_zero=True, **CASES[case]))
        for model in models.values():
            for x, y in data.values():
                for _ in range(3):
                    model.train_on_batch(x, y)
        times: dict[tuple[str, int], list[float]] = {}
        for _ in range(args.rounds):
            for t, (x, y) in data.items():
                for name, model in models.items():
                    start = time.perf_counter()
                    for _ in range(args.steps):
                        model.train_on_batch(x, y)
                    ms = (time.perf_counter() - start) / args.steps * 1000
                    times.setdefault((name, t), []).append(ms)
        for t in lengths:
            k, s1, s2 = (statistics.median(times[(n, t)]) for n in models)
            print(f"{case:12s} {t:4d} {k:9.2f} {s1:8.2f} {s2:8.2f} {k / s1:6.2f}× {k / s2:6.2f}×")


if __name__ == "__main__":
    main()
