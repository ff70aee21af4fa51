"""The device and cluster flags of ``train``, ``evaluate`` and ``predict``, and starting them.

TensorFlow fixes its devices when its runtime starts, so these run before any other
TensorFlow work of the command.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from lstmcli.cli.app import printable
from lstmcli.core.errors import EXIT_RUNTIME

D = "Devices"

DeviceOption = Annotated[
    str,
    typer.Option("--device", rich_help_panel=D,
                 help="auto | cpu | gpu. auto: a GPU when TensorFlow sees one (lstmcli doctor)."),
]  # fmt: skip
StrategyOption = Annotated[
    str,
    typer.Option("--strategy", rich_help_panel=D,
                 help="auto | one | mirrored | multi-worker. mirrored: every GPU, or --cpu-devices; "
                 "multi-worker: the processes in TF_CONFIG. auto: multi-worker with TF_CONFIG, "
                 "mirrored with several devices, else one."),
]  # fmt: skip
CpuDevicesOption = Annotated[
    int | None,
    typer.Option("--cpu-devices", min=1, max=256, rich_help_panel=D,
                 help="Split the CPU into N logical devices for --strategy mirrored (trying it without GPUs)."),
]  # fmt: skip
PeerTimeoutOption = Annotated[
    float,
    typer.Option("--peer-timeout", min=1.0, rich_help_panel=D,
                 help="multi-worker: seconds to wait for every worker in TF_CONFIG to start."),
]  # fmt: skip


def one_device(device: str) -> None:
    """``evaluate`` and ``predict`` run on one device: the GPU, or the CPU with --device cpu."""
    from lstmcli.backend.device import use_devices

    use_devices(device)


def supervise(seconds: float, message: Callable[[], str]) -> Callable[[], None]:
    """Fork: the child goes on with the command, the parent waits for it to call the returned
    ``joined()``. If it has not after ``seconds``, the parent ends it and exits with one line;
    else the parent exits with the child's exit code when it ends.

    TensorFlow waits for the workers of a cluster inside C++ while holding Python's lock (a
    worker whose peer never came waited 12 minutes here until it was killed), so no timer or
    signal handler in the same process can run; only another process can give up. Without
    ``os.fork`` (Windows) nothing is watched.
    """
    if not hasattr(os, "fork"):
        return lambda: None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _die_with(parent)

        def joined() -> None:
            os.write(w, b"1")
            os.close(w)

        return joined
    os.close(w)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child too; it handles it
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a kill meant for "the worker" ends both
        signal.signal(sig, lambda signum, _frame: os.kill(pid, signum))
    ready, _, _ = select.select([r], [], [], seconds)
    if not ready:  # still waiting for its peers
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        typer.echo(f"lstmcli: {printable(message())}", err=True)
        os._exit(EXIT_RUNTIME)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, as a shell says


def _die_with(parent: int) -> None:
    """The child of ``supervise`` ends when its parent does, even by SIGKILL: on Linux the
    kernel sees to it (prctl PR_SET_PDEATHSIG; the standard library has no call for it), and
    elsewhere a thread notices the parent is gone."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that took effect
        os._exit(EXIT_RUNTIME)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(EXIT_RUNTIME)

    threading.Thread(target=watch, daemon=True).start()


def start_cluster(
    device: str, strategy: str, cpu_devices: int | None, peer_timeout: float,
    output: Path | None = None,
) -> Any:  # fmt: skip
    """Devices, then the strategy (a multi-worker one waits for its peers, at most
    ``peer_timeout`` seconds); returns the ``distribute.Cluster``. A run folder ``output``
    in use is refused first, before TensorFlow starts (``run_training`` takes its lock)."""
    from lstmcli.backend.device import use_devices
    from lstmcli.rundir.lock import check_free
    from lstmcli.train import distribute

    config = distribute.read_tf_config() if strategy in ("auto", "multi-worker") else None
    if output is not None and config is None:  # (a worker of a cluster: see worker_folder)
        check_free(output)
    distribute.check_strategy(strategy, config, cpu_devices or 1)
    many = config is not None and (strategy == "multi-worker" or config.workers > 1)
    # Fork before TensorFlow is loaded (a forked TensorFlow runtime is not safe).
    joined = (
        supervise(peer_timeout, lambda: distribute.peer_timeout_message(config, peer_timeout))
        if many
        else None
    )
    cluster = distribute.make_cluster(strategy, use_devices(device, cpu_devices), config)
    if joined is not None:
        cluster.barrier()  # every worker has joined
        joined()
    return cluster
