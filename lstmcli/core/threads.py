"""Thread counts of the numeric libraries, set through ``threadpoolctl`` (any BLAS, OpenMP).

``inspect`` recomputes every step in NumPy with small matrix products: spread over threads
on a busy machine (or beside TensorFlow's own thread pool) they run 10–40× slower than on
one thread. ``threadpoolctl`` finds NumPy's BLAS whichever it is (OpenBLAS, MKL, BLIS,
Accelerate), where a hand-written ctypes lookup finds only the OpenBLAS it was written for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one: a container
    or ``taskset`` can allow fewer than ``os.cpu_count()`` reports)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with every BLAS library on one thread; restore the counts after."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def blas_threads() -> list[tuple[str, str, int]]:
    """(library, internal API, threads) of every BLAS loaded in this process."""
    from threadpoolctl import threadpool_info

    return [
        (str(i.get("prefix")), str(i.get("internal_api")), int(i.get("num_threads", 0)))
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
