"""The device and cluster flags of ``train``, ``evaluate`` and ``predict``, and starting them.

TensorFlow fixes its devices when its runtime starts, so these run before any other
TensorFlow work of the command.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
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


@contextlib.contextmanager
def deadline(seconds: float, message: Callable[[], str]) -> Iterator[None]:
    """End the process with one line if the block has not finished after ``seconds``.

    TensorFlow waits for the workers of a cluster inside C++ (for an hour), where Python
    cannot interrupt it; a timer thread is the only way to give up with a clear line.
    """

    def expire() -> None:
        typer.echo(f"lstmcli: {printable(message())}", err=True)
        os._exit(EXIT_RUNTIME)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def start_cluster(device: str, strategy: str, cpu_devices: int | None, peer_timeout: float) -> Any:
    """Devices, then the strategy (a multi-worker one waits for its peers, at most
    ``peer_timeout`` seconds); returns the ``distribute.Cluster``."""
    from lstmcli.backend.device import use_devices
    from lstmcli.core.errors import UsageError
    from lstmcli.train import distribute

    if strategy not in distribute.STRATEGIES:
        raise UsageError(
            f"--strategy: {strategy!r} is not one of {', '.join(distribute.STRATEGIES)}"
        )
    config = distribute.read_tf_config() if strategy in ("auto", "multi-worker") else None
    choice = use_devices(device, cpu_devices)
    if config is None or strategy == "one" or (strategy == "auto" and config.workers < 2):
        return distribute.make_cluster(strategy, choice, config)
    with deadline(peer_timeout, lambda: distribute.peer_timeout_message(config, peer_timeout)):
        cluster = distribute.make_cluster(strategy, choice, config)
        cluster.barrier()  # every worker has joined
    return cluster
