"""One device against ``--strategy mirrored`` (2 logical CPU devices) and ``multi-worker``
(2 processes on 127.0.0.1) on this machine's CPU: seconds per epoch, samples/s, and how far
the trained weights are from single-device training with the same seed and global batch.

Usage: python bench/distribute_cpu.py [--dataset sample] [--limit 1000] [--epochs 2]
       [--global-batch 32] [--json OUT]

On one machine the replicas share the same cores, so this measures the cost of the
machinery (splitting batches, summing gradients, no XLA), not a speed-up.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODEL = ["--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "40"]


def run(args: list[str], outputs: list[Path], env_per: list[dict[str, str]], home: Path) -> float:
    start = time.perf_counter()
    procs = []
    for out, extra in zip(outputs, env_per, strict=True):
        env = {**os.environ, "LSTMCLI_HOME": str(home), **extra}
        cmd = [sys.executable, "-m", "lstmcli", "train", *args, "--output", str(out), "--json"]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            sys.exit(err.decode()[-2000:])
    return time.perf_counter() - start


def weights(run_dir: Path) -> list[np.ndarray]:
    from lstmcli.backend.modelfile import load_model

    return load_model(run_dir / "model.keras").get_weights()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="sample")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--global-batch", type=int, default=32)
    parser.add_argument("--json", type=Path)
    a = parser.parse_args()
    base = [a.dataset, *MODEL, "--limit", str(a.limit), "--epochs", str(a.epochs), "--seed", "0"]
    half = str(a.global_batch // 2)
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cluster = [f"127.0.0.1:{p}" for p in ports]
    tf_config = [{"TF_CONFIG": json.dumps({"cluster": {"worker": cluster},
                                           "task": {"type": "worker", "index": i}})} for i in range(2)]  # fmt: skip
    setups = {
        "one device, XLA": ([*base, "--batch-size", str(a.global_batch), "--strategy", "one"], 1),
        "one device, no XLA": ([*base, "--batch-size", str(a.global_batch), "--strategy", "one", "--no-xla"], 1),
        "mirrored, 2 CPU devices": ([*base, "--batch-size", half, "--strategy", "mirrored", "--cpu-devices", "2"], 1),
        "multi-worker, 2 processes": ([*base, "--batch-size", half, "--strategy", "multi-worker"], 2),
    }  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        run([*base, "--batch-size", "32", "--epochs", "1"], [Path(tmp) / "warm"], [{}], home)
        for i, (name, (args, procs)) in enumerate(setups.items()):
            outs = [Path(tmp) / f"run{i}-{k}" for k in range(procs)]
            wall = run(args, outs, tf_config if procs == 2 else [{}], home)
            hist = list(csv.DictReader((outs[0] / "history.csv").open()))
            rows.append({"setup": name, "wall_s": round(wall, 1),
                         "epoch_s": [float(r["seconds"]) for r in hist],
                         "samples_per_s": [float(r["samples_per_s"]) for r in hist],
                         "val_accuracy": float(hist[-1]["val_accuracy"]), "run": outs[0]})  # fmt: skip
        ref = weights(rows[0]["run"])
        for r in rows:
            w = weights(r.pop("run"))
            r["max_weight_diff"] = max(
                float(np.abs(x - y).max()) for x, y in zip(w, ref, strict=True)
            )
    for r in rows:
        print(f"{r['setup']:<28} epochs {r['epoch_s']} s, samples/s {r['samples_per_s']}, "
              f"val acc {r['val_accuracy']:.4f}, wall {r['wall_s']} s, "
              f"max |Δw| vs one device {r['max_weight_diff']:.2e}")  # fmt: skip
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
