"""``lstmcli doctor``: the report, its JSON, and a broken TensorFlow reported, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import invoke

ROOT = Path(__file__).resolve().parent.parent


def test_doctor_reports_versions_devices_and_data(isolated_home: Path) -> None:
    import keras
    import numpy
    import tensorflow as tf

    (isolated_home / "datasets").mkdir()
    (isolated_home / "datasets" / "aclImdb_v1.tar.gz").write_bytes(b"x" * 1234)
    result = invoke(["doctor", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["packages"]["tensorflow"]["imported"] == tf.__version__
    assert doc["packages"]["keras"]["imported"] == keras.__version__
    assert doc["packages"]["numpy"]["imported"] == numpy.__version__
    assert {"name": "/physical_device:CPU:0", "type": "CPU"} in doc["devices"]
    gpu = bool(tf.config.list_physical_devices("GPU"))
    assert doc["defaults"]["device"] == ("gpu" if gpu else "cpu")
    assert doc["defaults"]["cudnn"] is gpu and doc["defaults"]["xla_train"] is not gpu
    assert doc["cache"] == {"path": str(isolated_home), "exists": True, "bytes": 1234, "files": 1}
    assert doc["data"]["imdb"]["found"] == str(isolated_home / "datasets" / "aclImdb_v1.tar.gz")
    from lstmcli.data.datasets import sample_path

    assert doc["data"]["sample"]["found"] == str(sample_path())
    assert doc["problems"] == []

    text = invoke(["doctor"]).stdout
    for shown in (f"tensorflow            {tf.__version__}", "Devices               CPU:0",
                  "1.2 KB in 1 files", "No problems found."):  # fmt: skip
        assert shown in text, text


def test_tensorflow_not_installed_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from lstmcli.backend import environment
    from lstmcli.backend import tf as tfmod

    def missing() -> None:
        raise ModuleNotFoundError("No module named 'tensorflow'")

    monkeypatch.setitem(environment.PACKAGES, "tensorflow", ("no-such-distribution",))
    monkeypatch.setattr(tfmod, "tensorflow", missing)
    env = environment.gather()
    assert env.problems == [
        "tensorflow is not installed: ModuleNotFoundError: No module named 'tensorflow'"
    ]
    assert env.packages["tensorflow"] == {"distribution": None, "version": None, "imported": None}
    assert env.devices == [] and env.defaults == {}


@pytest.mark.parametrize("as_json", [False, True])
def test_broken_tensorflow_gives_a_report_not_a_traceback(tmp_path: Path, as_json: bool) -> None:
    """A TensorFlow whose import fails (here a fake package first on PYTHONPATH, as a wheel
    whose CUDA library does not load would) is named with the reason; exit code 1."""
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ImportError('libcudart.so.12: cannot open shared object file')\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}",
           "LSTMCLI_HOME": str(tmp_path / "home"), "COLUMNS": "200"}  # fmt: skip
    args = [sys.executable, "-m", "lstmcli", "doctor", *(["--json"] if as_json else [])]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "problem(s) found: tensorflow" in proc.stderr
    why = "cannot be imported: ImportError: libcudart.so.12: cannot open shared object file"
    if as_json:
        doc = json.loads(proc.stdout)
        assert any(why in p for p in doc["problems"]), doc["problems"]
        assert doc["packages"]["tensorflow"]["imported"] is None
        assert doc["packages"]["numpy"]["imported"]  # what still works is still reported
    else:
        assert why in proc.stdout and "does not import" in proc.stdout
