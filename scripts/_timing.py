"""Timing for the benchmark scripts: best of several runs, interleaved; the compute threads
of XLA:CPU, and a competing job, for timings on a busy machine."""

from __future__ import annotations

import atexit
import subprocess
import sys
import time

import jax


def size_compute_threads(argv) -> int | None:
    """With ``--compute-threads K`` in ``argv``: give XLA:CPU an intra-op pool of K threads
    (`jaxneuron._threads.size_cpu_threads`, what the command line's ``--threads`` does: the
    K threads then run on whichever cores the OS finds free). Must run before any JAX
    computation. Returns K, or None without the option."""
    if "--compute-threads" not in argv:
        return None
    from jaxneuron._threads import size_cpu_threads

    given = (argv[argv.index("--compute-threads") + 1 :] or ["nothing"])[0]
    k = int(given) if given.isdigit() else given
    try:
        size_cpu_threads(k)
    except ValueError as err:
        raise SystemExit(f"--compute-{err}") from err
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
