"""The one import point for TensorFlow and Keras.

Everything that needs them calls ``keras()``/``tensorflow()`` inside a function, so that
``lstmcli --help`` and the pure-arithmetic commands start without loading TensorFlow.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from lstmcli.core.errors import LstmcliWarning, UsageError

_state = {"checked": False}
MIN_FREE_BYTES = (
    64 * 1024**2
)  # an XLA program takes about 1 MB; a step fails if it cannot be written


def _quiet() -> None:
    if _state["checked"]:
        return
    # TensorFlow prints C++ start-up chatter (oneDNN notes, CPU feature lists) to stderr.
    # 3: also hides the XLA persistent cache's spurious "Error parsing text-format" lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # lstmcli is built on TensorFlow (tf.data, tf.function): a KERAS_BACKEND meant for other
    # programs (jax, torch, numpy) is overridden here, before Keras reads it.
    os.environ["KERAS_BACKEND"] = "tensorflow"
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "tensorflow":
        raise UsageError("Keras was loaded with another backend; lstmcli needs tensorflow")
    _check_xla_flags(os.environ.get("TF_XLA_FLAGS", ""))
    _use_xla_cache()
    _state["checked"] = True


def _use_xla_cache() -> None:
    """XLA programs (one per batch shape) take seconds each to compile; keep them on disk so
    the next run with the same model and bucket shapes starts at full speed. A cache that
    cannot be written is skipped with one warning: it only saves time."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    off = os.environ.get("LSTMCLI_XLA_CACHE", "1") == "0" or os.environ.get("LSTMCLI_NO_CACHE")
    if off or "persistent_cache" in flags:
        return
    from lstmcli.backend import xlacache

    cache = xlacache.cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if not os.access(cache, os.W_OK):
            raise PermissionError(13, "not writable")
        if shutil.disk_usage(cache).free < MIN_FREE_BYTES:
            raise OSError(28, f"less than {MIN_FREE_BYTES // 1024**2} MiB free")
    except OSError as exc:
        warnings.warn(
            f"XLA program cache {cache} cannot be written ({exc.strerror}); compiling without it",
            LstmcliWarning,
            stacklevel=3,
        )
        return
    xlacache.clean_temp()
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={cache}".strip()


def _check_xla_flags(flags: str) -> None:
    """TensorFlow ends the process (a C++ fatal log, exit 1) at its first operation when
    TF_XLA_FLAGS holds a flag it does not know, and has no API to ask first. So a child
    process asks it, once per value of TF_XLA_FLAGS and TensorFlow version (remembered in
    ``$LSTMCLI_HOME/xla-flags-checked``); an unknown flag is refused in one line."""
    if not flags.strip():
        return
    from importlib.metadata import PackageNotFoundError, version

    from lstmcli.core.paths import home

    tf_version = "?"
    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"):
        with contextlib.suppress(PackageNotFoundError):
            tf_version = version(dist)
            break
    key = hashlib.sha256(f"{tf_version}\0{flags}".encode()).hexdigest()[:32]
    memo = home() / "xla-flags-checked"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if key in memo.read_text(encoding="utf-8").split():
            return
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    probe = "import tensorflow as tf; tf.constant(0)"
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              text=True, errors="replace", timeout=300, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return  # cannot ask: TensorFlow itself will tell
    found = re.search(r"Unknown flags? in TF_XLA_FLAGS: *(.*)", done.stderr)
    if found:
        shown = found.group(1).strip()[:200]
        raise UsageError(
            f"TF_XLA_FLAGS: TensorFlow {tf_version} does not know the flag {shown}; fix or "
            "unset TF_XLA_FLAGS"
        )
    if done.returncode == 0:
        with contextlib.suppress(OSError):
            memo.parent.mkdir(parents=True, exist_ok=True)
            with open(memo, "a", encoding="utf-8") as fh:
                fh.write(key + "\n")


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


# Keras imports scikit-learn (for its keras.wrappers SKLearn classes) and matplotlib.pyplot
# (for keras.visualization) whenever they are installed, each inside `try: import ... except
# ImportError`. lstmcli calls neither, and they were 0.8 s and 0.25 s of each TensorFlow start
# on a 2-core machine (`python -X importtime -c "import tensorflow"`: 3.6-4.0 s with them,
# 2.65-2.8 s without), paid by every `train`, `evaluate`, `predict` and `inspect`. While
# Keras loads they are marked absent (None in sys.modules: Python's documented way to make
# an import raise ImportError), then unmarked, so that a later import of either works as
# usual; only keras.wrappers and keras.visualization see them missing. Checked against the
# Keras versions pyproject.toml allows (tests/test_tf_import.py).
KERAS_EXTRAS_LEFT_OUT = ("sklearn", "matplotlib.pyplot")


@contextlib.contextmanager
def _keras_extras_left_out() -> Iterator[None]:
    if "keras" in sys.modules:
        yield
        return
    marked = [name for name in KERAS_EXTRAS_LEFT_OUT if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def tensorflow() -> ModuleType:
    _quiet()
    with _stderr_silenced(), _keras_extras_left_out():
        import tensorflow as tf

    return tf


def keras() -> ModuleType:
    _quiet()
    with _stderr_silenced(), _keras_extras_left_out():
        import keras
        import tensorflow  # noqa: F401  (keras imports it lazily; load the C++ side quietly now)

    return keras


def untuned(dataset: Any) -> Any:
    """``dataset`` without tf.data's autotuning thread. That thread sleeps between its passes
    for a period that doubles up to 60 s (TensorFlow 2.21), and deleting an iterator waits
    for it to wake: the end of a ``fit`` stalled 37-41 s in 5 of 11 runs of the lecture LSTM
    (bench/tfdata_teardown.py shows it on a bare pipeline). Callers set their parallelism."""
    options = tensorflow().data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
