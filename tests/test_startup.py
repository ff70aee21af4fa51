"""`lstmcli --help` and the pure-arithmetic paths must never import TensorFlow or Keras."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from typer.testing import CliRunner
from lstmcli.cli.main import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("tensorflow", "keras", "matplotlib") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["shapes"],
        ["shapes", "--timesteps", "8", "--features", "16", "--stacked", "3", "--classes", "10"],
        ["shapes", "--bidirectional", "--cell", "gru", "--json"],
        ["train", "--help"],
        ["summary", "--help"],
        ["compare", "--help"],
    ],
)
def test_no_tensorflow_import(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY:\n" in out or out.strip().endswith("HEAVY:"), out


def test_module_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lstmcli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "summary" in out and "shapes" in out


@pytest.mark.parametrize(
    "args",
    [["--help"], ["train", "--help"], ["inspect", "--help"], ["report", "--help"], ["--version"],
     ["cache", "--help"]],
)  # fmt: skip
def test_help_does_not_even_import_numpy(args: list[str]) -> None:
    # NumPy costs ~50 ms of a ~150 ms start; help text needs none of it.
    probe = PROBE.replace('("tensorflow", "keras", "matplotlib")', '("numpy",)')
    out = subprocess.run(
        [sys.executable, "-c", probe.format(args=args)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().endswith("HEAVY:"), out


def test_completion_imports_neither_numpy_nor_tensorflow() -> None:
    # Tab completion runs lstmcli on every key press: it must answer without the heavy imports.
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('HEAVY:' + ','.join(m for m in ('numpy', 'tensorflow', "
        "'keras') if m in sys.modules)))\n"
        "from lstmcli.cli.main import main\n"
        "main()\n"
    )
    env = {**os.environ, "_LSTMCLI_COMPLETE": "complete_bash", "COMP_WORDS": "lstmcli tr",
           "COMP_CWORD": "1"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert "train" in done.stdout.split() and done.stdout.strip().endswith("HEAVY:"), done


def test_every_command_is_in_the_table_with_the_module_that_registers_it() -> None:
    from lstmcli.cli.commands import COMMANDS, MODULES
    from lstmcli.cli.main import app

    registered = {info.name: info.callback.__module__ for info in app.registered_commands}
    registered |= {info.name: "lstmcli.cli.cache" for info in app.registered_groups}
    assert {name: f"lstmcli.cli.{m}" for name, m in MODULES.items()} == registered
    hidden = {info.name for info in app.registered_commands if info.hidden}
    assert hidden == {alias for entry in COMMANDS.values() for alias in entry.aliases}


def test_help_lists_the_commands_without_importing_one_command_module() -> None:
    # The listing comes from cli/commands.py; its output equals the whole app's (next test).
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('CLI:' + ','.join(sorted(m for m in sys.modules "
        "if m.startswith('lstmcli.cli.')))))\n"
        "sys.argv = ['lstmcli', '--help']\n"
        "from lstmcli.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().rsplit("CLI:", 1)[1].split(",")
    assert loaded == ["lstmcli.cli.app", "lstmcli.cli.commands", "lstmcli.cli.main"], loaded


@pytest.mark.parametrize("args", [["--help"], ["shapes", "--help"], ["cache", "--help"], []])
def test_entry_point_prints_what_the_whole_app_prints(args: list[str]) -> None:
    # `lstmcli --help` lists stand-ins, `lstmcli shapes` imports one module: same output.
    from typer.testing import CliRunner

    from lstmcli.cli.main import app

    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "lstmcli", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip
    whole = CliRunner().invoke(
        app, args, env={"COLUMNS": "100", "TERM": "dumb"}, prog_name="lstmcli"
    )
    assert done.returncode == whole.exit_code
    assert done.stdout == whole.stdout and "Usage: lstmcli" in done.stdout


def test_bare_lstmcli_prints_the_help_once_and_says_what_is_missing() -> None:
    done = subprocess.run([sys.executable, "-m", "lstmcli"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})  # fmt: skip
    assert done.returncode == 2
    assert done.stdout.count("Usage: lstmcli") == 1 and "train" in done.stdout
    assert done.stderr == "lstmcli: no command given; pick one of the commands above\n"
