"""Timing for the benchmark scripts: best of several runs, interleaved."""

from __future__ import annotations

import time

import jax


def best_of(fns, repeats):
    """Best time (s) of each function of ``fns`` (name → callable); the first call of each
    compiles, then the timed runs are interleaved (A B C A B C …) so that a machine whose
    speed drifts (a shared CPU) slows them alike."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}
