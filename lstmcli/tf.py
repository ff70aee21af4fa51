"""The one import point for TensorFlow and Keras.

Everything that needs them calls ``keras()``/``tensorflow()`` inside a function, so that
``lstmcli --help`` and the pure-arithmetic commands start without loading TensorFlow.
"""

from __future__ import annotations

import os
from types import ModuleType


def _quiet() -> None:
    # TensorFlow prints C++ start-up chatter (oneDNN notes, CPU feature lists) to stderr.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def tensorflow() -> ModuleType:
    _quiet()
    import tensorflow as tf

    return tf


def keras() -> ModuleType:
    _quiet()
    import keras

    return keras
