"""The dependencies install from wheels on every platform and Python version we admit.

For each platform (Linux x86-64 and aarch64, macOS arm64, Windows amd64) and each Python
minor version that ``requires-python`` admits, pip resolves ``[project] dependencies`` as
if installing there (``pip install --dry-run --only-binary=:all: --platform … --python-version
… --report``); the ``gpu`` extra is resolved for Linux x86-64. A combination that cannot be
resolved fails its test. A package index that cannot be reached, or network errors that
persist after a retry, skip with the reason: this test checks the packages, not the network.

pip must download each wheel to read its metadata (~250 MB per combination, 2.8 GB for the
CUDA libraries), so the combinations run in parallel threads and a successful resolution is
cached for a week under ``~/.cache/lstmcli-tests/resolve`` (``LSTMCLI_RESOLVE_TTL_DAYS=0``
re-resolves everything).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.network]

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _manylinux(arch: str) -> list[str]:
    # A glibc 2.28 system (RHEL 8, Debian 10 and newer) accepts manylinux_2_17 … _2_28;
    # pip does not expand a manylinux_2_28 tag to the older ones itself.
    return [f"manylinux_2_{minor}_{arch}" for minor in range(28, 16, -1)] + [
        f"manylinux2014_{arch}"
    ]


# platform name → (pip --platform tags, the environment markers of such a machine)
PLATFORMS: dict[str, tuple[list[str], dict[str, str]]] = {
    "linux-x86_64": (_manylinux("x86_64"),
                     {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"}),
    "linux-aarch64": (_manylinux("aarch64"),
                      {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"}),
    "macos-arm64": (["macosx_14_0_arm64"],  # pip expands it to macOS 11-14 and universal2
                    {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"}),
    "windows-amd64": (["win_amd64"],
                      {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"}),
}  # fmt: skip
GPU_PLATFORM = "linux-x86_64"

# pip's words for "nothing satisfies these requirements" and for "the network failed";
# the network is checked first, since an unreachable index also ends in "No matching …".
NETWORK_SIGNS = ("Retrying (Retry(", "NewConnectionError", "ConnectionError", "Read timed out",
                 "Could not fetch URL", "HTTPSConnectionPool", "ProxyError", "SSLError",
                 "Connection reset", "IncompleteRead")  # fmt: skip
RESOLUTION_SIGNS = ("ResolutionImpossible", "No matching distribution found",
                    "Could not find a version that satisfies", "conflicting dependencies",
                    "requires a different Python")  # fmt: skip


def project() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


def admitted_pythons() -> list[str]:
    """Every 3.x minor version with at least one release that ``requires-python`` admits."""
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(project()["requires-python"])
    return [f"3.{m}" for m in range(8, 20) if any(f"3.{m}.{p}" in spec for p in range(40))]


def requirements(platform: str, python: str, extras: tuple[str, ...] = ()) -> list[str]:
    """The project's requirements for that machine, markers evaluated there (pip would
    evaluate them for the machine running the test, not the --platform it is given)."""
    from packaging.requirements import Requirement

    proj = project()
    env = {**PLATFORMS[platform][1], "python_version": python, "python_full_version": f"{python}.99",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}  # fmt: skip
    lines = list(proj["dependencies"])
    for extra in extras:
        lines += proj["optional-dependencies"][extra]
    out = []
    for line in lines:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            req.marker = None
            out.append(str(req))
    return out


@dataclass
class Outcome:
    platform: str
    python: str
    extras: tuple[str, ...]
    status: str  # "ok", "unresolvable" or "network"
    installs: dict[str, str]  # name → version
    detail: str = ""


def _cache_file(key: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lstmcli-tests" / "resolve" / f"{key}.json"


def _pip(
    reqs: list[str], tags: list[str], python: str, report: Path, target: Path
) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
           "--only-binary=:all:", "--disable-pip-version-check", "--quiet", "--python-version",
           python, "--target", str(target), "--report", str(report)]  # fmt: skip
    for tag in tags:
        cmd += ["--platform", tag]
    try:
        proc = subprocess.run(cmd + reqs, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return -1, "pip timed out after 900 s (Read timed out)"
    return proc.returncode, proc.stdout + proc.stderr


def resolve(platform: str, python: str, extras: tuple[str, ...] = ()) -> Outcome:
    reqs = requirements(platform, python, extras)
    tags = PLATFORMS[platform][0]
    key = hashlib.sha256(json.dumps([reqs, tags, python]).encode()).hexdigest()[:24]
    cache = _cache_file(key)
    ttl = float(os.environ.get("LSTMCLI_RESOLVE_TTL_DAYS", "7")) * 86400
    if cache.is_file() and time.time() - cache.stat().st_mtime < ttl:
        return Outcome(platform, python, extras, "ok", json.loads(cache.read_text()))
    out = ""
    for _attempt in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            code, out = _pip(reqs, tags, python, report, Path(tmp) / "target")
            if code == 0 and report.is_file():
                doc = json.loads(report.read_text())
                installs = {
                    i["metadata"]["name"].lower(): i["metadata"]["version"] for i in doc["install"]
                }
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(installs, indent=1, sort_keys=True))
                return Outcome(platform, python, extras, "ok", installs)
        if not any(s in out for s in NETWORK_SIGNS) and any(s in out for s in RESOLUTION_SIGNS):
            return Outcome(platform, python, extras, "unresolvable", {}, out[-3000:])
    return Outcome(platform, python, extras, "network", {}, out[-3000:])


def index_reachable() -> str | None:
    """None when pip can fetch a tiny package from the configured index, else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        code, out = _pip(
            ["threadpoolctl"], ["win_amd64"], "3.12", Path(tmp) / "r.json", Path(tmp) / "t"
        )
    if code == 0:
        return None
    if "No module named pip" in out:
        return "pip is not installed in this environment"
    return "no package index answered: " + (out.strip().splitlines() or ["(no output)"])[-1][:200]


COMBOS = [(p, v, ()) for p in PLATFORMS for v in admitted_pythons()]
GPU_COMBO = (GPU_PLATFORM, admitted_pythons()[-1], ("gpu",))


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple, Outcome]:
    why = index_reachable()
    if why:
        pytest.skip(why)
    with ThreadPoolExecutor(max_workers=6) as pool:
        done = list(pool.map(lambda c: resolve(*c), [*COMBOS, GPU_COMBO]))
    return {(o.platform, o.python, o.extras): o for o in done}


def check(outcome: Outcome) -> None:
    where = f"{outcome.platform}, Python {outcome.python}{' [' + ','.join(outcome.extras) + ']' if outcome.extras else ''}"
    if outcome.status == "network":
        pytest.skip(f"{where}: network errors persisted, not checked: {outcome.detail[-200:]}")
    assert outcome.status == "ok", f"{where}: dependencies cannot be resolved:\n{outcome.detail}"
    from packaging.version import Version

    tf = outcome.installs.get("tensorflow")
    assert tf is not None, f"{where}: no tensorflow in {sorted(outcome.installs)}"
    assert not Version(tf).is_prerelease, (
        f"{where}: only a TensorFlow pre-release ({tf}) has wheels"
    )
    assert "tensorflow-cpu" not in outcome.installs  # one distribution owns tensorflow/


def test_requires_python_admits_only_tested_versions() -> None:
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(project()["requires-python"])
    # fetch.py extracts with tarfile's filter=, added in 3.11.4
    assert "3.11.3" not in spec and "3.11.4" in spec
    assert admitted_pythons() == ["3.11", "3.12", "3.13"]


@pytest.mark.parametrize(("platform", "python", "extras"), COMBOS)
def test_dependencies_resolve(outcomes: dict, platform: str, python: str, extras: tuple) -> None:
    check(outcomes[(platform, python, extras)])


def test_gpu_extra_brings_cuda_on_linux(outcomes: dict) -> None:
    outcome = outcomes[GPU_COMBO]
    check(outcome)
    cuda = {n for n in outcome.installs if n.startswith("nvidia-")}
    assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= cuda, sorted(outcome.installs)


def test_gpu_extra_is_linux_only() -> None:
    base = requirements("macos-arm64", "3.12")
    assert requirements("macos-arm64", "3.12", ("gpu",)) == base
    assert requirements("windows-amd64", "3.12", ("gpu",)) == requirements("windows-amd64", "3.12")
    assert any("and-cuda" in r for r in requirements("linux-x86_64", "3.12", ("gpu",)))
