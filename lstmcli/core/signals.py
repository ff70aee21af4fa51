"""SIGTERM and SIGHUP handled like Ctrl-C, and training that stops only at a complete state.

``kill``, systemd, Slurm and Kubernetes stop a program with SIGTERM; a closed terminal sends
SIGHUP. Python's default for both is to die on the spot, with no cleanup. Inside
``raising()`` they raise ``Terminated``, a ``KeyboardInterrupt``, so every path that cleans
up after Ctrl-C does the same for them. Inside ``deferred()`` (training) the three signals
only set a flag, which the training loop reads at its next complete state (after a batch,
after an epoch) to write a checkpoint and stop; a second signal stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

STOP_SIGNALS = tuple(
    s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
    if s is not None
)  # fmt: skip


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived (raised the way Ctrl-C raises ``KeyboardInterrupt``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """What a shell reports for a program ended by ``signum``: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def interrupt_for(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _raise(signum: int, _frame: Any) -> None:
    raise interrupt_for(signum)


@contextlib.contextmanager
def _handlers(handler: Any, signums: tuple[int, ...]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; elsewhere the defaults stay
        return
    saved = {s: signal.getsignal(s) for s in signums}
    for s in signums:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)


def raising() -> contextlib.AbstractContextManager[None]:
    """SIGTERM and SIGHUP raise ``Terminated`` (SIGINT keeps raising ``KeyboardInterrupt``)."""
    return _handlers(_raise, tuple(s for s in STOP_SIGNALS if s != signal.SIGINT))


@dataclass
class StopRequest:
    """The first stop signal received inside ``deferred()`` (None: none yet)."""

    signum: int | None = None


@contextlib.contextmanager
def deferred() -> Iterator[StopRequest]:
    """Stop signals set ``request.signum`` instead of raising; a second one raises at once."""
    request = StopRequest()

    def handler(signum: int, frame: Any) -> None:
        if request.signum is not None:
            _raise(signum, frame)
        request.signum = signum

    with _handlers(handler, STOP_SIGNALS):
        yield request
