"""Training on several devices and machines, tried on this CPU: ``mirrored`` over 2 logical
CPU devices and ``multi-worker`` with 2 processes on 127.0.0.1.

Each trains one epoch of a small model on a slice of the sample set, in fresh processes
(TensorFlow fixes its devices and cluster when it starts). Both must finish, the chief's run
folder must hold the model and history and evaluate above chance, no other worker may
write into it, and the weights must equal single-device training with the same seed and
global batch (to ``ATOL``: the replicas sum their gradients in another order). A worker
killed mid-epoch stops the cluster with one line; every worker restarted with ``--resume``
finishes the run, with the weights of a run never interrupted.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
GLOBAL_BATCH = 16
ARGS = ["--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "40", "--limit", "1000",
        "--optimizer", "adam", "--lr", "0.01", "--epochs", "1"]  # fmt: skip
ATOL = 1e-5
RUN_FILES = {"spec.json", "vocabulary.txt", "model.keras", "history.csv", "metrics.json",
             "learning_curve.png", "checkpoints"}  # fmt: skip


def lstmcli(*args: str, home: Path, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    full = {**os.environ, "LSTMCLI_HOME": str(home), "COLUMNS": "200"}
    full.pop("TF_CONFIG", None)
    full.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "lstmcli", *args], env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # fmt: skip


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out, err


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})  # fmt: skip


def weights(run: Path) -> list[np.ndarray]:
    from lstmcli.backend.modelfile import load_model

    return load_model(run / "model.keras").get_weights()


def max_difference(a: Path, b: Path) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(weights(a), weights(b), strict=True))


def start_workers(ports: list[int], outputs: list[Path], args: list[str], home: Path,
                  tmp: Path) -> list[subprocess.Popen]:  # fmt: skip
    procs = []
    for i, out in enumerate(outputs):
        env = {"TF_CONFIG": tf_config(ports, i), "TMPDIR": str(tmp / f"tmp{i}")}
        (tmp / f"tmp{i}").mkdir(exist_ok=True)
        procs.append(lstmcli("train", "sample", *args, "--strategy", "multi-worker",
                             "--output", str(out), home=home, env=env))  # fmt: skip
    return procs


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    run = tmp_path_factory.mktemp("single") / "run"
    out, _ = finish(lstmcli("train", "sample", *ARGS, "--batch-size", str(GLOBAL_BATCH),
                            "--strategy", "one", "--output", str(run), home=home))  # fmt: skip
    assert "training on one device (CPU): batch 16" in out
    return run


def check_run(run: Path, home: Path) -> None:
    assert {p.name for p in run.iterdir()} == RUN_FILES
    assert [r["epoch"] for r in csv.DictReader((run / "history.csv").open())] == ["1"]
    ev = lstmcli("evaluate", str(run), "--json", home=home)
    out, _ = finish(ev)
    assert json.loads(out)["accuracy"] > 0.65  # above chance (0.5, balanced classes)


def test_mirrored_over_two_cpu_devices(single: Path, home: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    out, _ = finish(lstmcli("train", "sample", *ARGS, "--batch-size", str(GLOBAL_BATCH // 2),
                            "--strategy", "mirrored", "--cpu-devices", "2", "--output", str(run),
                            home=home))  # fmt: skip
    assert "mirrored over 2 devices (/cpu:0, /cpu:1): global batch 16 = 8 per replica × 2" in out
    check_run(run, home)
    assert max_difference(run, single) < ATOL


def test_multi_worker_two_processes(single: Path, home: Path, tmp_path: Path) -> None:
    chief_run, worker_view = tmp_path / "run", tmp_path / "worker" / "run"
    args = [*ARGS, "--batch-size", str(GLOBAL_BATCH // 2)]
    procs = start_workers(free_ports(2), [chief_run, worker_view], args, home, tmp_path)
    outs = [finish(p) for p in procs]
    assert "worker 0 of 2 (chief): global batch 16 = 8 per replica × 2" in outs[0][0]
    assert "worker 1 of 2: global batch 16" in outs[1][0]
    check_run(chief_run, home)
    # The other worker wrote nothing where it was told the run goes, and its temporary
    # folder is gone.
    assert not worker_view.parent.exists()
    assert list((tmp_path / "tmp1").iterdir()) == []
    assert max_difference(chief_run, single) < ATOL


def state_of(run: Path) -> dict | None:
    try:
        return json.loads((run / "checkpoints" / "state.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


TWO_EPOCHS = [*ARGS[:-1], "2", "--checkpoint-every", "4"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """Two epochs on one device, never interrupted."""
    run = tmp_path_factory.mktemp("reference") / "run"
    finish(lstmcli("train", "sample", *TWO_EPOCHS, "--batch-size", str(GLOBAL_BATCH),
                   "--strategy", "one", "--output", str(run), home=home))  # fmt: skip
    return run


def kill_mid_epoch(run: Path, proc: subprocess.Popen) -> None:
    deadline = time.time() + 300
    while (state_of(run) or {}).get("batch", 0) < 8 and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def check_resumed(run: Path, out: str, at: dict, reference: Path) -> None:
    assert f"resuming {run} at epoch {at['epoch'] + 1}, batch {at['batch']}" in out
    assert [r["epoch"] for r in csv.DictReader((run / "history.csv").open())] == ["1", "2"]
    assert max_difference(run, reference) < ATOL


def test_killed_worker_then_resume(reference: Path, home: Path, tmp_path: Path) -> None:
    args = [*TWO_EPOCHS, "--batch-size", str(GLOBAL_BATCH // 2)]
    run, ports = tmp_path / "run", free_ports(2)
    procs = start_workers(ports, [run, tmp_path / "w1"], args, home, tmp_path)
    kill_mid_epoch(run, procs[1])
    _, err = procs[0].communicate(timeout=120)  # the chief notices, it does not hang
    assert procs[0].returncode == 1
    assert err.strip().count("\n") == 0 and "--resume" in err, err
    at = state_of(run)
    assert at is not None and not at["done"] and at["batch"] >= 8

    procs = start_workers(ports, [run, tmp_path / "w1"], [*args, "--resume"], home, tmp_path)
    outs = [finish(p) for p in procs]
    check_resumed(run, outs[0][0], at, reference)


def test_mirrored_killed_then_resume(reference: Path, home: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = [*TWO_EPOCHS, "--batch-size", str(GLOBAL_BATCH // 2), "--strategy", "mirrored",
            "--cpu-devices", "2", "--output", str(run)]  # fmt: skip
    kill_mid_epoch(run, lstmcli("train", "sample", *args, home=home))
    at = state_of(run)
    assert at is not None and not at["done"] and at["batch"] >= 8
    out, _ = finish(lstmcli("train", "sample", *args, "--resume", home=home))
    check_resumed(run, out, at, reference)
