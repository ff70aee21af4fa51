"""``summary``, ``shapes`` and ``build``: the model from flags, explained and checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli.cli.app import JsonFlag, command, fail
from lstmcli.cli.options import model_options, spec_from_flags
from lstmcli.core.errors import EXIT_RUNTIME, EXIT_USAGE
from lstmcli.render.console import print_json, stdout


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
    """Example: lstmcli summary --stacked 3 --dropout 0.2"""
    from lstmcli.backend.summary import summary_from_file, summary_from_spec
    from lstmcli.render import model as render

    if model is not None:
        if any(v is not None for v in spec_flags.values()):
            raise fail("--model cannot be combined with model flags", EXIT_USAGE)
        result = summary_from_file(model)
    else:
        result = summary_from_spec(spec_from_flags(**spec_flags))
    out = stdout()
    if as_json:
        print_json(out, render.summary_json(result))
    else:
        render.render_summary(out, result)


@command("shapes")
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
    """Example: lstmcli shapes --timesteps 8 --features 16 --stacked 3 --classes 10"""
    from lstmcli.model.shapes import explain
    from lstmcli.render import model as render

    spec = spec_from_flags(**spec_flags)
    walk = explain(spec, batch)
    if check:
        from lstmcli.backend.summary import confirm_shapes

        confirm_shapes(walk)
    out = stdout()
    if as_json:
        print_json(out, render.shapes_json(walk))
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
    """Example: lstmcli build --bidirectional -o bilstm.keras"""
    from lstmcli.backend.summary import build_and_save
    from lstmcli.render import model as render

    if output.suffix != ".keras":
        raise fail(f"-o/--output: {output} must end in .keras", EXIT_USAGE)
    if output.exists() and not overwrite:
        raise fail(f"-o/--output: {output} exists; pass --overwrite to replace it", EXIT_RUNTIME)
    result = build_and_save(spec_from_flags(**spec_flags), output, seed)
    out = stdout()
    if as_json:
        print_json(out, {**render.summary_json(result), "saved": str(output)})
    else:
        render.render_summary(out, result)
        out.print(f"Saved {output}", markup=False)
