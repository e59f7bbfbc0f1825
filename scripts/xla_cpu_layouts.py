"""Probe: how XLA:CPU divides one elementwise kernel among its threads, by array shape.

The same chain of elementwise operations (exp, tanh, multiply-add; 2,000 iterations in
a `lax.fori_loop`) runs on arrays of equal size in different shapes: (3, 1024) against
3,072 flat, (3, 4096) against 12,288 flat, (8, 1024) against 8,192 flat. XLA:CPU splits
a kernel along the outermost axis, so 3 rows divide unevenly among 2 threads, and 8 rows
evenly; this is why `CellStack` holds each cell's models in several rows (its
``split``). Run it once with both cores and once pinned (``taskset -c 0``) to compare.

    python scripts/xla_cpu_layouts.py
    taskset -c 0 python scripts/xla_cpu_layouts.py
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp

SHAPES = [(3072,), (3, 1024), (1024, 3), (12288,), (3, 4096), (8192,), (8, 1024)]


def chain(shape):
    @jax.jit
    def run(x):
        def body(i, x):
            for _ in range(6):
                x = jnp.exp(-x * 0.5) * jnp.tanh(x + 1.0) + 0.1 * x
            return x

        return jax.lax.fori_loop(0, 2000, body, x)

    return run, jnp.full(shape, 0.3, jnp.float32)


def main():
    print(f"threads allowed: {sorted(os.sched_getaffinity(0))}; load {os.getloadavg()[0]:.1f}")
    for shape in SHAPES:
        run, x = chain(shape)
        jax.block_until_ready(run(x))
        best = min(_timed(run, x) for _ in range(5))
        print(f"{str(shape):>12}: {best * 1e3:7.1f} ms")


def _timed(run, x):
    start = time.perf_counter()
    jax.block_until_ready(run(x))
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
