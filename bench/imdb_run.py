"""One `lstmcli train imdb ... --json` in a fresh process, timed whole: the run the recipe and
time-to-accuracy benchmarks are made of."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def train_imdb(data: str, flags: list[str], seed: int, home: Path, out: Path) -> dict[str, object]:
    """Wall time, per-epoch seconds and validation accuracy, and the test accuracy of the
    best-validation epoch, of `lstmcli train imdb` with ``flags`` in LSTMCLI_HOME ``home``."""
    cmd = [sys.executable, "-m", "lstmcli", "train", "imdb", "--data", data, "--seed", str(seed),
           "--output", str(out), "--json", *flags]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env={**os.environ, "LSTMCLI_HOME": str(home)}, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    history = report["history"]
    return {
        "seed": seed,
        "wall_s": round(wall, 1),
        "epoch_seconds": [r["seconds"] for r in history],
        "val_accuracy": [round(r["val_accuracy"], 4) for r in history],
        "test_accuracy": report["metrics"]["accuracy"],
    }
