"""Experiment: does a pretrained, frozen embedding help the lecture LSTM on little labelled data?

Arms (each trained with `lstmcli train imdb` in a subprocess, one after the other):
  scratch   Embedding learned from the labelled reviews only (the lecture's setup)
  frozen    Embedding set from word vectors pretrained on the unlabelled + training reviews
            (`lstmcli pretrain imdb`), then kept fixed (--freeze-embedding)
  finetune  the same start, trained further (--fine-tune-embedding); only with --arms

Every arm runs once per seed; printed: test accuracy per seed, mean, standard deviation
and range per arm, and the difference of the means. The pretraining never sees a test
review (`read_unlabelled` reads train/unsup and train/{pos,neg} only).

Usage:
  python bench/pretrain_experiment.py --data ../shared/data/aclImdb_v1.tar.gz
         [--vectors imdb32.vec] [--pretrain-vocab 30000] [--seeds 0 1 2] [--limit 2000] [--epochs 10]
         [--batch-size 128] [--eval-limit N] [--arms scratch frozen] [--workdir DIR]
         [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LSTMCLI = [sys.executable, "-m", "lstmcli"]
ARM_FLAGS = {
    "scratch": [],
    "frozen": ["--freeze-embedding"],
    "finetune": ["--fine-tune-embedding"],
}


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def need_train() -> None:
    probe = run([*LSTMCLI, "train", "--help"])
    if probe.returncode != 0:
        sys.exit("`lstmcli train` is not available yet; nothing to compare")
    if "--embedding-from" not in probe.stdout:
        sys.exit("`lstmcli train` has no --embedding-from flag yet; nothing to compare")


def pretrain(args: argparse.Namespace, vectors: Path) -> float:
    cmd = [
        *LSTMCLI,
        "pretrain",
        "imdb",
        "--data",
        str(args.data),
        "--dim",
        str(args.dim),
        "--vocab",
        str(args.pretrain_vocab),
        "--seed",
        "0",
        "-o",
        str(vectors),
        "--json",
    ]
    start = time.perf_counter()
    done = run(cmd)
    if done.returncode != 0:
        sys.exit(f"pretraining failed:\n{done.stderr.strip()}")
    info = json.loads(done.stdout)
    print(
        f"  pretrained {info['words']:,} words × {info['dim']} on {info['texts']:,} texts "
        f"in {info['seconds']:.0f} s (loss {info['loss']:.3f})",
        flush=True,
    )
    return time.perf_counter() - start


def train(args: argparse.Namespace, arm: str, seed: int, vectors: Path, workdir: Path) -> dict:
    out = workdir / f"{arm}-seed{seed}"
    cmd = [
        *LSTMCLI,
        "train",
        "imdb",
        "--data",
        str(args.data),
        "--limit",
        str(args.limit),
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(seed),
        "--embed-dim",
        str(args.dim),
        "--output",
        str(out),
        "--json",
    ]
    if args.eval_limit:
        cmd += ["--eval-limit", str(args.eval_limit)]
    if arm != "scratch":
        cmd += ["--embedding-from", str(vectors), *ARM_FLAGS[arm]]
    start = time.perf_counter()
    done = run(cmd)
    if done.returncode != 0:
        sys.exit(f"training failed ({arm}, seed {seed}):\n{done.stderr.strip()}")
    info = json.loads(done.stdout)
    metrics = info["metrics"]
    row = {
        "arm": arm,
        "seed": seed,
        "accuracy": metrics["accuracy"],
        "split": metrics.get("split", "test"),
        "n": metrics.get("n"),
        "best_epoch": metrics.get("best_epoch"),
        "seconds": time.perf_counter() - start,
        "run": str(out),
    }
    print(
        f"  {arm:<8} seed {seed}: {row['split']} accuracy {row['accuracy']:.4f} "
        f"(n={row['n']}, best epoch {row['best_epoch']}, {row['seconds']:.0f} s)",
        flush=True,
    )
    return row


def summarise(rows: list[dict], arms: list[str]) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    print()
    print(f"{'arm':<9} {'mean':>7} {'std':>7} {'min':>7} {'max':>7}  per seed")
    for arm in arms:
        acc = [r["accuracy"] for r in rows if r["arm"] == arm]
        std = statistics.stdev(acc) if len(acc) > 1 else 0.0
        stats[arm] = {"mean": statistics.fmean(acc), "std": std, "min": min(acc), "max": max(acc)}
        s = stats[arm]
        per = " ".join(f"{a:.4f}" for a in acc)
        print(
            f"{arm:<9} {s['mean']:>7.4f} {s['std']:>7.4f} {s['min']:>7.4f} {s['max']:>7.4f}  {per}"
        )
    if "scratch" in stats:
        for arm in arms:
            if arm != "scratch":
                diff = stats[arm]["mean"] - stats["scratch"]["mean"]
                print(f"{arm} − scratch: {diff:+.4f} accuracy (mean over seeds)")
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="aclImdb_v1.tar.gz or its folder")
    ap.add_argument("--vectors", type=Path, help=".vec to use (pretrained first if missing)")
    ap.add_argument("--dim", type=int, default=32, help="embedding width (lecture: 32)")
    ap.add_argument(
        "--pretrain-vocab",
        type=int,
        default=30000,
        help="words to pretrain: more than train's 10,000, whose vocabulary comes from the "
        "--limit labelled reviews and holds words rarer in the whole corpus",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--limit", type=int, default=2000, help="labelled training reviews")
    ap.add_argument("--epochs", type=int, default=10, help="lecture: 10")
    ap.add_argument("--batch-size", type=int, default=128, help="lecture: 128")
    ap.add_argument("--eval-limit", type=int, help="cap validation and test (default: all)")
    ap.add_argument("--arms", nargs="+", default=["scratch", "frozen"], choices=list(ARM_FLAGS))
    ap.add_argument("--workdir", type=Path, help="where the runs go (default: a temp folder)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    need_train()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lstmcli-pretrain-exp-"))
    workdir.mkdir(parents=True, exist_ok=True)
    existing = [p for p in workdir.iterdir() if p.name.split("-seed")[0] in ARM_FLAGS]
    if existing:
        sys.exit(f"{workdir} already holds runs ({existing[0].name}…); give an empty --workdir")
    vectors = args.vectors or workdir / f"imdb{args.dim}.vec"
    pretrain_s = None
    if any(a != "scratch" for a in args.arms) and not vectors.exists():
        pretrain_s = pretrain(args, vectors)
    rows = [train(args, arm, seed, vectors, workdir) for seed in args.seeds for arm in args.arms]
    stats = summarise(rows, args.arms)
    if args.json:
        doc = {
            "settings": {k: str(v) for k, v in vars(args).items()},
            "vectors": str(vectors),
            "pretrain_seconds": pretrain_s,
            "runs": rows,
            "stats": stats,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
