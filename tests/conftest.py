from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        "--overwrite",
        action="store_true",
        dest="update_golden",
        help="Write the golden output files (tests/golden/) from this run's output.",
    )


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point lstmcli's home (cache, datasets) at a temp dir so tests never touch the user's files."""
    home = tmp_path_factory.mktemp("lstmcli_home")
    monkeypatch.setenv("LSTMCLI_HOME", str(home))
    monkeypatch.setenv("LSTMCLI_IMDB_URL", "http://127.0.0.1:9/unreachable.tar.gz")
    return home


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with tests/golden/NAME. A missing file fails; ``pytest --update-golden``
    (or ``--overwrite``) writes it from this run's output."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("update_golden"):
            path.write_text(text, encoding="utf-8")
        if not path.exists():
            pytest.fail(f"golden file {path} is missing; run pytest --update-golden to write it")
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None, highlight=False)


@pytest.fixture(scope="session")
def imdb_archive() -> Path:
    value = os.environ.get("LSTMCLI_TEST_IMDB")
    if not value or not Path(value).exists():
        pytest.skip("set LSTMCLI_TEST_IMDB to the aclImdb_v1.tar.gz archive (or its folder)")
    return Path(value)


@pytest.fixture(scope="session")
def imdb_folder(imdb_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive unpacked once per test session (with tar: much faster than in Python)."""
    import shutil
    import subprocess

    if imdb_archive.is_dir():
        return imdb_archive
    target = tmp_path_factory.mktemp("imdb")
    if shutil.which("tar"):
        subprocess.run(["tar", "xzf", str(imdb_archive), "-C", str(target)], check=True)
    else:  # pragma: no cover - tar is on every CI machine here
        import tarfile

        with tarfile.open(imdb_archive) as tf:
            tf.extractall(target, filter="data")
    return target
