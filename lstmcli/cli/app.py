"""The Typer app, the one-line error boundary and the ``command`` decorator.

Only the CLI prints errors and chooses exit codes (``core/errors.py`` defines them); every
command module registers its commands on ``app`` with ``@command``.
"""

from __future__ import annotations

import functools
import inspect
import os
import signal
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # Typer vendors Click; NoArgsIsHelpError is a UsageError whose message is empty
    from typer._click.exceptions import NoArgsIsHelpError
except ImportError:  # pragma: no cover - older Typer with Click as a dependency
    from click.exceptions import NoArgsIsHelpError  # type: ignore[no-redef]

from lstmcli.cli.commands import COMMANDS
from lstmcli.core import signals
from lstmcli.core.errors import EXIT_RUNTIME, EXIT_USAGE, LstmcliError, LstmcliWarning
from lstmcli.core.signals import exit_code, signal_name

# The order ``--help`` lists commands in is the table's (the order a learner meets them), not
# the order the command modules happen to register them in.
HELP_ORDER = tuple(COMMANDS)


class OneLineErrors(TyperGroup):
    """Click's usage errors as one line on stderr (exit 2), instead of a multi-line box."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(HELP_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            # Bare `lstmcli`: the help on stdout, and one line on stderr saying what is missing.
            # Building the error rendered the help already: Typer's Rich help prints as it is
            # formatted and leaves the message empty; plain help is the message.
            if exc.format_message().strip():
                typer.echo(exc.format_message())
            typer.echo("lstmcli: no command given; pick one of the commands above", err=True)
            rv = EXIT_USAGE
        except typer.Abort:
            typer.echo("lstmcli: aborted", err=True)
            rv = 130
        except typer.TyperException as exc:  # Typer's (vendored Click's) usage errors
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "lstmcli"
            typer.echo(printable(f"{where}: {exc.format_message()}"), err=True)
            rv = exc.exit_code
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    help="A command-line lab for recurrent neural networks (Keras): build, explain, train, inspect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell: completion
    # runs `lstmcli` itself, so it must start fast (no TensorFlow, no NumPy; tests/test_startup.py).
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from lstmcli import __version__

        typer.echo(f"lstmcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print the version (lstmcli X.Y.Z) and exit."),
    ] = False,
) -> None:  # fmt: skip
    """A command-line lab for recurrent neural networks (Keras): build, explain, train, inspect."""


def printable(message: str) -> str:
    """One terminal line: control characters and undecodable bytes (lone surrogates from
    argv) are shown escaped, so a file name with a newline still gives one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in message)


def clean_text(text: str) -> str:
    """Text from argv as valid Unicode: bytes that were not UTF-8 become U+FFFD."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"lstmcli: {printable(message)}", err=True)
    return typer.Exit(code)


def _show_warning(message: Any, category: Any, *_args: Any, **_kw: Any) -> None:
    typer.echo(f"lstmcli: warning: {printable(str(message))}", err=True)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn lstmcli errors (and anything unexpected) into one line and an exit code.

    While the command runs, SIGTERM and SIGHUP are handled like Ctrl-C (``core.signals``),
    and each distinct ``LstmcliWarning`` is shown once, as one line on stderr."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(), signals.raising():
                warnings.simplefilter("default", LstmcliWarning)
                warnings.showwarning = _show_warning
                return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except LstmcliError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            what = (
                "interrupted" if signum == signal.SIGINT else f"terminated ({signal_name(signum)})"
            )
            raise fail(what, exit_code(signum)) from None
        except OSError as exc:
            if exc.strerror is None or os.environ.get("LSTMCLI_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror}", EXIT_RUNTIME) from None
        except MemoryError:
            raise fail(
                "out of memory (try less input, a smaller batch or model)", EXIT_RUNTIME
            ) from None
        except Exception as exc:
            if os.environ.get("LSTMCLI_DEBUG"):
                raise
            detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise fail(
                f"unexpected {type(exc).__name__}: {detail} (set LSTMCLI_DEBUG=1 for a traceback)",
                EXIT_RUNTIME,
            ) from None

    return wrapper


def reflow(doc: str | None) -> str | None:
    """A docstring as one line per paragraph: Typer 0.29's Rich help keeps the source's line
    breaks, so a docstring line wider than the terminal wrapped into a ragged stub. Paragraphs
    with indented lines (examples) keep theirs."""
    if not doc:
        return doc
    keep = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = para.splitlines()
        if any(line.startswith(" ") for line in lines):
            keep.append(para)
            continue
        text = lines[0].strip()
        for line in lines[1:]:  # an example starts a line of its own
            text += ("\n" if line.startswith("Example") else " ") + line.strip()
        keep.append(text)
    return "\n\n".join(keep)


def command(name: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the table's command ``name`` (and its hidden aliases), its help the table's
    summary then the function's docstring, its errors turned into one line."""
    entry = COMMANDS[name]

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        kw.setdefault("help", "\n\n".join(filter(None, [entry.summary, reflow(fn.__doc__)])))
        wrapped = handle_errors(fn)
        app.command(name, **kw)(wrapped)
        for alias in entry.aliases:
            app.command(alias, hidden=True, **kw)(wrapped)
        return fn

    return deco


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
