"""Start-up benchmark: `lstmcli --help` and `lstmcli shapes` (no TensorFlow) against
`python -c "import tensorflow"`, each run in a fresh process.

Usage: python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "lstmcli --help": [sys.executable, "-m", "lstmcli", "--help"],
    "lstmcli shapes --timesteps 8 --features 16 --stacked 3 --classes 10": [
        sys.executable, "-m", "lstmcli", "shapes", "--timesteps", "8", "--features", "16",
        "--stacked", "3", "--classes", "10",
    ],
    "lstmcli shapes --json": [sys.executable, "-m", "lstmcli", "shapes", "--json"],
    'python -c "import tensorflow"': [sys.executable, "-c", "import tensorflow"],
}  # fmt: skip


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results = {}
    for name, cmd in COMMANDS.items():
        wall(cmd)  # warm the file cache and .pyc files
        times = [wall(cmd) for _ in range(args.runs)]
        results[name] = statistics.median(times)
        print(f"{name:<72} median {results[name]:.3f} s  (min {min(times):.3f})")
    tf = results['python -c "import tensorflow"']
    for name, t in results.items():
        if "lstmcli" in name:
            print(f"{name:<72} {tf / t:5.1f}× faster than importing TensorFlow")


if __name__ == "__main__":
    main()
