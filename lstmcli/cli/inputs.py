"""Texts the user hands a command: ``--file PATH``, ``--file -`` or stdin.

All three are read the same way: bytes, at most ``MAX_INPUT_BYTES``, decoded as UTF-8 (a
BOM dropped, undecodable bytes replaced by U+FFFD). For ``predict`` one line is one text,
and only ``\\n`` (or ``\\r\\n``) ends a line: ``str.splitlines`` would also split on form
feeds, U+001C-U+001E, U+0085 and U+2028, which can sit inside a text.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lstmcli.core.errors import DataError
from lstmcli.core.files import read_capped, read_regular

MAX_INPUT_BYTES = 64 * 1024**2
TTY_HINT = (
    "lstmcli: reading texts from the terminal, one per line; end with Ctrl-D "
    "(or give TEXT arguments or --file)"
)


def read_stdin(what: str = "stdin") -> bytes:
    stream = typer.get_binary_stream("stdin")
    try:
        return read_capped(stream, MAX_INPUT_BYTES, what, DataError)
    except OSError as exc:
        raise DataError(f"cannot read {what} ({exc.strerror})") from None


def read_input(file: Path) -> str:
    """The text of ``--file`` (``-``: stdin), decoded."""
    from lstmcli.data.textdata import decode

    if str(file) == "-":
        raw = read_stdin("--file - (stdin)")
    else:
        raw = read_regular(file, MAX_INPUT_BYTES, f"--file {file}", DataError)
    return decode(raw)[0]


def split_lines(text: str) -> list[str]:
    """Non-blank lines; only ``\\n`` and ``\\r\\n`` end one."""
    return [ln.removesuffix("\r") for ln in text.split("\n") if ln.strip()]


def read_lines(file: Path | None, stdin: bool) -> list[str]:
    """The non-blank lines of ``file``, or of stdin when there is no file and no text (with a
    hint on stderr when stdin is a terminal, rather than a silent wait)."""
    from lstmcli.data.textdata import decode

    if file is not None:
        return split_lines(read_input(file))
    if not stdin:
        return []
    if typer.get_binary_stream("stdin").isatty():
        typer.echo(TTY_HINT, err=True)
    return split_lines(decode(read_stdin())[0])
