"""The one import point for TensorFlow and Keras.

Everything that needs them calls ``keras()``/``tensorflow()`` inside a function, so that
``lstmcli --help`` and the pure-arithmetic commands start without loading TensorFlow.
"""

from __future__ import annotations

import os
from types import ModuleType


def _quiet() -> None:
    # TensorFlow prints C++ start-up chatter (oneDNN notes, CPU feature lists) to stderr.
    # 3: also hides the XLA persistent cache's spurious "Error parsing text-format" lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # XLA programs (one per batch shape) take seconds each to compile; keep them on disk so
    # the next run with the same model and bucket shapes starts at full speed.
    if os.environ.get("LSTMCLI_XLA_CACHE", "1") != "0" and "persistent_cache" not in os.environ.get(
        "TF_XLA_FLAGS", ""
    ):
        from lstmcli.paths import home

        cache = home() / "xla-cache"
        cache.mkdir(parents=True, exist_ok=True)
        flags = os.environ.get("TF_XLA_FLAGS", "")
        os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={cache}".strip()


def tensorflow() -> ModuleType:
    _quiet()
    import tensorflow as tf

    return tf


def keras() -> ModuleType:
    _quiet()
    import keras

    return keras
