"""A run folder is one consistent thing (issue 17): what --resume refuses, what every loaded
model is checked against, how spec.json problems are named, what a run leaves behind."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import VOCAB, invoke, make_run

from lstmcli.model.spec import ModelSpec

pytestmark = pytest.mark.slow
WORDS = ["great", "fun", "moving", "bad", "dull", "boring", "plot", "acting", "film", "the"]
TINY = ["--cell", "simplernn", "--units", "3", "--embed-dim", "3", "--vocab", "40",
        "--seq-len", "12", "--batch-size", "8", "--epochs", "1", "--no-xla"]  # fmt: skip


def write_csv(path: Path, rows: int, seed: int = 0) -> Path:
    import random

    rng = random.Random(seed)
    lines = ["text,label"]
    for i in range(rows):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(WORDS[:5] if label == "pos" else WORDS[3:], 3)
        lines.append(f"{' '.join(words)} {rng.choice(WORDS)},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A finished one-epoch run on mini.csv; its folder held a lock file left by a killed
    process, and killed writers' temporary files (the run must report and clean them)."""
    root = tmp_path_factory.mktemp("finished")
    data, run = write_csv(root / "mini.csv", 40), root / "run"
    run.mkdir()
    (run / ".lock").write_text("process 999999999 on elsewhere, since 2020-01-01 00:00:00")
    (run / ".spec.json.tmp999999999-abcdefgh").write_text("{half")
    (run / f".history.csv.tmp{os.getpid()}-keepme").write_text("mine")  # a live process's
    old = os.umask(0o027)
    try:
        result = invoke(["train", data, *TINY, "--output", run])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        f"lstmcli: warning: {run / '.lock'} was left by process 999999999 on elsewhere, since "
        "2020-01-01 00:00:00, which ended without releasing it (killed?); taking it over\n"
    )
    assert not (run / ".spec.json.tmp999999999-abcdefgh").exists()
    (run / f".history.csv.tmp{os.getpid()}-keepme").unlink()  # (it was kept)
    return run, data


def snapshot(run: Path) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in ("spec.json", "vocabulary.txt")}


def test_files_respect_the_umask(finished: tuple[Path, Path], isolated_home: Path) -> None:
    run, _ = finished
    for path in (run / "spec.json", run / "model.keras", run / "history.csv",
                 *(run / "checkpoints").iterdir()):  # fmt: skip
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert not (run / ".lock").exists()


def test_resume_refuses_changed_data(finished: tuple[Path, Path], tmp_path: Path) -> None:
    run, data = finished
    # A copy of the run and its data, moved together (so the module's run stays as it is).
    copy, changed = tmp_path / "run", tmp_path / "mini.csv"
    shutil.copytree(run, copy)
    shutil.copy2(data, changed)
    spec = json.loads((copy / "spec.json").read_text())
    spec["data"]["name_or_path"] = spec["data_identity"]["source"]["path"] = str(changed)
    (copy / "spec.json").write_text(json.dumps(spec))
    before = snapshot(copy)
    with changed.open("a") as fh:
        fh.write("zebra zebra zebra,pos\nzebra okapi,neg\n")
    result = invoke(["train", changed, *TINY, "--output", copy, "--resume"])
    assert result.exit_code == 1
    lines = result.stderr.strip().split("\n")
    assert lines[-1].startswith(f"lstmcli: --resume: the data changed since {copy} started ")
    assert f"{changed}: " in lines[-1] and " bytes" in lines[-1]
    assert lines[-1].endswith("; start a new run with another --output")
    assert sum(ln.startswith("lstmcli") for ln in lines) == 1
    assert snapshot(copy) == before


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--units", "16"], "--units [16] (the run has [3])"),
        (["--epochs", "3"], "--epochs 3 (the run has 1)"),
        (["--batch-size", "4"], "--batch-size 4 (the run has 8)"),
        (["--seed", "7"], "--seed 7 (the run has 0)"),
        (["--cell", "gru"], "--cell gru (the run has simplernn)"),
    ],
)
def test_resume_refuses_flags_that_contradict_the_run(
    finished: tuple[Path, Path], flags: list[str], message: str
) -> None:
    run, data = finished
    before = snapshot(run)
    result = invoke(["train", data, "--output", run, "--resume", *flags])
    assert result.exit_code == 2
    assert result.stderr == (
        f"lstmcli: --resume continues {run} as it was started, but {message}; drop the flag, "
        "or start a new run with another --output\n"
    )
    assert snapshot(run) == before


def test_resume_of_a_finished_run_trains_nothing_and_rewrites_nothing(
    finished: tuple[Path, Path],
) -> None:
    run, data = finished
    before = snapshot(run)
    history = (run / "history.csv").read_bytes()
    # The same flags as the run (a repeated command), and a "how" flag that may differ.
    result = invoke(["train", data, *TINY, "--output", run, "--resume", "--checkpoint-every", "2"])
    assert result.exit_code == 0, result.output
    assert f"{run} had already finished; nothing was left to train" in result.stdout
    assert snapshot(run) == before and (run / "history.csv").read_bytes() == history
    other = invoke(["train", "sample", "--output", run, "--resume"])
    assert other.exit_code == 2 and "but the dataset sample (the run has " in other.stderr


def test_files_of_another_run_with_the_same_shapes_are_refused(
    finished: tuple[Path, Path], tmp_path: Path
) -> None:
    """Same spec, same vocabulary size: only the run's id (in spec.json, the model's name,
    the checkpoint) and the vocabulary's hash tell the files apart."""
    from helpers import make_model

    from lstmcli.backend.modelfile import save_model
    from lstmcli.rundir.folder import read_info

    run, data = finished
    spec = read_info(run)[1]
    swapped = tmp_path / "model"
    shutil.copytree(run, swapped)
    save_model(make_model(spec, seed=5), swapped / "model.keras")
    assert one_line(invoke(["predict", swapped, "great"]), 1).endswith(
        "its vocabulary: it was saved by another run (it is named 'lstmcli'); copy a run "
        "folder whole, never its files one by one"
    )
    words = tmp_path / "vocab"
    shutil.copytree(run, words)
    lines = (words / "vocabulary.txt").read_text().split("\n")
    lines[3], lines[4] = lines[4], lines[3]
    (words / "vocabulary.txt").write_text("\n".join(lines))
    assert one_line(invoke(["predict", words, "great"]), 1) == (
        f"{words / 'vocabulary.txt'} does not belong with {words / 'spec.json'}: it is not the "
        "vocabulary the run was trained with (copy a run folder whole, never its files one by one)"
    )
    other = tmp_path / "checkpoint"
    shutil.copytree(run, other)
    state = json.loads((other / "checkpoints" / "state.json").read_text())
    npz = other / "checkpoints" / state["weights_file"]
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["state"] = np.array(json.dumps({**state, "run_id": "0123456789abcdef"}))
    np.savez(npz, **arrays)
    assert one_line(invoke(["train", data, "--output", other, "--resume"]), 1) == (
        f"--resume: checkpoint {npz} belongs to another run than {other / 'spec.json'}; "
        "start a new run with another --output"
    )


def one_line(result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.split("\n") if ln]
    assert len(lines) == 1 and lines[0].startswith("lstmcli: "), result.stderr
    return lines[0][len("lstmcli: ") :]


def test_resume_needs_a_run(tmp_path: Path) -> None:
    result = invoke(["train", "sample", "--output", tmp_path / "none", "--resume"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"lstmcli: --resume: {tmp_path / 'none'} holds no run to resume (no spec.json)\n"
    )
    assert not (tmp_path / "none").exists()


# ----------------------------------------------------------------------- swapped files

SMALL = ModelSpec(units=(3,), vocab=len(VOCAB), embed_dim=4, seq_len=20, mask_zero=True)
BIG_VOCAB = VOCAB + [f"w{i}" for i in range(30)]
BIG = ModelSpec(units=(3,), vocab=len(BIG_VOCAB), embed_dim=4, seq_len=20, mask_zero=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("swaps")
    csv = write_csv(root / "mini.csv", 20)
    data = {"name_or_path": str(csv), "data": None, "seed": 0, "limit": None,
            "eval_limit": None, "val_split": 0.5, "test": None, "text_col": None,
            "label_col": None}  # fmt: skip
    small = make_run(root / "small", SMALL, extra={"data": data}, scale=0.5)
    big = make_run(root / "big", BIG, vocabulary=BIG_VOCAB, extra={"data": data}, scale=0.5)
    gru = make_run(root / "gru", SMALL.replace(cell="gru"), extra={"data": data}, scale=0.5)
    three = make_run(root / "three", SMALL.replace(classes=3), labels=("a", "b", "c"),
                     extra={"data": data}, scale=0.5)  # fmt: skip
    out = {"small": small, "big": big}
    for name, folder, model_from in (
        ("small_model_in_big", big, small),  # token ids past the embedding's rows
        ("big_model_in_small", small, big),  # the reverse: no error, wrong rows
        ("gru_model_in_lstm", small, gru),
        ("three_class_model", small, three),
    ):
        out[name] = root / name
        shutil.copytree(folder, out[name])
        shutil.copy(model_from / "model.keras", out[name] / "model.keras")
    out["big_vocab_in_small"] = root / "big_vocab_in_small"
    shutil.copytree(small, out["big_vocab_in_small"])
    shutil.copy(big / "vocabulary.txt", out["big_vocab_in_small"] / "vocabulary.txt")
    # as a run from before spec.json recorded the vocabulary's hash (which catches it first)
    info = json.loads((out["big_vocab_in_small"] / "spec.json").read_text())
    del info["vocabulary_sha256"]
    (out["big_vocab_in_small"] / "spec.json").write_text(json.dumps(info))
    return out


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("small_model_in_big", f"its embedding has 12 rows, spec.json says vocab {len(BIG_VOCAB)}"),
        ("big_model_in_small", f"its embedding has {len(BIG_VOCAB)} rows, spec.json says vocab 12"),
        ("gru_model_in_lstm", "its weights are not those of Embedding(12, 4) over 20 tokens → "
                              "LSTM(3) → Dense(1, sigmoid)"),
        ("three_class_model", "it has 3 output(s), spec.json says classes 1"),
        ("big_vocab_in_small", f"vocabulary.txt has {len(BIG_VOCAB)} entries, more than "
                               "spec.json's vocab 12"),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "command",
    [["predict", "{run}", "great fun"], ["evaluate", "{run}"], ["evaluate", "{run}", "--xla"],
     ["inspect", "{run}", "great fun"], ["summary", "--model", "{run}/model.keras"]],
)  # fmt: skip
def test_files_from_different_runs_are_refused(
    runs: dict[str, Path], name: str, problem: str, command: list[str]
) -> None:
    run = runs[name]
    result = invoke([part.replace("{run}", str(run)) for part in command])
    if command[0] == "summary":  # a .keras file on its own has nothing to disagree with
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"lstmcli: {run / 'model.keras'} does not belong with {run / 'spec.json'} and its "
        f"vocabulary: {problem}; copy a run folder whole, never its files one by one\n"
    )


def test_intact_runs_still_work(runs: dict[str, Path]) -> None:
    for name in ("small", "big"):
        result = invoke(["predict", runs[name], "great fun", "--json"])
        assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------- spec.json


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: i.update(model=[1, 2]), "key 'model' must be an object, not list"),
        (lambda i: i.update(labels=["neg"]), "key 'labels' lists 1 label(s), but model.classes 1 needs 2"),
        (lambda i: i.update(labels=["a", "a"]), "key 'labels' lists a label twice"),
        (lambda i: i["model"].update(units=[-5]), "key model.units: -5 is not allowed; every width must be ≥ 1"),
        (lambda i: i["model"].update(bogus=1), "key model: unknown model key(s) bogus; allowed: "),
        (lambda i: i["data"].update(bogus=1), "unknown key data.bogus"),
        (lambda i: i["data"].update(seed="x"), "key data.seed must be int, not str"),
        (lambda i: i["data"].update(limit=True), "key data.limit must be int or null, not bool"),
    ],
)  # fmt: skip
def test_a_malformed_spec_json_names_the_file_and_the_key(
    runs: dict[str, Path], tmp_path: Path, change, message: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    info = json.loads((run / "spec.json").read_text())
    change(info)
    (run / "spec.json").write_text(json.dumps(info))
    for command in (["predict", run, "great"], ["evaluate", run]):
        result = invoke(command)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"lstmcli: {run / 'spec.json'}: {message}"), result.stderr
        assert result.stderr.count("\n") == 1


def test_a_model_file_cannot_set_the_input_length(runs: dict[str, Path], tmp_path: Path) -> None:
    """``batch_shape [null, 1e9]`` in config.json would make predict allocate (1, 1e9)."""
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    with zipfile.ZipFile(run / "model.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = members["config.json"].decode()
    assert '"batch_shape": [null, null]' in config
    members["config.json"] = config.replace(
        '"batch_shape": [null, null]', '"batch_shape": [null, 1000000000]'
    ).encode()
    with zipfile.ZipFile(run / "model.keras", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    result = invoke(["predict", run, "great"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"lstmcli: {run / 'model.keras'}: refused at lstmcli/tokens: batch_shape size "
        "1000000000 is not a whole number up to 1,000,000\n"
    )


def test_a_folder_in_use_is_refused_before_tensorflow_starts(tmp_path: Path) -> None:
    """Another process holds the lock: ``train`` says so before it loads TensorFlow (the
    device and strategy set-up loads it before the run folder's own lock is taken)."""
    import subprocess
    import sys

    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from lstmcli.rundir import lock\n"
         "with lock.hold(pathlib.Path(sys.argv[1])):\n print('held', flush=True); sys.stdin.read()",
         str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        code = "import sys; from lstmcli.cli.main import main; sys.argv[1:] = sys.argv[2:]; " \
               "import atexit; atexit.register(lambda: print('tf' if 'tensorflow' in sys.modules else 'no-tf', file=sys.stderr))\nmain()"  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code, "x", "train", "sample", "--output", str(run)],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        holder.communicate("")
    assert done.returncode == 1
    assert (
        f"lstmcli: {run} is in use by another lstmcli train (process {holder.pid} " in done.stderr
    )
    assert done.stderr.endswith("no-tf\n"), done.stderr


def test_a_run_from_before_lr_schedule_resumes_at_a_constant_rate(
    finished: tuple[Path, Path], tmp_path: Path
) -> None:
    """spec.json of runs older than --lr-schedule has no such key: they trained at a constant
    rate, and resume so, whatever today's default (a cosine)."""
    from lstmcli.train.config import TrainConfig
    from lstmcli.train.resume import load_saved

    run, _ = finished
    old = tmp_path / "old-run"
    shutil.copytree(run, old)
    info = json.loads((old / "spec.json").read_text())
    assert info["train"]["lr_schedule"] == TrainConfig().lr_schedule == "cosine"
    del info["train"]["lr_schedule"]
    (old / "spec.json").write_text(json.dumps(info))
    assert load_saved(old)[1].lr_schedule == "constant"
    assert load_saved(run)[1].lr_schedule == "cosine"
