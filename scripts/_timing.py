"""Timing for the benchmark scripts: best of several runs, interleaved."""

from __future__ import annotations

import time

import jax


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
