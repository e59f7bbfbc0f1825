"""The number of XLA:CPU compute threads, chosen by an application before JAX starts.

JAX sizes XLA:CPU's intra-op thread pool from the process's CPU affinity when its CPU
backend starts, and offers no other control (its maintainers' advice, jax-ml/jax#1539, is
the affinity mask). On a machine shared with other jobs, a pool of one thread per core
waits at every kernel for the thread whose core is taken; one thread keeps its speed.
"""

from __future__ import annotations

import os


def size_cpu_threads(k: int) -> None:
    """Give XLA:CPU ``k`` compute threads: narrow the process's CPU affinity to ``k``
    cores, start the backend (its pool sized from that affinity), then give every thread
    of the process the whole affinity back, so that the ``k`` compute threads run on
    whichever cores the OS finds free. An application entry point calls this before any
    JAX computation (importing jaxneuron runs none); afterwards the pool's size is fixed
    and this changes nothing but starting the backend. Linux only (CPU affinity)."""
    import jax

    if not hasattr(os, "sched_setaffinity"):
        raise ValueError("threads (XLA:CPU compute threads) can be chosen on Linux only")
    cores = sorted(os.sched_getaffinity(0))
    if not (isinstance(k, int) and 1 <= k <= len(cores)):
        raise ValueError(
            f"threads (XLA:CPU compute threads) must be a whole number from 1 to "
            f"{len(cores)} (the cores this process may use), got {k!r}"
        )
    os.sched_setaffinity(0, cores[:k])
    try:
        jax.devices("cpu")  # the backend starts, its pool sized from the narrowed affinity
    finally:
        for task in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(task), cores)
            except ProcessLookupError:  # a thread that has ended meanwhile
                pass
