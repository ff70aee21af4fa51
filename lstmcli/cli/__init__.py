"""The Typer app: one module per command group, each command a few lines that parse flags,
call one core function and hand the result to ``render``. Errors become one line and an exit
code here and nowhere else. ``main.py`` imports every command module.

Imports: everything."""
