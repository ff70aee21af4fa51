"""GPU check: is the GPU seen and used, and what does it buy? (under 5 minutes on a GPU host)

1. ``lstmcli doctor --json``: TensorFlow's devices, its CUDA/cuDNN build, and whether cuDNN
   will run the recurrent layers. Stops here (exit 2) when no GPU is seen.
2. One epoch of the lecture LSTM (Embedding(10000, 32) → LSTM(32) → Dense(1), 500 tokens,
   RMSprop, batch 32) on the IMDB archive with ``--device gpu`` (cuDNN, padding at the end of
   each text, no XLA) and with ``--device cpu`` (Keras's loop, front padding, XLA), each in
   its own process with the vectorised data cached by the first.
3. The model trained on the GPU evaluated again with ``--device cpu``: a model file must not
   depend on the device or padding layout it was trained with, so the accuracy must agree.

Prints training samples/s, test accuracy and evaluation samples/s for both, and the ratio.

Usage: python bench/gpu_check.py --data aclImdb_v1.tar.gz [--limit N] [--json OUT]
(``--limit N`` trains both on N reviews, if the CPU epoch would take too long.)

Status: written on a machine without a GPU; it has NOT been run on one yet.
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


def lstmcli(*args: str, env: dict[str, str]) -> tuple[dict, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lstmcli", *args, "--json"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        sys.exit(
            f"lstmcli {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}"
        )
    return json.loads(proc.stdout), seconds


def check_gpu(env: dict[str, str]) -> dict:
    doc, _ = lstmcli("doctor", env=env)
    gpus = [d["name"] for d in doc["devices"] if d["type"] == "GPU"]
    build = doc["build"]
    print(f"TensorFlow {doc['packages']['tensorflow']['imported']}: CUDA build "
          f"{build.get('is_cuda_build')}, CUDA {build.get('cuda_version')}, cuDNN {build.get('cudnn_version')}")  # fmt: skip
    print(f"GPUs seen: {', '.join(gpus) or 'none'}")
    for p in doc["problems"] + doc["notes"]:
        print(f"  {p}")
    if not gpus:
        print("No GPU: install lstmcli[gpu] (Linux x86-64) and check nvidia-smi.")
        sys.exit(2)
    d = doc["defaults"]
    print(f"lstmcli train will use: cuDNN {d['cudnn']}, XLA {d['xla_train']} ({d['xla_why']}), "
          f"padding at the {d['padding']}")  # fmt: skip
    return doc


def train(device: str, args: argparse.Namespace, out: Path, env: dict[str, str]) -> dict:
    flags = ["train", "imdb", "--data", str(args.data), "--epochs", "1", "--device", device,
             "--strategy", "one", "--output", str(out / device)]  # fmt: skip
    if args.limit:
        flags += ["--limit", str(args.limit)]
    doc, wall = lstmcli(*flags, env=env)
    m = doc["metrics"]
    row = {"device": device, "train_samples_per_s": doc["history"][0]["samples_per_s"],
           "epoch_seconds": doc["history"][0]["seconds"], "test_accuracy": m["accuracy"],
           "eval_samples_per_s": m["eval_samples_per_s"], "wall_seconds": round(wall, 1)}  # fmt: skip
    print(f"{device}: {row['train_samples_per_s']:,.0f} training samples/s "
          f"({row['epoch_seconds']:.1f} s epoch, compile included), test accuracy "
          f"{row['test_accuracy']:.4f}, {row['eval_samples_per_s']:,.0f} evaluation samples/s, "
          f"{wall:.0f} s in all")  # fmt: skip
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="aclImdb_v1.tar.gz or its folder")
    parser.add_argument("--limit", type=int, default=None, help="train on N reviews")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        env = {**os.environ, "LSTMCLI_HOME": os.environ.get("LSTMCLI_HOME", str(out / "home"))}
        env.pop("TF_CONFIG", None)
        doctor = check_gpu(env)
        rows = [train("gpu", args, out, env), train("cpu", args, out, env)]
        again, _ = lstmcli("evaluate", str(out / "gpu"), "--device", "cpu", env=env)
    gpu, cpu = rows
    print(f"GPU/CPU training speed: {gpu['train_samples_per_s'] / cpu['train_samples_per_s']:.1f}×")
    drift = abs(again["accuracy"] - gpu["test_accuracy"])
    print(f"GPU-trained model evaluated on the CPU: accuracy {again['accuracy']:.4f} "
          f"(GPU: {gpu['test_accuracy']:.4f}, difference {drift:.4f})")  # fmt: skip
    ok = drift <= 0.002 and gpu["test_accuracy"] > 0.6
    print("OK" if ok else "FAILED: see above")
    if args.json:
        doc = {"doctor": doctor, "runs": rows, "gpu_model_on_cpu": again["accuracy"], "ok": ok}
        args.json.write_text(json.dumps(doc, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
