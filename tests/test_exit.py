"""How an lstmcli process ends (cli/main.finish): once TensorFlow is loaded, without Python's
slow shutdown, yet with its exit status, its output flushed and its atexit handlers run;
with Python's normal exit while another thread is still working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import make_run

from lstmcli.model.spec import ModelSpec

SCRIPT = """
import atexit, os, sys, threading, time
import tensorflow
from lstmcli.cli.main import finish

out, code, busy = sys.argv[1], sys.argv[2], sys.argv[3] == "busy"
atexit.register(lambda: open(out + ".atexit", "w").write("ran"))
real_exit = os._exit

def fast_exit(status):
    open(out + ".fast", "w").write(str(status))
    real_exit(status)

os._exit = fast_exit

def work():
    time.sleep(1.0)
    open(out + ".work", "w").write("done")

if busy:
    threading.Thread(target=work).start()
sys.stdout.write("no newline at the end")
finish(int(code) if code.lstrip("-").isdigit() else code)
"""


def _run(tmp_path: Path, code: str, busy: bool = False) -> subprocess.CompletedProcess[str]:
    out = tmp_path / f"{code}-{busy}"
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), code, "busy" if busy else "idle"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fast_exit_keeps_status_output_and_atexit(tmp_path: Path) -> None:
    done = _run(tmp_path, "3")
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline at the end"
    assert (tmp_path / "3-False.atexit").read_text() == "ran"
    assert (tmp_path / "3-False.fast").read_text() == "3"  # Python's shutdown was skipped
    done = _run(tmp_path, "bad input")  # SystemExit("message"): printed, status 1
    assert done.returncode == 1
    assert done.stderr.strip().endswith("bad input")


def test_a_working_thread_gets_the_normal_exit(tmp_path: Path) -> None:
    done = _run(tmp_path, "0", busy=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "0-True.atexit").read_text() == "ran"
    assert (tmp_path / "0-True.work").read_text() == "done"  # waited for, not cut off
    assert not (tmp_path / "0-True.fast").exists()


def test_predict_ends_fast_with_its_output(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", ModelSpec(vocab=50, embed_dim=4, units=(4,), seq_len=8))
    done = subprocess.run(
        [sys.executable, "-m", "lstmcli", "predict", str(run), "a fine film", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)
