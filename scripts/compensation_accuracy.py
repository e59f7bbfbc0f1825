"""What leaving fast gates uncompensated costs in float32 (issue 27).

`ConductanceNeuron.compensated_states` adds a gate without Kahan summation when its
channel's declared ``tau_max`` is at most 400 steps. This script simulates each model
for ``--t1`` ms with `ExponentialEuler` three ways — float64, float32 with the model's
flags, float32 with every state compensated (the rule before) — and prints the spike
counts and the largest spike-time difference of each float32 run from float64.

    python scripts/compensation_accuracy.py [--t1 2000] [--dt 0.025]
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)  # a script: float64 is the reference

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import spike_times  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--t1", type=float, default=2000.0)
parser.add_argument("--dt", type=float, default=0.025)
args = parser.parse_args()


def spikes(model, dtype):
    m = jn.as_dtype(model, dtype)
    sol = jn.simulate(m, args.t1, solver=jn.ExponentialEuler(dt=args.dt), save_every=args.dt)
    return spike_times(np.asarray(sol.ts, float), np.asarray(sol.V, float))


def every_state(self, dt):
    return (True,) * self.num_states


models = {
    "HH, 10 µA/cm²": jn.build_HH(10.0),
    "HH, 6.5 µA/cm² (near threshold)": jn.build_HH(6.5),
    "Prinz AB/PD 2": jn.build_Prinz(),
}
print(f"float32 against float64, {args.t1:g} ms at dt {args.dt} ms")
print(f"{'model':34s} {'uncompensated':>14s} {'spikes 64/32/32-all':>20s} "
      f"{'max |Δt| flags':>15s} {'max |Δt| all':>13s}")  # fmt: skip
rule = jn.ConductanceNeuron.compensated_states
for label, model in models.items():
    off = [
        n
        for n, f in zip(model.state_names, model.compensated_states(args.dt), strict=True)
        if not f
    ]
    ref, flags = spikes(model, jnp.float64), spikes(model, jnp.float32)
    jn.ConductanceNeuron.compensated_states = every_state  # the rule before, for comparison
    jax.clear_caches()
    every = spikes(model, jnp.float32)
    jn.ConductanceNeuron.compensated_states = rule
    jax.clear_caches()
    n = min(len(ref), len(flags), len(every))
    print(
        f"{label:34s} {','.join(off) or '-':>14s} "
        f"{f'{len(ref)}/{len(flags)}/{len(every)}':>20s} "
        f"{np.max(np.abs(flags[:n] - ref[:n])) * 1e3:12.3f} µs "
        f"{np.max(np.abs(every[:n] - ref[:n])) * 1e3:10.3f} µs"
    )
