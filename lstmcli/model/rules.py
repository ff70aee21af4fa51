"""What a model must be for a task: the defaults and checks of a text classifier to train.

The CLI asks these; it does not decide model rules itself.
"""

from __future__ import annotations

from typing import Any

from lstmcli.core.errors import UsageError
from lstmcli.model.spec import ModelSpec


def training_defaults(
    flags: dict[str, Any], embedding_given: bool, freeze: bool | None
) -> dict[str, Any]:
    """Defaults a training run puts under the user's flags.

    Token input masks its padding: exact for any padded length, so bucketed and padded
    predictions are equal. A pretrained embedding is frozen unless fine-tuning is asked for.
    """
    base: dict[str, Any] = {}
    if flags.get("features") is None:
        base["mask_zero"] = True
    if embedding_given:
        base["trainable_embedding"] = not (freeze is None or freeze)
    return base


def check_trainable(spec: ModelSpec) -> None:
    """``train`` classifies whole texts: token input, one prediction per text."""
    if not spec.token_input:
        raise UsageError("--features: train reads text, so it needs token input (drop --features)")
    if spec.return_sequences:
        raise UsageError("--return-sequences: train classifies whole texts; drop it")
    if spec.head == "none":
        raise UsageError(
            "--head none: train needs a classifier head; drop it (or use --head dense)"
        )
