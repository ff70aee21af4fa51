"""A resumed run equals the run that was never interrupted (issue 17).

The run below is small (160 texts, 10 batches an epoch, SimpleRNN with dropout, Adam) so it
can be stopped at every checkpoint position: mid-epoch, at an epoch's last batch before the
epoch was closed (the "epoch boundary"), and after an epoch was closed. Dropout makes the
random generators' state matter, Adam the optimizer's step count.

Tolerance: the final weights, optimizer variables and generator states are compared with an
absolute tolerance of 1e-6 (they come out identical: the same steps run on the same data);
the history's loss and accuracy with a relative tolerance of 1e-6, because a resumed epoch's
running means are recombined in float64 from the saved and the new part (observed: <1e-7);
validation numbers, best epoch and patience count are compared exactly.
"""

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

import numpy as np
import pytest
from helpers import invoke

import lstmcli.render.train as render_train

pytestmark = pytest.mark.slow
ARGS = ["train", "sample", "--cell", "simplernn", "--units", "4", "--embed-dim", "4",
        "--vocab", "200", "--seq-len", "40", "--limit", "160", "--eval-limit", "80",
        "--batch-size", "16", "--epochs", "2", "--checkpoint-every", "5", "--no-xla",
        "--optimizer", "adam", "--lr", "0.01", "--dropout", "0.2"]  # fmt: skip
# Every checkpoint of that run: (epoch, batches done); (e, 10) is the epoch boundary.
POSITIONS = [(0, 5), (0, 10), (1, 0), (1, 5), (1, 10), (2, 0)]


class SimulatedKill(BaseException):
    """Raised right after a checkpoint is written: nothing after it runs (like SIGKILL)."""


def state_of(run: Path) -> dict:
    return json.loads((run / "checkpoints" / "state.json").read_text())


def final_arrays(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "checkpoints" / state_of(run)["weights_file"]) as z:
        return {k: z[k] for k in z.files if k != "state"}


def history(run: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((run / "history.csv").open()))


def assert_same_run(run: Path, base: Path) -> None:
    got, want = history(run), history(base)
    assert [r["epoch"] for r in got] == [r["epoch"] for r in want]
    for g, w in zip(got, want, strict=True):
        for key in ("loss", "accuracy"):
            assert float(g[key]) == pytest.approx(float(w[key]), rel=1e-6), (key, g, w)
        assert (g["val_loss"], g["val_accuracy"]) == (w["val_loss"], w["val_accuracy"])
    s, b = state_of(run), state_of(base)
    assert (s["best_epoch"], s["wait"], s["done"]) == (b["best_epoch"], b["wait"], True)
    got_arrays, want_arrays = final_arrays(run), final_arrays(base)
    assert sorted(got_arrays) == sorted(want_arrays)
    for key, want_value in want_arrays.items():
        np.testing.assert_allclose(got_arrays[key], want_value, rtol=0, atol=1e-6, err_msg=key)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("base") / "run"
    result = invoke([*ARGS, "--output", run])
    assert result.exit_code == 0, result.output
    return run


def invoke_or_killed(args: list) -> object | None:
    """The CliRunner result, or None when the run was killed (CliRunner lets a
    BaseException through, as a kill would end the process)."""
    try:
        return invoke(args)
    except SimulatedKill:
        return None


def kill_at(monkeypatch: pytest.MonkeyPatch, targets: list[tuple[int, int]]) -> None:
    def checkpoint(self, state) -> None:
        if targets and (state.epoch, state.batch) == targets[0]:
            targets.pop(0)
            raise SimulatedKill(f"killed at {state.epoch}, {state.batch}")

    monkeypatch.setattr(render_train.RichTrainEvents, "checkpoint", checkpoint)


def record_resumes(monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """(positions resumed from, warnings shown), also for runs whose output a kill lost."""
    import lstmcli.cli.app as app
    from lstmcli.train import checkpoint

    loaded, shown = [], []
    real_load, real_show = checkpoint.load, app._show_warning

    def load(folder: Path):
        found = real_load(folder)
        loaded.append((found.state.epoch, found.state.batch))
        return found

    def show(message, *args, **kw) -> None:
        shown.append(str(message))
        real_show(message, *args, **kw)

    monkeypatch.setattr(checkpoint, "load", load)
    monkeypatch.setattr(app, "_show_warning", show)
    return loaded, shown


def test_killed_at_every_checkpoint_resumes_to_the_same_run(
    baseline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped by a real SIGTERM after batch 3 (exit 143, a checkpoint there, a resume hint),
    then killed after each checkpoint in turn, and once with the newest checkpoint damaged
    (it falls back to the one before): the same history and weights as the baseline."""
    run, targets = tmp_path / "run", list(POSITIONS)
    kill_at(monkeypatch, targets)
    loaded, shown = record_resumes(monkeypatch)

    def batch_end(self, batch: int, logs: dict) -> None:
        if batch == 3 and not loaded:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(render_train.RichTrainEvents, "batch_end", batch_end)
    args = [*ARGS, "--output", run]
    result = invoke_or_killed(args)
    assert result is not None and result.exit_code == 143, result.output
    assert result.stderr == (
        "lstmcli: SIGTERM: stopped in epoch 1 after 3 batches; checkpoint saved. Resume with: "
        f"lstmcli train sample --output {run} --resume\n"
    )
    assert (state_of(run)["epoch"], state_of(run)["batch"]) == (0, 3)
    result = invoke_or_killed([*args, "--resume"])
    seen, damaged = [], run / "checkpoints" / "ckpt-001-000005.npz"
    while result is None:
        seen.append((state_of(run)["epoch"], state_of(run)["batch"]))
        if seen[-1] == (1, 5):  # the newest checkpoint is damaged: (1, 0) is used instead
            damaged.write_bytes(damaged.read_bytes()[:2000])
        result = invoke_or_killed([*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert seen == POSITIONS
    assert loaded == [(0, 3), (0, 5), (0, 10), (1, 0), (1, 0), (1, 10), (2, 0)]
    assert [w for w in shown if "damaged" in w] == [
        f"checkpoint {damaged} is damaged or unreadable (File is not a zip file); resuming "
        "from ckpt-001-000000.npz instead"
    ]
    assert_same_run(run, baseline)


def lstmcli(*args: object, home: Path, **env: str) -> subprocess.Popen:
    full = {**os.environ, "LSTMCLI_HOME": str(home), "COLUMNS": "120", **env}
    return subprocess.Popen([sys.executable, "-m", "lstmcli", *map(str, args)], env=full,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            pytest.fail(f"{what}: exit {proc.returncode}\n{out[-2000:]}\n{err[-2000:]}")
        time.sleep(0.005)


def test_two_runs_on_one_folder_then_sigkill(
    baseline: Path, tmp_path: Path, isolated_home: Path
) -> None:
    """Two real processes started at once on one --output (a barrier, not a sleep): one
    trains, the other is refused in one line, and the folder is the winner's alone. The
    winner is SIGKILLed at a random moment after its first checkpoint; --resume (which
    reports the lock the kill left) finishes it, equal to the uninterrupted baseline."""
    run, barrier = tmp_path / "run", tmp_path / "barrier"
    barrier.mkdir()
    # The two differ in a setting that changes where checkpoints fall, not the results.
    procs = {every: lstmcli(*ARGS, "--checkpoint-every", every, "--output", run,
                            home=isolated_home, LSTMCLI_TEST_LOCK_BARRIER=str(barrier))
             for every in (3, 4)}  # fmt: skip
    ready = lambda: len(list(barrier.glob("ready-*"))) == 2  # noqa: E731
    wait_for(ready, procs[3], "not both at the barrier")
    (barrier / "go").touch()
    wait_for(lambda: any(p.poll() is not None for p in procs.values()), procs[3], "none ended")
    loser = next(every for every, p in procs.items() if p.poll() is not None)
    winner = 7 - loser
    _, err = procs[loser].communicate()
    assert procs[loser].returncode == 1
    pattern = (rf"lstmcli: {re.escape(str(run))} is in use by another lstmcli train \(process "
               rf"{procs[winner].pid} on .*, since .*\); wait for it to end or choose another "
               r"--output\n")  # fmt: skip
    assert re.fullmatch(pattern, err), err

    wait_for((run / "checkpoints" / "state.json").exists, procs[winner], "no checkpoint")
    time.sleep(random.Random(os.getpid()).uniform(0.0, 0.4))
    procs[winner].send_signal(signal.SIGKILL)
    procs[winner].communicate()
    assert procs[winner].returncode in (-signal.SIGKILL, 0)
    assert json.loads((run / "spec.json").read_text())["train"]["checkpoint_every"] == winner
    result = invoke([*ARGS, "--checkpoint-every", winner, "--output", run, "--resume"])
    assert result.exit_code == 0, result.output
    if procs[winner].returncode == -signal.SIGKILL:  # the lock file it left is reported
        assert f"{run / '.lock'} was left by process {procs[winner].pid}" in result.stderr
    assert_same_run(run, baseline)
