"""Benchmark: how long deleting a tf.data iterator takes, with and without autotuning.

``tf.data``'s autotuner runs in a thread of the iterator that sleeps between its passes for a
period that doubles (10 ms, 20 ms, ... up to 60 s in TensorFlow 2.21). Deleting the iterator
waits for that thread, and the wait is not always cut short: the end of a ``fit`` whose
pipeline was autotuned could stall for most of a minute (37-41 s after the last epoch of the
lecture LSTM in 5 of 11 runs). lstmcli builds its pipelines without autotuning
(``backend/tf.untuned``); this script shows the effect on a bare pipeline.

Usage:
  python bench/tfdata_teardown.py [--seconds 3] [--trials 5]
Each trial pulls elements (5 ms apart, like a training step) for ``--seconds``, then deletes
the iterator and times the deletion; printed per arm: every deletion time and the longest.
"""

from __future__ import annotations

import argparse
import os
import time


def trial(tf: object, autotune: bool, seconds: float) -> float:
    ds = tf.data.Dataset.range(10**9)
    ds = ds.map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE if autotune else 2)
    options = tf.data.Options()
    options.autotune.enabled = autotune
    ds = ds.with_options(options).prefetch(tf.data.AUTOTUNE if autotune else 2)
    it = iter(ds)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(it)
        time.sleep(0.005)
    start = time.perf_counter()
    del it
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    for autotune in (True, False):
        times = [trial(tf, autotune, args.seconds) for _ in range(args.trials)]
        shown = " ".join(f"{t:.2f}" for t in times)
        print(
            f"autotune {'on ' if autotune else 'off'}: delete took {shown} s (longest {max(times):.2f} s)"
        )


if __name__ == "__main__":
    main()
