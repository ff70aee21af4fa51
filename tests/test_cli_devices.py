"""Bad device and cluster input: one line on stderr and exit code 1 or 2, never a traceback
or a hang; and TF_CONFIG read strictly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstmcli.core.errors import UsageError
from lstmcli.model.spec import ModelSpec
from lstmcli.train.tfconfig import parse
from tests.helpers import VOCAB, invoke, make_run

SMALL = ["--units", "4", "--embed-dim", "4", "--vocab", "200", "--seq-len", "20", "--epochs", "1"]


def one_line(result, code: int, *fragments: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "tf_config", "code", "fragments"),
    [
        (["--strategy", "multi-worker"], None, 2, ["needs TF_CONFIG"]),
        (["--strategy", "multi-worker"], "{bad", 2, ["TF_CONFIG: not valid JSON"]),
        (["--strategy", "auto"], '{"cluster": {"worker": ["a:1"]}}', 2, ['needs "task"']),
        (["--strategy", "multi-worker"], '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
         2, ["task index 1 is not one of the 1"]),
        (["--cpu-devices", "0"], None, 2, ["--cpu-devices"]),
        (["--strategy", "bogus"], None, 2, ["--strategy: 'bogus'"]),
        (["--device", "tpu"], None, 2, ["--device: 'tpu'"]),
        (["--device", "gpu", "--cpu-devices", "2"], None, 2, ["cannot be combined"]),
        (["--strategy", "one", "--cpu-devices", "2"], None, 2, ["is for --strategy mirrored"]),
    ],
)  # fmt: skip
def test_bad_training_input(
    args: list[str], tf_config: str | None, code: int, fragments: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    result = invoke(["train", "sample", *SMALL, *args, "--output", tmp_path / "run"])
    one_line(result, code, *fragments)
    assert not (tmp_path / "run").exists()


def test_device_gpu_without_a_gpu(tmp_path: Path) -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    # predict checks the run and its texts before TensorFlow starts: give it a real run
    run = make_run(
        tmp_path / "run", ModelSpec(vocab=len(VOCAB), embed_dim=4, units=(4,), seq_len=20)
    )
    for cmd in (["train", "sample", *SMALL, "--output", tmp_path / "new"],
                ["evaluate", run], ["predict", run, "fine"]):  # fmt: skip
        one_line(invoke([*cmd, "--device", "gpu"]), 1, "--device gpu:", "lstmcli doctor")


@pytest.mark.slow
def test_unreachable_peer_times_out_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as a, socket.socket() as b:  # two free ports; nobody listens on them
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        ports = [a.getsockname()[1], b.getsockname()[1]]
    config = {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": 0},
    }
    env = {**os.environ, "TF_CONFIG": json.dumps(config), "LSTMCLI_HOME": str(tmp_path / "home")}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lstmcli", "train", "sample", *SMALL, "--strategy", "multi-worker",
         "--peer-timeout", "3", "--output", str(tmp_path / "run")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert f"127.0.0.1:{ports[1]} did not join within 3 s" in proc.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "run").exists()


def test_tf_config_is_read_strictly() -> None:
    two = {"worker": ["h1:2222", "h2:2222"]}
    c = parse(json.dumps({"cluster": two, "task": {"type": "worker", "index": 0}}))
    assert (c.workers, c.index, c.is_chief, c.peers) == (2, 0, True, ["h2:2222"])
    chief = {"chief": ["c:1"], "worker": ["w:1", "w:2"]}
    c = parse(json.dumps({"cluster": chief, "task": {"type": "worker", "index": 0}}))
    assert (c.workers, c.index, c.is_chief, c.address) == (3, 1, False, "w:1")
    assert parse(json.dumps({"cluster": chief, "task": {"type": "chief"}})).is_chief
    for bad, why in [
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "job 'ps' is not supported"),
        ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', "not a \"host:port\""),
        ('{"cluster": {"worker": ["a:1", "a:1"]}, "task": {"type": "worker"}}', "listed twice"),
        ('{"cluster": {"worker": []}, "task": {"type": "worker"}}', "non-empty list"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": true}}', "task index True"),
        ('[]', 'needs a "cluster" object'),
    ]:  # fmt: skip
        with pytest.raises(UsageError, match="TF_CONFIG: ") as err:
            parse(bad)
        assert why in str(err.value), str(err.value)
