"""Ctrl-C in a real process: a checkpoint, the resume command, exit 130.

(SIGKILL at a random moment, and stops at every checkpoint position, are in
``test_resume_exact.py``, which also compares the resumed run with an uninterrupted one.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ARGS = ["--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "60", "--epochs", "3",
        "--batch-size", "16", "--checkpoint-every", "3"]  # fmt: skip


def lstmcli(*args: str, home: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "LSTMCLI_HOME": str(home), "COLUMNS": "120"}
    return subprocess.Popen([sys.executable, "-m", "lstmcli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # fmt: skip


def position(run: Path) -> tuple[int, int] | None:
    try:
        state = json.loads((run / "checkpoints" / "state.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return state["epoch"], state["batch"]


def test_ctrl_c_saves_and_prints_resume_command(tmp_path: Path, isolated_home: Path) -> None:
    run = tmp_path / "run"
    proc = lstmcli("train", "sample", *ARGS, "--output", str(run), home=isolated_home)
    deadline = time.time() + 240
    while position(run) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("training finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("lstmcli: Ctrl-C: stopped in epoch ")
    # the checkpoint is at the complete state where it stopped (not only every 3 batches)
    epoch, batch = position(run)
    assert f"stopped in epoch {epoch + 1} after {batch} batches; checkpoint saved" in err
