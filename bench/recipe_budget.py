"""Benchmark: a recipe's whole run against a budget of N epochs of the plain lecture script.

Issue 15's budget: `lstmcli train imdb --recipe strong` must finish, everything included
(vectorising, pretraining if the recipe uses one, compiling, training, the test evaluation),
within the wall time of 20 epochs of the lecture's plain Keras script on the same machine, and
reach >= 90.0% test accuracy as a mean over 2 seeds. Machines here differ 2x from one session
to the next, so the budget is measured in the same invocation, never carried over.

In turn: the plain script (bench/train_vs_keras.py's, in a fresh process) for --plain-epochs
epochs, whose mean epoch time (training + validation) times --budget-epochs is the budget; then
for each seed `lstmcli train imdb --recipe R --seed S` in a fresh LSTMCLI_HOME (a cold start:
nothing vectorised, pretrained or compiled before), whose test accuracy is the one `train`
prints for the best-validation epoch.

Usage:
  python bench/recipe_budget.py --data ../shared/data/aclImdb_v1.tar.gz [--recipe strong]
         [--seeds 0,1] [--budget-epochs 20] [--plain-epochs 2] [--json OUT]
         [-- extra lstmcli train flags]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from imdb_run import train_imdb


def plain_epoch_seconds(data: str, epochs: int) -> dict[str, float]:
    """The lecture script's epochs, timed by train_vs_keras.py in a fresh process."""
    script = Path(__file__).with_name("train_vs_keras.py")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, str(script), "--plain-only", "--seed", "0", "--data", data,
               "--epochs", str(epochs), "--json", out.name]  # fmt: skip
        subprocess.run(cmd, check=True)
        return json.loads(Path(out.name).read_text())


def recipe_run(args: argparse.Namespace, seed: int, root: Path) -> dict[str, object]:
    """One cold `lstmcli train imdb --recipe R` (its own empty LSTMCLI_HOME), timed whole."""
    flags = ["--recipe", args.recipe, *args.extra]
    return train_imdb(args.data, flags, seed, root / f"home-{seed}", root / f"run-{seed}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("LSTMCLI_TEST_IMDB"))
    parser.add_argument("--recipe", default="strong")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--budget-epochs", type=int, default=20)
    parser.add_argument("--plain-epochs", type=int, default=2)
    parser.add_argument("--skip-plain", type=float, default=None, metavar="SECONDS",
                        help="Use this plain-script epoch time instead of measuring it.")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("extra", nargs="*", help="Extra flags for lstmcli train (after --).")
    args = parser.parse_args()
    if not args.data:
        raise SystemExit("--data ARCHIVE (or LSTMCLI_TEST_IMDB) is required")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.skip_plain:
        plain = {"epoch_seconds": [args.skip_plain]}
    else:
        plain = plain_epoch_seconds(args.data, args.plain_epochs)
    epoch = statistics.mean(plain["epoch_seconds"])
    budget = epoch * args.budget_epochs
    print(f"plain lecture script: epochs {plain['epoch_seconds']} s, mean {epoch:.1f} s; "
          f"budget {args.budget_epochs} epochs = {budget:.0f} s", flush=True)  # fmt: skip
    runs = []
    with tempfile.TemporaryDirectory(prefix="recipe-budget-") as root:
        for seed in seeds:
            r = recipe_run(args, seed, Path(root))
            runs.append(r)
            print(f"recipe {args.recipe} seed {seed}: wall {r['wall_s']:.0f} s "
                  f"({r['wall_s'] / budget:.2f} of the budget), epochs {r['epoch_seconds']}, "
                  f"val acc {r['val_accuracy']}, test acc {100 * r['test_accuracy']:.2f}%",
                  flush=True)  # fmt: skip
    accs = [float(r["test_accuracy"]) for r in runs]
    walls = [float(r["wall_s"]) for r in runs]
    print(f"\ntest accuracy over seeds {seeds}: mean {100 * statistics.mean(accs):.2f}%, "
          f"min {100 * min(accs):.2f}%, max {100 * max(accs):.2f}%")  # fmt: skip
    print(
        f"wall time: mean {statistics.mean(walls):.0f} s = "
        f"{statistics.mean(walls) / epoch:.1f} plain epochs (budget {args.budget_epochs})"
    )
    if args.json:
        args.json.write_text(json.dumps({"plain": plain, "budget_s": budget, "runs": runs}))


if __name__ == "__main__":
    main()
