"""The sweep engine's steps per loop iteration (`Engine(unroll=)`): compile time, run time
and the break-even work, for the choice `Engine` makes when ``unroll`` is left to it
(unrolled at or above ``UNROLL_MIN_WORK`` model-steps per call, one step per iteration
below).

For each model (HH; a Prinz neuron) and dtype: the first call (compile + run) and the best
of ``--repeats`` later calls, for unroll 1 and the model's `unroll_for`, runs interleaved.
The break-even is the work (models × steps) at which the run time that unrolling saves
equals the compile time it adds.

    python scripts/bench_engine_unroll.py
    python scripts/bench_engine_unroll.py --models 256 --t1 1000
"""

from __future__ import annotations

import argparse
import os
import time

import jax

parser = argparse.ArgumentParser()
parser.add_argument("--models", type=int, default=256)
parser.add_argument("--t1", type=float, default=1000.0, help="ms of simulated time")
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
jax.config.update("jax_enable_x64", True)  # both dtypes below; the models are cast

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.integrate import unroll_for  # noqa: E402
from jaxneuron.sweep import Engine  # noqa: E402
from jaxneuron.sweep._engine import UNROLL_MIN_WORK  # noqa: E402

print(f"load average at start: {os.getloadavg()}; {args.models} models × {args.t1:g} ms")
print(f"Engine chooses unroll 1 below {UNROLL_MIN_WORK:.3g} model-steps per call\n")
print("| model | dtype | unroll | first call (s) | later call (s) |")
print("|---|---|---|---|---|")
for label, build, name, values in (
    ("HH", lambda: jn.build_HH(10.0), "K.g", np.linspace(30.0, 40.0, args.models)),
    ("Prinz AB/PD 2", lambda: jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")),
     "CaS.g", np.linspace(2.0, 10.0, args.models)),
):  # fmt: skip
    for dtype in (jnp.float32, jnp.float64):
        model = jn.as_dtype(build(), dtype)
        unrolls = (1, unroll_for(len(model.state_names)))
        engines = {u: Engine(model, (name,), args.t1, 0.025, unroll=u) for u in unrolls}
        given = {name: values.astype(np.dtype(dtype))}
        first, later = {}, {u: [] for u in unrolls}
        for u in unrolls:
            jax.clear_caches()
            t = time.perf_counter()
            jax.block_until_ready(engines[u](given))
            first[u] = time.perf_counter() - t
        for _ in range(args.repeats):
            for u in unrolls:
                t = time.perf_counter()
                jax.block_until_ready(engines[u](given))
                later[u].append(time.perf_counter() - t)
        for u in unrolls:
            print(f"| {label} | {jnp.dtype(dtype).name} | {u} | {first[u]:.2f} | "
                  f"{min(later[u]):.3f} |")  # fmt: skip
        work = args.models * engines[1].n_steps
        saved = (min(later[1]) - min(later[unrolls[1]])) / work  # s per model-step
        added = (first[unrolls[1]] - min(later[unrolls[1]])) - (first[1] - min(later[1]))
        even = added / saved if saved > 0 else float("inf")
        print(f"|  | | break-even | {even:.3g} model-steps | ({added:.1f} s compile, "
              f"{saved * 1e9:.1f} ns per model-step) |")  # fmt: skip
print(f"\nload average at end: {os.getloadavg()}")
