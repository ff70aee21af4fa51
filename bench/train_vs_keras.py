"""Benchmark: the lecture's plain Keras script against `lstmcli train imdb`, same data and epochs.

Both run one after the other in this invocation: first the plain script in this process
(TextVectorization, pad_sequences to 500, Embedding → RNN → Dense, RMSprop, batch 32),
then `lstmcli train imdb` in a subprocess with a cold cache. Printed for both: training
samples/s, evaluation samples/s, end-to-end wall time, test accuracy, and the ratios.

Usage:
  python bench/train_vs_keras.py --data ../shared/data/aclImdb_v1.tar.gz [--epochs 3]
         [--cell lstm|gru|simplernn] [--bidirectional] [--stacked N] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def plain_keras(args: argparse.Namespace) -> dict[str, float]:
    """The lecture's script, written as a user would write it by hand."""
    start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from lstmcli.data.datasets import load_labelled

    keras.utils.set_random_seed(args.seed)
    data = load_labelled("imdb", data=Path(args.data), seed=args.seed, limit=args.limit)
    vectorizer = keras.layers.TextVectorization(max_tokens=10000, ragged=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(data.train.texts).batch(1024))

    def ids(texts: list[str]) -> np.ndarray:
        seqs = [r.numpy().tolist() for r in vectorizer(tf.constant(texts))]
        return keras.utils.pad_sequences(seqs, maxlen=500)

    x_train, x_val, x_test = ids(data.train.texts), ids(data.val.texts), ids(data.test.texts)
    y_train, y_val, y_test = (s.labels.astype("float32") for s in (data.train, data.val, data.test))
    cell = {
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
        "simplernn": keras.layers.SimpleRNN,
    }[args.cell]
    model = keras.Sequential([keras.Input((500,)), keras.layers.Embedding(10000, 32)])
    for i in range(args.stacked):
        layer = cell(32, return_sequences=i < args.stacked - 1)
        model.add(keras.layers.Bidirectional(layer) if args.bidirectional else layer)
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_test_begin(self, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val),
              callbacks=[Timer()], verbose=0)  # fmt: skip
    t = time.perf_counter()
    _, acc = model.evaluate(x_test, y_test, batch_size=32, verbose=0)
    eval_s = time.perf_counter() - t
    later = times[1:] or times  # epochs after the first: no tracing or compiling
    return {
        "train_samples_per_s": len(x_train) * len(times) / sum(times),
        "steady_train_samples_per_s": len(x_train) * len(later) / sum(later),
        "epoch_seconds": [round(t, 1) for t in times],
        "eval_samples_per_s": len(x_test) / eval_s,
        "wall_s": time.perf_counter() - start,
        "test_accuracy": float(acc),
    }


def lstmcli_run(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        cmd = [sys.executable, "-m", "lstmcli", "train", "imdb", "--data", args.data,
               "--epochs", str(args.epochs), "--seed", str(args.seed), "--cell", args.cell,
               "--stacked", str(args.stacked), "--output", str(Path(home) / "run"), "--json"]  # fmt: skip
        if args.bidirectional:
            cmd.append("--bidirectional")
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        cmd += args.extra
        env = {**os.environ, "LSTMCLI_HOME": home}
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"lstmcli failed ({proc.returncode}): {proc.stderr[-2000:]}")
        report = json.loads(proc.stdout)
        metrics, history = report["metrics"], report["history"]
    later = history[1:] or history  # epoch 1 includes compiling one XLA program per bucket
    return {
        "train_samples_per_s": metrics["train_samples_per_s"],
        "steady_train_samples_per_s": sum(r["samples_per_s"] * r["seconds"] for r in later)
        / sum(r["seconds"] for r in later),
        "epoch_seconds": [r["seconds"] for r in history],
        "eval_samples_per_s": metrics["eval_samples_per_s"],
        "wall_s": wall,
        "test_accuracy": metrics["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("LSTMCLI_TEST_IMDB"), required=False)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "simplernn"])
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--stacked", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-keras", action="store_true", help="Only run lstmcli.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    parser.add_argument("extra", nargs="*", help="Extra flags for lstmcli train (after --).")
    args = parser.parse_args()
    if not args.data:
        raise SystemExit(
            "give --data PATH (the aclImdb_v1.tar.gz archive) or set LSTMCLI_TEST_IMDB"
        )
    results = {"lstmcli": lstmcli_run(args)}
    if not args.skip_keras:
        results = {"keras": plain_keras(args), **results}
    keys = ["train_samples_per_s", "eval_samples_per_s", "wall_s", "test_accuracy"]
    for name, r in results.items():
        print(f"{name}: seconds per epoch {r['epoch_seconds']}; epochs 2+ at "
              f"{r['steady_train_samples_per_s']:.0f} samples/s")  # fmt: skip
    if "keras" in results:
        steady = [results[n]["steady_train_samples_per_s"] for n in ("lstmcli", "keras")]
        print(f"steady-state training ratio (epochs 2+): {steady[0] / steady[1]:.2f}×")
    print(f"{'':<10}" + "".join(f"{k:>22}" for k in keys))
    for name, r in results.items():
        print(f"{name:<10}" + "".join(f"{r[k]:>22.4f}" for k in keys))
    if "keras" in results:
        k, lc = results["keras"], results["lstmcli"]
        print(f"{'ratio':<10}{lc[keys[0]] / k[keys[0]]:>21.2f}×{lc[keys[1]] / k[keys[1]]:>21.2f}×"
              f"{k['wall_s'] / lc['wall_s']:>21.2f}×{lc[keys[3]] - k[keys[3]]:>+22.4f}")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, **results}, indent=2)
        )


if __name__ == "__main__":
    main()
