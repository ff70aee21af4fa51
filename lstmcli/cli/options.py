"""The model flags, defined once and attached to every command that builds a model.

``model_options`` adds the flags to a Typer command and hands the command a ready
``ModelSpec`` (defaults ← ``--config`` file ← flags given on the command line).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from lstmcli.model.spec import ModelSpec


P = "Model"  # help panel name
SpeedPanel = "Speed"

# Options that several commands share, declared once.
DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="IMDB archive or folder (else cache, else download)."),
]
XlaFlag = Annotated[
    bool,
    typer.Option("--xla/--no-xla", help="Compile the steps with XLA.", rich_help_panel=SpeedPanel),
]
FusedFlag = Annotated[
    bool,
    typer.Option(
        "--fused/--no-fused",
        help="On a CPU, train a stack or a pooled model as one loop over the same weights "
        "(faster; equal predictions). See the README's Speed section.",
        rich_help_panel=SpeedPanel,
    ),
]
SplitStepFlag = Annotated[
    bool,
    typer.Option(
        "--split-step/--no-split-step",
        help="On one CPU with XLA, compute each batch's gradient in parts on the cores at once "
        "(a leaner step than Keras's; equal to it to float rounding). See the README's Speed section.",
        rich_help_panel=SpeedPanel,
    ),
]
BucketingFlag = Annotated[
    bool,
    typer.Option(
        "--bucketing/--no-bucketing",
        help="Group texts by length; pad each batch to a bucket length.",
        rich_help_panel=SpeedPanel,
    ),
]
QuietFlag = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="No progress bars or stage lines; results are still printed."
    ),
]
EvalBatchSize = Annotated[
    int, typer.Option("--eval-batch-size", min=1, max=65_536, rich_help_panel=SpeedPanel)
]


def _opt(*names: str, help: str, **kw: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=P, show_default=False, **kw)


MODEL_PARAMS: list[inspect.Parameter] = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann)
    for name, ann in [
        ("config", Annotated[Path | None, _opt("--config", help="TOML file with model keys; flags override it.")]),
        ("cell", Annotated[str | None, _opt("--cell", help="lstm | gru | simplernn  [default: lstm]")]),
        ("units", Annotated[str | None, _opt("--units", help="Units H per layer, or widths like 64,32  [default: 32]")]),
        ("stacked", Annotated[int | None, _opt("--stacked", help="Number of recurrent layers  [default: 1]")]),
        ("bidirectional", Annotated[bool | None, _opt("--bidirectional/--no-bidirectional", help="Wrap each recurrent layer in Bidirectional.")]),
        ("dropout", Annotated[float | None, _opt("--dropout", help="Input dropout F, 0 ≤ F < 1  [default: 0]")]),
        ("recurrent_dropout", Annotated[float | None, _opt("--recurrent-dropout", help="Recurrent dropout F, 0 ≤ F < 1  [default: 0]")]),
        ("vocab", Annotated[int | None, _opt("--vocab", help="Vocabulary size V  [default: 10000]")]),
        ("embed_dim", Annotated[int | None, _opt("--embed-dim", help="Embedding width E  [default: 32]")]),
        ("seq_len", Annotated[int | None, _opt("--seq-len", "--timesteps", "--word-num", help="Timesteps T  [default: 500]")]),
        ("mask_zero", Annotated[bool | None, _opt("--mask-zero/--no-mask-zero", help="Skip padding (token 0) steps.")]),
        ("features", Annotated[int | None, _opt("--features", "--data-dim", help="Vector input of D numbers per step (no Embedding).")]),
        ("classes", Annotated[int | None, _opt("--classes", help="1: Dense(1, sigmoid); K ≥ 2: Dense(K, softmax)  [default: 1]")]),
        ("return_sequences", Annotated[bool | None, _opt("--return-sequences/--no-return-sequences", help="Last layer returns the whole sequence; head at every step.")]),
        ("pool", Annotated[str | None, _opt("--pool", help="last | max | mean | max+mean: how the last layer's sequence becomes one vector (max/mean over unmasked steps)  [default: last]")]),
        ("truncate", Annotated[str | None, _opt("--truncate", help="pre | post | head+tail: a longer text keeps its last T, first T, or first K and last T−K tokens  [default: pre]")]),
        ("head_tokens", Annotated[int | None, _opt("--head-tokens", help="With --truncate head+tail: K, the tokens kept from the start  [default: T//4]")]),
        ("embedding_dropout", Annotated[float | None, _opt("--embedding-dropout", help="SpatialDropout1D rate on the embedded sequence, 0 ≤ F < 1  [default: 0]")]),
        ("use_bias", Annotated[bool | None, _opt("--bias/--no-bias", help="Recurrent layers have a bias (--no-bias: 4·h·(h+x) for an LSTM).")]),
        ("activation", Annotated[str | None, _opt("--activation", help="Cell activation: tanh | sigmoid | hard_sigmoid | relu | linear | softsign | elu  [default: tanh]")]),
        ("recurrent_activation", Annotated[str | None, _opt("--recurrent-activation", help="Gate activation, same choices  [default: sigmoid]")]),
        ("unit_forget_bias", Annotated[bool | None, _opt("--unit-forget-bias/--no-unit-forget-bias", help="LSTM forget-gate bias starts at 1.")]),
        ("head", Annotated[str | None, _opt("--head", help="dense | none: none ends the model at the last recurrent layer  [default: dense]")]),
    ]
]  # fmt: skip
MODEL_PARAM_NAMES = [p.name for p in MODEL_PARAMS]


def spec_from_flags(base: dict[str, Any] | None = None, **flags: Any) -> ModelSpec:
    """Merge defaults, an optional ``--config`` file and the flags that were given."""
    from lstmcli.model.spec import merge_flags

    return merge_flags(base, flags)


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: add the model flags to ``fn``'s signature and pass ``spec_flags`` instead.

    ``fn`` receives ``spec_flags``: a dict of the raw model flags, to pass to
    ``spec_from_flags`` (so commands can add their own defaults or read a saved spec first).
    """
    sig = inspect.signature(fn)
    # Resolve fn's (string) annotations in fn's own module: Typer reads them from the wrapper.
    hints = typing.get_type_hints(fn, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in sig.parameters.values()
        if p.name != "spec_flags"
    ]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spec_flags = {name: kwargs.pop(name) for name in MODEL_PARAM_NAMES}
        return fn(*args, spec_flags=spec_flags, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=own + MODEL_PARAMS, return_annotation=None)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + MODEL_PARAMS}
    del wrapper.__wrapped__  # Typer must read the new signature, not fn's
    return wrapper
