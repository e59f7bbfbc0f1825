"""Timing for the benchmark scripts: best of several runs, interleaved; the compute threads
of XLA:CPU, and a competing job, for timings on a busy machine."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time

import jax


def size_compute_threads(argv) -> int | None:
    """With ``--compute-threads K`` in ``argv``: give XLA:CPU an intra-op pool of K threads.

    JAX sizes that pool from the process's CPU affinity when its CPU backend starts and
    offers no other control (its maintainers' advice, jax-ml/jax#1539, is the affinity
    mask). So this narrows the affinity to K cores, starts the backend, then gives every
    thread of the process the whole affinity back: the K compute threads run on whichever
    cores the OS finds free. Must run before anything starts the backend (importing
    jaxneuron does). Returns K, or None without the option."""
    if "--compute-threads" not in argv:
        return None
    cores = sorted(os.sched_getaffinity(0))
    given = argv[argv.index("--compute-threads") + 1 :][:1]
    if not (given and given[0].isdigit() and 1 <= int(given[0]) <= len(cores)):
        raise SystemExit(
            f"--compute-threads: give a number of threads from 1 to {len(cores)} (the cores "
            f"this process may use), got {' '.join(given) or 'nothing'}"
        )
    k = int(given[0])
    os.sched_setaffinity(0, cores[:k])
    jax.devices()  # the backend starts, its pool sized from the narrowed affinity
    for task in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(task), cores)
    return k


def compete(n: int) -> None:
    """Start ``n`` busy processes (each spins one core, unpinned) that last until this
    process exits: a machine shared with another job."""
    spin = [sys.executable, "-c", "while True: pass"]
    jobs = [subprocess.Popen(spin) for _ in range(n)]
    atexit.register(lambda: [job.kill() for job in jobs])
    time.sleep(0.5)


def best_of(fns, repeats, clock=time.perf_counter):
    """Best time (s) of each function of ``fns`` (name → callable); the first call of each
    compiles, then the timed runs are interleaved (A B C A B C …) so that a machine whose
    speed drifts (a shared CPU) slows them alike. ``clock``: wall time by default;
    ``time.process_time`` counts this process's CPU time (all its threads), which other
    jobs on the machine disturb less."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            jax.block_until_ready(fn())
            times[name].append(clock() - start)
    return {name: min(t) for name, t in times.items()}


def best_wall_and_cpu(fns, repeats):
    """``(wall, cpu)``: the best wall time and the best CPU time of this process (s) of
    each function of ``fns``, from the same interleaved runs as `best_of`."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    return {k: min(v) for k, v in wall.items()}, {k: min(v) for k, v in cpu.items()}
