"""Command line: parse flags into a ``ModelSpec``, call the core, hand results to ``render``.

Only this layer prints errors and chooses exit codes (``errors.py`` defines them).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

try:  # Typer vendors Click; NoArgsIsHelpError is a UsageError whose message is empty
    from typer._click.exceptions import NoArgsIsHelpError
except ImportError:  # pragma: no cover - older Typer with Click as a dependency
    from click.exceptions import NoArgsIsHelpError  # type: ignore[no-redef]

from lstmcli import render
from lstmcli.errors import EXIT_RUNTIME, EXIT_USAGE, LstmcliError
from lstmcli.options import model_options, spec_from_flags


class OneLineErrors(TyperGroup):
    """Click's usage errors as one line on stderr (exit 2), instead of a multi-line box."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            # Bare `lstmcli`: the help on stdout, and one line on stderr saying what is missing.
            if exc.ctx is not None:
                typer.echo(exc.ctx.get_help())
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
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def stdout() -> Console:
    return Console(highlight=False)


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


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn lstmcli errors (and anything unexpected) into one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except LstmcliError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except OSError as exc:
            if exc.strerror is None or os.environ.get("LSTMCLI_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror}", EXIT_RUNTIME) from None
        except MemoryError:
            raise fail("out of memory; try a smaller --batch-size or model", EXIT_RUNTIME) from None
        except Exception as exc:
            if os.environ.get("LSTMCLI_DEBUG"):
                raise
            detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise fail(
                f"unexpected {type(exc).__name__}: {detail} (set LSTMCLI_DEBUG=1 for a traceback)",
                EXIT_RUNTIME,
            ) from None

    return wrapper


def command(*names: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command (with hidden aliases) whose errors are turned into one line."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = handle_errors(fn)
        app.command(names[0], **kw)(wrapped)
        for alias in names[1:]:
            app.command(alias, hidden=True, **kw)(wrapped)
        return fn

    return deco


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


@command("summary")
@model_options
def summary_cmd(
    model: Annotated[
        Path | None, typer.Option("--model", help="Describe a saved .keras file instead of flags.")
    ] = None,
    as_json: JsonFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:
    """Layers, shapes, weight shapes and parameter formulas, checked against Keras.

    Example: lstmcli summary --stacked 3 --dropout 0.2
    """
    from lstmcli.inspection import summary_from_file, summary_from_spec

    if model is not None:
        if any(v is not None for v in spec_flags.values()):
            raise fail("--model cannot be combined with model flags", EXIT_USAGE)
        result = summary_from_file(model)
    else:
        result = summary_from_spec(spec_from_flags(**spec_flags))
    out = stdout()
    if as_json:
        render.print_json(out, render.summary_json(result))
    else:
        render.render_summary(out, result)


@command("shapes", "explain-shapes")
@model_options
def shapes_cmd(
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Batch size to show.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Run a random batch through Keras and confirm shapes.")
    ] = False,
    as_json: JsonFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:
    """Walk a batch through the model, layer by layer: what each tensor is and why.

    Example: lstmcli shapes --timesteps 8 --features 16 --stacked 3 --classes 10
    """
    from lstmcli.shapes import explain

    spec = spec_from_flags(**spec_flags)
    walk = explain(spec, batch)
    if check:
        from lstmcli.inspection import confirm_shapes

        confirm_shapes(walk)
    out = stdout()
    if as_json:
        render.print_json(out, render.shapes_json(walk))
    else:
        render.render_shapes(out, walk)


@command("build")
@model_options
def build_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to save the .keras file.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file.")
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=2**32 - 1, help="Seed for the initial weights.")
    ] = 0,
    as_json: JsonFlag = False,
    *,
    spec_flags: dict[str, Any],
) -> None:
    """Build the model, save it as a .keras file and print its summary.

    Example: lstmcli build --bidirectional -o bilstm.keras
    """
    from lstmcli.inspection import build_and_save

    if output.suffix != ".keras":
        raise fail(f"-o/--output: {output} must end in .keras", EXIT_USAGE)
    if output.exists() and not overwrite:
        raise fail(f"-o/--output: {output} exists; pass --overwrite to replace it", EXIT_RUNTIME)
    result = build_and_save(spec_from_flags(**spec_flags), output, seed)
    out = stdout()
    if as_json:
        render.print_json(out, {**render.summary_json(result), "saved": str(output)})
    else:
        render.render_summary(out, result)
        out.print(f"Saved {output}", markup=False)


def _register_extensions() -> None:
    # Other commands live in their own modules; each registers itself on ``app``.
    import importlib

    for name in ("cli_train", "cli_pretrain", "cli_inspect"):
        try:
            importlib.import_module(f"lstmcli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lstmcli.{name}":
                raise


_register_extensions()


def main() -> None:
    app()
