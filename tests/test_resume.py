"""Resumable training: SIGKILL at a random moment, resume, and finish as if nothing happened."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ARGS = ["--units", "8", "--embed-dim", "8", "--vocab", "500", "--seq-len", "60", "--epochs", "3",
        "--batch-size", "16", "--checkpoint-every", "3"]  # fmt: skip
EVERY = 3


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


@pytest.mark.parametrize("trial", range(3))
def test_sigkill_then_resume(trial: int, tmp_path: Path, isolated_home: Path) -> None:
    rng = random.Random(trial)
    run = tmp_path / "run"
    proc = lstmcli("train", "sample", *ARGS, "--output", str(run), home=isolated_home)
    deadline = time.time() + 240
    while position(run) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    at_kill = position(run)
    assert at_kill is not None
    # nothing half-written: every file in the run folder is complete (no temporary names left
    # behind matter, and state.json always names an existing checkpoint)
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert (run / "checkpoints" / state["weights_file"]).is_file()

    resumed = lstmcli(
        "train", "sample", *ARGS, "--output", str(run), "--resume", home=isolated_home
    )
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    if not state["done"]:
        m = re.search(r"resuming .* at epoch (\d+), batch (\d+)", out)
        assert m, out
        # the resumed run starts exactly at the last checkpoint, which is at most one
        # checkpoint interval (or one epoch end) behind the moment of the kill
        assert (int(m.group(1)) - 1, int(m.group(2))) == at_kill
        assert at_kill[1] % EVERY == 0
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    ev = lstmcli("evaluate", str(run), "--json", home=isolated_home)
    ev_out, ev_err = ev.communicate(timeout=300)
    assert ev.returncode == 0, ev_err
    assert 0 <= json.loads(ev_out)["accuracy"] <= 1


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
    assert position(run) is not None
