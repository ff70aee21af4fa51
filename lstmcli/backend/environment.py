"""What ``lstmcli doctor`` reports about TensorFlow and the machine, as plain data.

Every probe is guarded: a TensorFlow that is missing or fails to import (a broken wheel, a
CUDA library that does not load) becomes a line in ``problems``, never a traceback.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from lstmcli.core import paths

# The distributions that may provide each module (the first one installed is reported).
PACKAGES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": ("keras",),
    "numpy": ("numpy",),
}


@dataclass
class Environment:
    python: str
    platform: str
    packages: dict[str, dict[str, str | None]]  # module → {"distribution", "version", "imported"}
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    build: dict[str, Any] = field(default_factory=dict)  # CUDA/cuDNN versions of the build
    devices: list[dict[str, str]] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)  # what `train` would use
    threads: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # filled by the caller (data layer)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def installed(module: str) -> tuple[str | None, str | None]:
    """(distribution, version) of the first distribution providing ``module``."""
    for dist in PACKAGES[module]:
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None, None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _import(module: str, env: Environment) -> Any:
    """Import ``tensorflow`` or ``keras`` through backend.tf; None (and a problem) on failure."""
    from lstmcli.backend import tf as tfmod

    try:
        mod = tfmod.tensorflow() if module == "tensorflow" else tfmod.keras()
    except Exception as exc:  # any failure of a broken install is a finding, not a crash
        dist, _ = installed(module)
        why = "is not installed" if dist is None else f"({dist}) cannot be imported"
        env.problems.append(f"{module} {why}: {_first_line(exc)}")
        return None
    env.packages[module]["imported"] = str(getattr(mod, "__version__", "?"))
    return mod


def gather() -> Environment:
    env = Environment(
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        packages={m: dict(zip(("distribution", "version"), installed(m), strict=True)) | {"imported": None}
                  for m in PACKAGES},
    )  # fmt: skip
    if sys.version_info < (3, 11, 4):
        env.problems.append(
            f"Python {env.python} is older than 3.11.4 (tarfile extraction filters)"
        )
    try:
        import numpy

        env.packages["numpy"]["imported"] = numpy.__version__
    except Exception as exc:
        env.problems.append(f"numpy cannot be imported: {_first_line(exc)}")
    env.threads = _threads()
    env.cache = _cache()
    tf = _import("tensorflow", env)
    if tf is not None and _import("keras", env) is not None:
        _probe_tensorflow(tf, env)
    return env


def _probe_tensorflow(tf: Any, env: Environment) -> None:
    from lstmcli.backend import device as dev
    from lstmcli.model.spec import ModelSpec

    try:
        info = dict(tf.sysconfig.get_build_info())
        env.build = {k: info.get(k) for k in ("is_cuda_build", "cuda_version", "cudnn_version")}
        env.devices = [
            {"name": d.name, "type": d.device_type} for d in tf.config.list_physical_devices()
        ]
        env.threads["tensorflow_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        env.threads["tensorflow_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    except Exception as exc:
        env.problems.append(f"TensorFlow imports but cannot list its devices: {_first_line(exc)}")
        return
    gpu = any(d["type"] == "GPU" for d in env.devices)
    lecture = ModelSpec(mask_zero=True)  # `lstmcli train`'s default model
    xla, why = dev.xla_allowed(lecture, gpu, 1, 1)
    env.defaults = {
        "device": "gpu" if gpu else "cpu",
        "cudnn": dev.uses_cudnn(lecture, gpu),
        "cudnn_why": "LSTM/GRU on a GPU" if gpu else "no GPU: Keras's own loop on the CPU",
        "xla_train": xla,
        "xla_why": why or "the --xla default; --no-xla turns it off",
        "xla_evaluate": False,
        "padding": dev.layout(True, gpu),
    }
    if not gpu and env.build.get("is_cuda_build"):
        env.notes.append(
            "no GPU seen: fine on a machine without one; with an NVIDIA GPU, install "
            "lstmcli[gpu] and check that nvidia-smi sees it"
        )


def _threads() -> dict[str, Any]:
    from lstmcli.core.threads import blas_threads, usable_cores

    cores = usable_cores()
    out: dict[str, Any] = {"cores": cores}
    for var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            out[var] = os.environ[var]
    try:
        out["blas"] = [{"library": lib, "api": api, "threads": n} for lib, api, n in blas_threads()]
    except Exception:  # threadpoolctl missing or failing: the rest of the report still stands
        out["blas"] = []
    return out


def _cache() -> dict[str, Any]:
    home = paths.home()
    size = files = 0
    if home.is_dir():
        for root, _dirs, names in os.walk(home):
            for name in names:
                try:
                    size += (Path(root) / name).stat().st_size
                    files += 1
                except OSError:
                    continue
    return {"path": str(home), "exists": home.is_dir(), "bytes": size, "files": files}
