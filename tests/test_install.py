"""The sample set is found from a built wheel installed with ``--target``, ``--prefix`` and
``--user``, not only from a checkout (``datasets.sample_path`` uses ``importlib.resources``).

One wheel is built (``pip wheel --no-deps --no-build-isolation``, from a copy of the sources
so the checkout gets no ``build/``) and installed three ways; each install is then imported
in a fresh interpreter that cannot see the checkout. Skips when the wheel cannot be built
(no setuptools/wheel in this environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
# Runs in the installed copy; NumPy & co. come from this environment, appended *after* the
# install so that lstmcli itself can only come from the install.
PROBE = """
import json, sys
sys.path.append({deps!r})
import lstmcli
from lstmcli.data.datasets import load_labelled, sample_path
path = sample_path()
data = load_labelled("sample")
print(json.dumps({{"package": lstmcli.__file__, "sample": str(path), "is_file": path.is_file(),
                  "texts": len(data.train.texts) + len(data.val.texts)}}))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONUSERBASE")}
    return {**env, **extra}


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "lstmcli", src / "lstmcli", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    build = _run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
                  str(dist), str(src)], cwd=dist)  # fmt: skip
    wheels = list(dist.glob("lstmcli-*.whl"))
    if build.returncode != 0 or not wheels:
        pytest.skip(f"cannot build a wheel here: {build.stderr.strip()[-300:]}")
    return wheels[0]


def _check(out: subprocess.CompletedProcess[str], root: Path) -> None:
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(root), found  # the installed copy, not ROOT
    assert Path(found["sample"]).is_relative_to(root) and found["is_file"], found
    assert found["texts"] == 2000, found


@pytest.mark.parametrize("how", ["--target", "--prefix"])
def test_sample_found_from_wheel(wheel: Path, tmp_path: Path, how: str) -> None:
    where = tmp_path / "install"
    done = _run([*PIP, "install", "--no-deps", "--no-index", how, str(where), str(wheel)], tmp_path)
    assert done.returncode == 0, done.stderr
    if how == "--target":
        site = where
    else:
        site = Path(sysconfig.get_path("purelib", vars={"base": where, "platbase": where}))
    deps = sysconfig.get_path("purelib")
    # -S: no site-packages of this environment (nor its editable install of the checkout).
    probe = [sys.executable, "-S", "-c", PROBE.format(deps=deps)]
    _check(_run(probe, tmp_path, PYTHONPATH=str(site)), site)


def test_sample_found_from_user_install(wheel: Path, tmp_path: Path) -> None:
    # pip refuses --user inside a virtual environment; the interpreter it was made from
    # takes it, as on a machine without one.
    base = getattr(sys, "_base_executable", sys.executable)
    userbase = tmp_path / "userbase"
    pip = [base, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    done = _run([*pip, "install", "--user", "--no-deps", "--no-index", str(wheel)], tmp_path,
                PYTHONUSERBASE=str(userbase))  # fmt: skip
    if done.returncode != 0 and "No module named pip" in done.stderr:
        pytest.skip(f"{base} has no pip")
    assert done.returncode == 0, done.stderr
    probe = [base, "-c", PROBE.format(deps=sysconfig.get_path("purelib"))]
    _check(_run(probe, tmp_path, PYTHONUSERBASE=str(userbase)), userbase)
