"""TensorBoard logs of a training run (``train --tensorboard DIR``).

Keras's own ``TensorBoard`` callback writes them: per epoch, loss, accuracy and the learning
rate under ``DIR/train`` and the validation loss and accuracy under ``DIR/validation`` (the
training callback puts them in the epoch's logs). Its summary ops come from the
``tensorboard`` package (TensorFlow ≥ 2.21 no longer installs it), which is also the viewer:
``pip install 'lstmcli[tensorboard]'``, then ``tensorboard --logdir DIR``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from lstmcli.core.errors import LstmcliError, UsageError

INSTALL = "pip install 'lstmcli[tensorboard]'"


def tensorboard_callbacks(log_dir: Path | None) -> list[Any]:
    """``[keras.callbacks.TensorBoard(log_dir)]``, or ``[]`` without a folder.

    Checked before any data is read: a folder that is a file, or no tensorboard package,
    is refused in one line."""
    if log_dir is None:
        return []
    if log_dir.exists() and not log_dir.is_dir():
        raise UsageError(f"--tensorboard: {log_dir} is a file; give a folder for the logs")
    if importlib.util.find_spec("tensorboard") is None:
        raise LstmcliError(f"--tensorboard needs the tensorboard package: {INSTALL}")
    from lstmcli.backend.tf import keras

    # No graph (one per XLA shape would be written) and no histograms: the curves only.
    return [keras().callbacks.TensorBoard(str(log_dir), write_graph=False, histogram_freq=0)]
