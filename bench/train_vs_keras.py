"""Benchmark: the lecture's plain Keras script against `lstmcli train imdb` + `lstmcli evaluate`,
same data, same epochs, same seeds, all in one invocation (only ratios measured in one run
carry over: machines here differ 2× from one session to the next).

For each seed, in turn: the plain script in a fresh process (TextVectorization,
pad_sequences to 500, Embedding → RNN → Dense, RMSprop, batch 32, model.evaluate); then
`lstmcli train imdb` with the default flags and `lstmcli evaluate` on its run. lstmcli runs
with one cache folder for the whole benchmark: the first seed starts cold (no vectorised
data, no compiled XLA programs) and is then repeated warm (both cached); later seeds find
the XLA programs cached but vectorise their own split. End to end = the plain script's whole
run against lstmcli's train + evaluate.

Printed: per seed the wall times, training and evaluation samples/s and test accuracies;
then per arm the mean ± spread (sample standard deviation; min–max) of test accuracy, and
the ratios.

Usage:
  python bench/train_vs_keras.py --data ../shared/data/aclImdb_v1.tar.gz [--epochs 3]
         [--seeds 0,1,2] [--cell lstm|gru|simplernn] [--bidirectional] [--stacked N]
         [--limit N] [--skip-keras] [--json OUT] [-- extra lstmcli train flags]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

        def on_epoch_end(self, epoch, logs=None):
            self.end = time.perf_counter()

    timer = Timer()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val),
              callbacks=[timer], verbose=0)  # fmt: skip
    # fit returns only once its tf.data iterator is deleted, which can wait for the
    # autotuning thread (bench/tfdata_teardown.py): shown so that a stalled run is seen.
    teardown = time.perf_counter() - timer.end
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
        "fit_teardown_s": round(teardown, 2),
    }


def lstmcli_run(args: argparse.Namespace, seed: int, home: Path) -> dict[str, float]:
    """`lstmcli train imdb` then `lstmcli evaluate` on its run, as a user would type them."""
    out = home / f"run-{seed}-{time.monotonic_ns()}"
    lstm = [sys.executable, "-m", "lstmcli"]
    cmd = [*lstm, "train", "imdb", "--data", args.data, "--epochs", str(args.epochs),
           "--seed", str(seed), "--output", str(out), "--json"]  # fmt: skip
    if args.cell != "lstm":
        cmd += ["--cell", args.cell]
    if args.stacked != 1:
        cmd += ["--stacked", str(args.stacked)]
    if args.bidirectional:
        cmd.append("--bidirectional")
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    cmd += args.extra
    env = {**os.environ, "LSTMCLI_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    train_wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"lstmcli failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    ev = subprocess.run([*lstm, "evaluate", str(out), "--json"], env=env, capture_output=True,
                        text=True)  # fmt: skip
    wall = time.perf_counter() - start
    if ev.returncode != 0:
        raise SystemExit(f"lstmcli evaluate failed ({ev.returncode}): {ev.stderr[-2000:]}")
    evaluated = json.loads(ev.stdout)
    metrics, history = report["metrics"], report["history"]
    later = history[1:] or history  # epoch 1 includes compiling the XLA programs
    return {
        "train_samples_per_s": metrics["train_samples_per_s"],
        "steady_train_samples_per_s": sum(r["samples_per_s"] * r["seconds"] for r in later)
        / sum(r["seconds"] for r in later),
        "epoch_seconds": [r["seconds"] for r in history],
        "val_accuracy": [round(r["val_accuracy"], 4) for r in history],
        "eval_samples_per_s": evaluated["eval_samples_per_s"],
        "train_wall_s": train_wall,
        "wall_s": wall,
        "test_accuracy": evaluated["accuracy"],
    }


def plain_run(args: argparse.Namespace, seed: int) -> dict[str, float]:
    """The plain script in a fresh process (so no TensorFlow state carries over)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, __file__, "--plain-only", "--seed", str(seed), "--data", args.data,
               "--epochs", str(args.epochs), "--cell", args.cell, "--stacked", str(args.stacked),
               "--json", out.name]  # fmt: skip
        if args.bidirectional:
            cmd.append("--bidirectional")
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        subprocess.run(cmd, check=True)
        return json.loads(Path(out.name).read_text())


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * mean:.2f} ± {100 * sd:.2f} ({100 * min(values):.2f}–{100 * max(values):.2f})"


def summarise(runs: dict[str, list[dict[str, float]]], warm: dict[str, float] | None) -> None:
    plain, ours = runs.get("keras", []), runs["lstmcli"]
    print("\nseed-by-seed:")
    for name, rows in runs.items():
        for seed, r in zip(SEEDS, rows, strict=False):
            print(f"  {name:<8} seed {seed}: wall {r['wall_s']:7.1f} s, epochs {r['epoch_seconds']}, "
                  f"train {r['train_samples_per_s']:7.0f}/s, eval {r['eval_samples_per_s']:7.0f}/s, "
                  f"test acc {100 * r['test_accuracy']:.2f}%"
                  + (f", after the last epoch {r['fit_teardown_s']:.1f} s" if "fit_teardown_s" in r else ""))  # fmt: skip
    if warm:
        print(f"  lstmcli  seed {SEEDS[0]} again, caches warm: wall {warm['wall_s']:.1f} s, "
              f"epochs {warm['epoch_seconds']}")  # fmt: skip
    print(f"\ntest accuracy, mean ± sd (min–max) over seeds {SEEDS}:")
    for name, rows in runs.items():
        print(f"  {name:<8} {spread([r['test_accuracy'] for r in rows])}")
    if not plain:
        return
    mean = statistics.mean
    wall_k = mean(r["wall_s"] for r in plain)
    print("\nratios (plain / lstmcli for times, lstmcli / plain for rates):")
    print(
        f"  end to end, cold cache (seed {SEEDS[0]}): {plain[0]['wall_s'] / ours[0]['wall_s']:.2f}×"
    )
    if warm:
        print(
            f"  end to end, warm caches (seed {SEEDS[0]}): {plain[0]['wall_s'] / warm['wall_s']:.2f}×"
        )
    print(f"  end to end, mean over seeds: {wall_k / mean(r['wall_s'] for r in ours):.2f}×")
    for key in ("train_samples_per_s", "steady_train_samples_per_s", "eval_samples_per_s"):
        ratio = mean(r[key] for r in ours) / mean(r[key] for r in plain)
        print(f"  {key.replace('_', ' ')}: {ratio:.2f}×")


SEEDS: list[int] = []


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("LSTMCLI_TEST_IMDB"), required=False)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0", help="Comma-separated seeds, e.g. 0,1,2.")
    parser.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "simplernn"])
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--stacked", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-keras", action="store_true", help="Only run lstmcli.")
    parser.add_argument("--no-warm", action="store_true", help="Skip the warm-cache repeat.")
    parser.add_argument("--plain-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    parser.add_argument("extra", nargs="*", help="Extra flags for lstmcli train (after --).")
    args = parser.parse_args()
    if not args.data:
        raise SystemExit(
            "give --data PATH (the aclImdb_v1.tar.gz archive) or set LSTMCLI_TEST_IMDB"
        )
    if args.plain_only:  # the child process of plain_run
        args.seed = args.seed or 0
        args.json.write_text(json.dumps(plain_keras(args)))
        return
    SEEDS[:] = [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[dict[str, float]]] = {"lstmcli": []}
    if not args.skip_keras:
        runs = {"keras": [], **runs}
    warm = None
    with tempfile.TemporaryDirectory() as home:
        for seed in SEEDS:
            if not args.skip_keras:
                runs["keras"].append(plain_run(args, seed))
            runs["lstmcli"].append(lstmcli_run(args, seed, Path(home)))
            if seed == SEEDS[0] and not args.no_warm:
                warm = lstmcli_run(args, seed, Path(home))
            summarise(runs, warm)
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "runs": runs, "warm": warm}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
