"""CliRunner tests for `lstmcli summary` and `lstmcli build`, with golden tables."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from helpers import invoke

LECTURE = {
    "summary_lstm.out": ([], 328_353),
    "summary_stacked3.out": (["--stacked", "3", "--dropout", "0.2"], 344_993),
    "summary_bilstm.out": (["--bidirectional", "--dropout", "0.2"], 336_705),
    "summary_simplernn.out": (["--cell", "simplernn"], 322_113),
    "summary_gru.out": (["--cell", "gru"], 326_369),
}


@pytest.mark.parametrize("name", sorted(LECTURE))
def test_lecture_tables_golden(name: str, golden) -> None:
    args, total = LECTURE[name]
    result = invoke(["summary", *args])
    assert result.exit_code == 0, result.output
    assert f"Total params: {total:,}" in result.output
    assert f"equals Keras count_params() {total:,}" in result.output
    golden(name, result.output)


def test_stacked_rows() -> None:
    out = invoke(["summary", "--stacked", "3", "--dropout", "0.2"]).output
    assert out.count("= 8,320") == 3  # three formula rows of 8,320


def test_summary_json() -> None:
    result = invoke(["summary", "--bidirectional", "--json"])
    data = json.loads(result.stdout)
    assert data["total_params"] == 336_705 == data["keras_count_params"]
    assert data["agrees_with_keras"] is True
    assert [layer["params"] for layer in data["layers"]] == [320_000, 16_640, 65]
    assert data["layers"][1]["output_shape"] == [None, 64]
    assert set(data["layers"][0]) >= {"name", "type", "input_shape", "output_shape", "weights",
                                      "params", "formula"}  # fmt: skip


def test_config_file_and_flags_override(tmp_path: Path) -> None:
    cfg = tmp_path / "model.toml"
    cfg.write_text('[model]\ncell = "gru"\nunits = "16,8"\nembed-dim = 8\n')
    data = json.loads(invoke(["summary", "--config", str(cfg), "--json"]).stdout)
    assert data["model"]["cell"] == "gru" and data["model"]["units"] == [16, 8]
    data = json.loads(invoke(["summary", "--config", str(cfg), "--cell", "lstm", "--json"]).stdout)
    assert data["model"]["cell"] == "lstm" and data["model"]["embed_dim"] == 8


def test_build_then_summary_from_file(tmp_path: Path) -> None:
    target = tmp_path / "bi.keras"
    result = invoke(["build", "--bidirectional", "--stacked", "2", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and zipfile.is_zipfile(target)
    from_flags = json.loads(
        invoke(["summary", "--bidirectional", "--stacked", "2", "--json"]).stdout
    )
    from_file = json.loads(invoke(["summary", "--model", str(target), "--json"]).stdout)
    assert from_file["layers"] == from_flags["layers"]
    assert from_file["total_params"] == from_flags["total_params"]


def test_build_keeps_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "m.keras"
    target.write_bytes(b"precious")
    result = invoke(["build", "-o", str(target)])
    assert result.exit_code == 1
    assert target.read_bytes() == b"precious"
    assert invoke(["build", "-o", str(target), "--overwrite"]).exit_code == 0
    assert zipfile.is_zipfile(target)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["summary", "--units", "0"], 2, "--units"),
        (["summary", "--dropout", "1.5"], 2, "--dropout"),
        (["summary", "--stacked", "0"], 2, "--stacked"),
        (["summary", "--cell", "foo"], 2, "--cell"),
        (["summary", "--classes", "0"], 2, "--classes"),
        (["summary", "--units", "32,abc"], 2, "--units"),
        (["summary", "--dropout", "abc"], 2, "--dropout"),
        (["summary", "--model", "/no/such/file.keras"], 1, "does not exist"),
        (["build", "-o", "x.h5"], 2, ".keras"),
        (["shapes", "--features", "0"], 2, "--features"),
    ],
)
def test_bad_input_one_line(args: list[str], code: int, fragment: str) -> None:
    result = invoke(args)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_corrupt_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = invoke(["summary", "--model", str(bad)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
