"""lstmcli's two own Keras layers: global max and mean pooling over the unmasked steps.

Written here because Keras's are wrong for a masked text model (Keras 3.15):
``GlobalMaxPooling1D.call`` takes no mask, so front padding (outputs of 0) enters the max and
a bucketed prediction would differ from a padded one; ``GlobalAveragePooling1D`` honours the
mask but divides 0 by 0 (NaN) for a text with no words (e.g. "!!!"). Here both pool the
unmasked steps only, and a text with no unmasked step pools to 0, like the last state of an
LSTM that read nothing. Without a mask they are Keras's own max and mean.

The classes are made on first use (TensorFlow is imported inside functions only) and
registered as ``lstmcli>NAME``; ``modelconfig`` allows exactly these names, and ``modelfile``
hands them to Keras when loading.

>>> POOL_CLASSES["max"]
'MaskedGlobalMaxPooling1D'
"""

from __future__ import annotations

import functools
from typing import Any

PACKAGE = "lstmcli"
MODULE = __name__  # what Keras writes as these classes' "module" in a saved config
POOL_CLASSES = {"max": "MaskedGlobalMaxPooling1D", "mean": "MaskedGlobalAveragePooling1D"}
REGISTERED = {name: f"{PACKAGE}>{name}" for name in POOL_CLASSES.values()}


@functools.cache
def _classes() -> dict[str, Any]:
    from lstmcli.backend.tf import keras

    k = keras()
    ops = k.ops

    class _MaskedPooling(k.layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.supports_masking = True

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (input_shape[0], input_shape[-1])

        def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
            return None  # one vector per text: nothing left to mask

    @k.saving.register_keras_serializable(package=PACKAGE)
    class MaskedGlobalMaxPooling1D(_MaskedPooling):
        """(B, T, d) → (B, d): max over the unmasked steps; 0 where none is unmasked."""

        def call(self, inputs: Any, mask: Any = None) -> Any:
            if mask is None:
                return ops.max(inputs, axis=1)
            keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
            low = ops.full_like(inputs, float("-inf"))
            top = ops.max(ops.where(keep, inputs, low), axis=1)
            return ops.where(ops.any(keep, axis=1), top, ops.zeros_like(top))

    @k.saving.register_keras_serializable(package=PACKAGE)
    class MaskedGlobalAveragePooling1D(_MaskedPooling):
        """(B, T, d) → (B, d): mean over the unmasked steps; 0 where none is unmasked."""

        def call(self, inputs: Any, mask: Any = None) -> Any:
            if mask is None:
                return ops.mean(inputs, axis=1)
            keep = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
            total = ops.sum(inputs * keep, axis=1)
            return total / ops.maximum(ops.sum(keep, axis=1), 1.0)

    return {c.__name__: c for c in (MaskedGlobalMaxPooling1D, MaskedGlobalAveragePooling1D)}


def pooling_layer(kind: str, name: str) -> Any:
    """A new pooling layer: ``kind`` is "max" or "mean"."""
    return _classes()[POOL_CLASSES[kind]](name=name)


def custom_objects() -> dict[str, Any]:
    """What Keras needs to load a model with these layers (by registered name)."""
    return {REGISTERED[name]: cls for name, cls in _classes().items()}
