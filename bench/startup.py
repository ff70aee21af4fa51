"""Start-up benchmark: `lstmcli --help` and `lstmcli shapes` (no TensorFlow) against a
hello-world two-command Typer app's `--help`, as ratios (absolute times differ 2× between
machines; a ratio measured in one run carries over).

Every command runs in a fresh process; the commands are taken in turn (A, B, C, A, B, C, …)
so that a change in the machine's speed hits them alike; each figure is the median of --runs.

Usage: python bench/startup.py [--runs 7] [--with-tensorflow]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    """Say hello."""
    print(f"Hello {name}")


@app.command()
def goodbye(name: str) -> None:
    """Say goodbye."""
    print(f"Goodbye {name}")


if __name__ == "__main__":
    app()
'''

# The goals of the issue on start-up: ratios against the hello-world app's --help.
GOALS = {"lstmcli --help": 1.2, "lstmcli shapes --timesteps 8": 1.4}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--with-tensorflow", action="store_true",
                        help='Also time python -c "import tensorflow".')  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO, encoding="utf-8")
        lstmcli = [sys.executable, "-m", "lstmcli"]
        commands = {
            "hello-world Typer --help": [sys.executable, str(hello), "--help"],
            "lstmcli --help": [*lstmcli, "--help"],
            "lstmcli shapes --timesteps 8": [*lstmcli, "shapes", "--timesteps", "8"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        if args.with_tensorflow:
            commands['python -c "import tensorflow"'] = [sys.executable, "-c", "import tensorflow"]
        for cmd in commands.values():
            wall(cmd)  # warm the file cache and the .pyc files
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(wall(cmd))
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["hello-world Typer --help"]
    for name, t in medians.items():
        goal = f"  (goal ≤ {GOALS[name]}×)" if name in GOALS else ""
        print(f"{name:<34} median {t:.3f} s  min {min(times[name]):.3f}  "
              f"{t / base:5.2f}× hello-world{goal}")  # fmt: skip


if __name__ == "__main__":
    main()
