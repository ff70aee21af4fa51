"""The conventions of a good CLI: --version, shell completion, -q/--quiet, a visible download,
and every environment variable documented in the README's one table."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import invoke
from rich.console import Console
from test_datasets import Server, make_archive, serve

import lstmcli
from lstmcli.render.train import DownloadProgress

ROOT = Path(__file__).resolve().parent.parent


def _lstmcli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lstmcli", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=60)  # fmt: skip


def test_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert lstmcli.__version__ == project["version"]
    result = invoke(["--version"])
    assert result.exit_code == 0 and result.stdout == f"lstmcli {project['version']}\n"


def test_show_and_install_completion(tmp_path: Path) -> None:
    shown = _lstmcli("--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "_LSTMCLI_COMPLETE=complete_bash" in shown.stdout
    assert "complete -o default -F _lstmcli_completion lstmcli" in shown.stdout
    installed = _lstmcli("--install-completion", "bash", HOME=str(tmp_path))
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "lstmcli.sh"
    assert "_LSTMCLI_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("lstmcli rep", "1", "report"), ("lstmcli cache cl", "2", "clear"),
     ("lstmcli cache clear --what x", "4", "xla")],
)  # fmt: skip
def test_completion_answers(words: str, cword: str, expected: str) -> None:
    done = _lstmcli(_LSTMCLI_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=cword)
    assert done.returncode == 0 and expected in done.stdout.split(), done


def test_download_progress_drawing() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with DownloadProgress(console) as progress:
        for done in (0, 1_000_000, 2_500_000):
            progress(done, 2_500_000)
    text = out.getvalue()
    assert "downloading" in text and "2.5 MB" in text and "downloaded 2.5 MB in" in text
    silent = io.StringIO()
    with DownloadProgress(Console(file=silent, force_terminal=True), quiet=True) as progress:
        progress(0, 10)
        progress(10, 10)
    assert silent.getvalue() == ""


@pytest.fixture
def imdb_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = Server()
    serve(server, monkeypatch, make_archive(tmp_path).read_bytes())  # sets the archive's hash
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


TINY = ["--epochs", "1", "--units", "2", "--embed-dim", "2", "--vocab", "30", "--seq-len", "8",
        "--no-xla"]  # fmt: skip


def test_train_shows_the_download(imdb_server: Server, tmp_path: Path) -> None:
    result = invoke(["train", "imdb", *TINY, "-o", tmp_path / "run", "--json"])
    assert result.exit_code == 0, result.output
    assert re.search(r"downloaded [\d.]+ kB in [\d.]+ s", result.stderr), result.stderr
    assert json.loads(result.stdout)["metrics"]["n"] == 13  # stdout stays JSON


def test_quiet_pretrain(tmp_path: Path) -> None:
    args = ["pretrain", "sample", "--dim", "4", "--epochs", "1", "--limit", "60", "--vocab", "50"]
    loud = invoke([*args, "-o", tmp_path / "a.vec"])
    quiet = invoke([*args, "-o", tmp_path / "b.vec", "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert "reading sample texts" in loud.stderr and quiet.stderr == ""
    assert quiet.stdout.strip() and (tmp_path / "b.vec").is_file()


def _variables_used() -> set[str]:
    found: set[str] = set()
    pattern = re.compile(
        r"""(?:environ(?:\.get|\.setdefault|\.pop)?\(?\[?|getenv\(|setenv\(|delenv\()\s*"""
        r"""["']([A-Z][A-Z0-9_]+)["']"""
    )
    for folder in ("lstmcli", "tests", "bench", "scripts", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", "") and path.is_file():
                found |= set(pattern.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return found


def test_every_environment_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("Every environment variable lstmcli reads or sets:")[1].split("\n## ")[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]+)(?:=[^`]*)?`", section))
    used = _variables_used() - {"HOME", "PATH", "PYTHONPATH", "PYTHONUSERBASE", "COMP_WORDS",
                                "COMP_CWORD", "ALL_PROXY", "all_proxy"}  # fmt: skip
    assert {"LSTMCLI_HOME", "LSTMCLI_IMDB_SHA256", "KERAS_BACKEND", "TF_XLA_FLAGS"} <= used
    lower = {v.lower() for v in documented}
    missing = sorted(v for v in used if v not in documented and v.lower() not in lower)
    assert not missing, f"environment variables missing from the README table: {missing}"


def test_help_paragraphs_are_reflowed() -> None:
    """Typer 0.29 keeps a docstring's line breaks in --help: each paragraph is one line
    (an Example starts its own), so Rich wraps it to the terminal's width."""
    from lstmcli.cli.app import reflow
    from lstmcli.cli.main import app

    doc = """First line.

    A paragraph written over
    two lines.
    Example: lstmcli train imdb

    Indented:
        lstmcli summary
        lstmcli shapes
    """
    assert reflow(doc) == (
        "First line.\n\nA paragraph written over two lines.\nExample: lstmcli train imdb"
        "\n\nIndented:\n    lstmcli summary\n    lstmcli shapes"
    )
    for info in app.registered_commands:
        for para in (info.help or "").split("\n\n"):
            lines = para.splitlines()
            if any(line.startswith(" ") for line in lines):
                continue
            assert all(line.startswith("Example") for line in lines[1:]), (info.name, para)
