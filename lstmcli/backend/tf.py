"""The one import point for TensorFlow and Keras.

Everything that needs them calls ``keras()``/``tensorflow()`` inside a function, so that
``lstmcli --help`` and the pure-arithmetic commands start without loading TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
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
        from lstmcli.core.paths import xla_cache_dir

        cache = xla_cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        flags = os.environ.get("TF_XLA_FLAGS", "")
        os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={cache}".strip()


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while TensorFlow's C++ libraries load.

    TensorFlow 2.21 logs "oneDNN custom operations are on" through absl before its log
    level is read, so TF_CPP_MIN_LOG_LEVEL cannot hide it; the CLI promises one line on
    stderr. Python exceptions are unaffected (they propagate, they are not printed here).
    """
    if "tensorflow" in sys.modules:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no real fd 2 (embedded use): nothing to silence
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow() -> ModuleType:
    _quiet()
    with _stderr_silenced():
        import tensorflow as tf

    return tf


def keras() -> ModuleType:
    _quiet()
    with _stderr_silenced():
        import keras
        import tensorflow  # noqa: F401  (keras imports it lazily; load the C++ side quietly now)

    return keras
