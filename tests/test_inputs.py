"""What users hand the CLI (issue 17): --file, --config, stdin, the environment."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import VOCAB, invoke, make_run

from lstmcli.backend import tf as backend_tf
from lstmcli.model.spec import ModelSpec

SPEC = ModelSpec(units=(3,), vocab=len(VOCAB), embed_dim=4, seq_len=20, mask_zero=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("inputs") / "run", SPEC, scale=0.5)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    return tmp_path / "fifo"


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def one_line(result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("lstmcli: ")
    return result.stderr[len("lstmcli: ") : -1]


@pytest.mark.parametrize("command", ["predict", "inspect"])
def test_file_accepts_only_regular_files(
    run: Path, fifo: Path, tmp_path: Path, command: str
) -> None:
    start = time.monotonic()
    for path, problem in (
        (fifo, "is not a regular file (a device, FIFO or socket); give a file"),
        (Path("/dev/zero"), "is not a regular file (a device, FIFO or socket); give a file"),
        (tmp_path, "is a folder; give a file"),
        (tmp_path / "missing.txt", "does not exist"),
        (sparse(tmp_path / "big.txt", 64 * 1024**2 + 1),
         "is larger than 64 MiB, the most lstmcli reads from it"),
    ):  # fmt: skip
        message = one_line(invoke([command, run, "--file", path]), 1)
        assert message == f"--file {path} {problem}"
    assert time.monotonic() - start < 30  # none of them waits or reads without end


def test_config_accepts_only_regular_files(fifo: Path, tmp_path: Path) -> None:
    assert one_line(invoke(["summary", "--config", fifo]), 2) == (
        f"--config {fifo} is not a regular file (a device, FIFO or socket); give a file"
    )
    big = sparse(tmp_path / "big.toml", 1024**2 + 1)
    assert one_line(invoke(["summary", "--config", big]), 2) == (
        f"--config {big} is larger than 1 MiB, the most lstmcli reads from it"
    )


def test_one_line_is_one_text(run: Path, tmp_path: Path) -> None:
    """Only \\n and \\r\\n end a line: form feeds, U+001C and U+2028 stay inside a text."""
    texts = ["great\x0cfun", "bad\x1cmovie", "the\u2028plot"]
    path = tmp_path / "texts.txt"
    path.write_bytes(("\r\n".join(texts) + "\n\n").encode())
    result = invoke(["predict", run, "--file", path, "--json"])
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in json.loads(result.stdout)["predictions"]] == texts


def test_stdin_is_decoded_as_the_file_is(run: Path, tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbfthe movie was great \xff\xfe\nbad and boring\n"
    path = tmp_path / "t.txt"
    path.write_bytes(raw)
    from_file = invoke(["predict", run, "--file", path, "--json"])
    from_stdin = invoke(["predict", run, "--json"], input=raw)
    from_dash = invoke(["predict", run, "--file", "-", "--json"], input=raw)
    assert from_file.exit_code == from_stdin.exit_code == from_dash.exit_code == 0
    assert from_file.stdout == from_stdin.stdout == from_dash.stdout
    assert (
        json.loads(from_file.stdout)["predictions"][0]["text"] == "the movie was great \ufffd\ufffd"
    )


def test_a_terminal_on_stdin_gets_a_hint(run: Path) -> None:
    """No texts and stdin a terminal: one line on stderr says what is expected, rather than
    a silent wait (and before the seconds TensorFlow takes to load)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "lstmcli", "predict", str(run)],
                            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    os.close(terminal)
    try:
        line = proc.stderr.readline().decode()
        assert line == (
            "lstmcli: reading texts from the terminal, one per line; end with Ctrl-D "
            "(or give TEXT arguments or --file)\n"
        )
    finally:
        proc.kill()
        proc.communicate()
        os.close(controller)


def test_ascii_only_output_survives() -> None:
    """``PYTHONIOENCODING=ascii``: → and box lines come out escaped or as ASCII, not as a
    UnicodeEncodeError (``shapes`` needs no TensorFlow: a fast process)."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "lstmcli", "shapes", "--units", "4"],
                          env=env, capture_output=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.isascii() and b"\\u2192 LSTM(4) \\u2192" in done.stdout


def test_deeply_nested_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "a", "label": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    result = invoke(["train", path, "--epochs", "1"])
    assert result.exit_code == 1
    assert result.stderr.endswith(f"lstmcli: {path} line 1 is nested too deeply\n")


@pytest.mark.slow
def test_unknown_tf_xla_flags_are_one_line(
    run: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """TensorFlow would end the process with a multi-line C++ log at its first operation."""
    monkeypatch.setitem(backend_tf._state, "checked", False)
    monkeypatch.setenv("TF_XLA_FLAGS", "--no_such_flag=1")
    message = one_line(invoke(["predict", run, "great"]), 2)
    assert message.startswith("TF_XLA_FLAGS: TensorFlow 2.")
    assert message.endswith(" does not know the flag --no_such_flag=1; fix or unset TF_XLA_FLAGS")
    assert not (isolated_home / "xla-flags-checked").exists()  # a refusal is not remembered


def test_an_unwritable_xla_cache_is_skipped(
    run: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A read-only or full LSTMCLI_HOME costs a warning, not the command (the XLA cache's
    folder cannot be made here: LSTMCLI_HOME lies under a file)."""
    home = tmp_path / "file" / "home"
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setitem(backend_tf._state, "checked", False)
    monkeypatch.setenv("LSTMCLI_HOME", str(home))
    monkeypatch.setenv("TF_XLA_FLAGS", "")  # (TensorFlow is running: it read them already)
    result = invoke(["predict", run, "great", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"lstmcli: warning: XLA program cache {home / 'xla-cache'} cannot be written "
        "(Not a directory); compiling without it\n"
    )
