"""Probe: what Kahan summation costs the fixed-step loop on XLA:CPU, and what a
compensation that XLA fuses might save (issue: the fast path; not a library path).

The library compensates a state with Kahan summation (`jaxneuron._numerics.advance`):
each step computes the increment a = dx + c, the sum s = y + a and the new compensation
c = a − (s − y). Both s and c need a, and XLA:CPU forms no multi-output fusions, so the
sum becomes a kernel of its own per compensated state and step.

This probe runs, in one process (float32, dt 0.025 ms, ``--n`` models × ``--t1`` ms, no
observer, timed runs interleaved, best of ``--repeats``):

- **plain**: the engine's step without compensation;
- **kahan**: with the library's Kahan summation of the states `compensated_states`
  names;
- **hi/lo**: the same states held as a (2, models) array (hi, lo): every increment goes
  to lo (lo ← lo + dx, one kernel that writes both rows), the state the step reads is
  hi + lo, and (hi, lo) is renormalised once per unrolled group (hi ← hi + lo,
  lo ← lo − (hi_new − hi_old)). Its error per step is a rounding of lo, not of the
  state: the accuracy of Kahan summation. The probe swaps `advance` in the neuron
  module while it traces this variant (the library has no such option);
- **hi/lo+b**: the same with the packed array passed through `lax.optimization_barrier`
  at every step (without it, XLA sees through the stack and fuses the steps' sums);

and prints neuron-steps per second, each variant's ratio to plain, its kernels in the
optimised program, and the largest difference of the final states from Kahan's (in the
states' units; spiking models' spike times drift apart between any two summations, so
this is a check that the variant runs the model, not a measure of its accuracy:
``scripts/compensation_accuracy.py`` measures that).

    python scripts/probe_compensation.py [--workloads hh prinz] [--n 4096] [--t1 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time

import jax
import jax.numpy as jnp
import numpy as np
from bench_engine import WORKLOADS

import jaxneuron as jn
import jaxneuron.neurons._neuron as neuron_module
from jaxneuron._protocols import as_state_tuple
from jaxneuron.integrate import fixed_step_loop, initial_carry, model_step, unroll_for
from jaxneuron.parameters import population

DT = 0.025


def hi_lo_advance(barrier: bool):
    """``advance`` with c the packed (hi, lo): dx goes to lo; the value is hi + lo. With
    ``barrier``, the packed array passes an `optimization_barrier` (so that XLA keeps it
    one buffer instead of seeing through the stack)."""

    def advance(x, dx, c):
        if c is None:
            return x + dx, None
        packed = jnp.stack([c[0], c[1] + dx])
        if barrier:
            packed = jax.lax.optimization_barrier(packed)
        return packed[0] + packed[1], packed

    return advance


def library_loop(model, values, n_steps, compensated):
    flags = model.compensated_states(DT)

    @jax.jit
    def run(values):
        models, axes = population(model, values)
        y0 = as_state_tuple(jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models))
        carry, _, _ = fixed_step_loop(
            model_step(models, jnp.float32(DT), axes=axes),
            initial_carry(y0, compensated and flags),
            t0=jnp.float32(0.0),
            dt=jnp.float32(DT),
            n_steps=n_steps,
            save_stride=400,
            unroll=unroll_for(len(flags)),
        )
        return carry[0]

    return run


def hi_lo_loop(model, values, n_steps, barrier):
    flags = model.compensated_states(DT)
    group = unroll_for(len(flags))
    c_axes = tuple(1 if f else None for f in flags)  # (2, models) arrays

    def state_of(carry):
        return tuple(x[0] + x[1] if f else x for x, f in zip(carry, flags, strict=True))

    @jax.jit
    def run(values):
        models, axes = population(model, values)
        y0 = as_state_tuple(jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models))
        step = jax.vmap(
            lambda m, t, y, c: m.fixed_step(t, y, jnp.float32(DT), c),
            in_axes=(axes, None, 0, c_axes),
            out_axes=(0, c_axes),
        )

        def run_group(g, carry):
            y = state_of(carry)
            c = tuple(x if f else None for x, f in zip(carry, flags, strict=True))
            for j in range(group):
                y, c = step(models, (g * group + j).astype(jnp.float32) * DT, y, c)
            out = []
            for yi, ci, f in zip(y, c, flags, strict=True):
                if f:
                    total = ci[0] + ci[1]
                    out.append(jnp.stack([total, ci[1] - (total - ci[0])]))
                else:
                    out.append(yi)
            return tuple(out)

        carry = tuple(
            jnp.stack([x, jnp.zeros_like(x)]) if f else x for x, f in zip(y0, flags, strict=True)
        )
        return state_of(jax.lax.fori_loop(0, n_steps // group, run_group, carry))

    library_advance = neuron_module.advance
    neuron_module.advance = hi_lo_advance(barrier)
    try:
        compiled = run.lower(values).compile()
    finally:
        neuron_module.advance = library_advance
    return compiled


def kernels(compiled) -> int:
    return len(re.findall(r"= \S+ fusion\(", compiled.as_text()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", nargs="+", default=["hh", "prinz"], choices=WORKLOADS)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--t1", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, JAX {jax.__version__}, float32, "
        f"dt {DT} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name in args.workloads:
        model, values, *_ = WORKLOADS[name](args.n)
        model = jn.as_dtype(model, jnp.float32)
        n_steps = int(round(args.t1 / DT)) // 16 * 16
        runs = {
            "plain": library_loop(model, values, n_steps, False).lower(values).compile(),
            "kahan": library_loop(model, values, n_steps, True).lower(values).compile(),
            "hi/lo": hi_lo_loop(model, values, n_steps, False),
            "hi/lo+b": hi_lo_loop(model, values, n_steps, True),
        }
        finals = {k: jax.block_until_ready(r(values)) for k, r in runs.items()}
        best = dict.fromkeys(runs, np.inf)
        for _ in range(args.repeats):
            for k, r in runs.items():
                t = time.perf_counter()
                jax.block_until_ready(r(values))
                best[k] = min(best[k], time.perf_counter() - t)
        print(f"-- {name}: {args.n} models × {n_steps * DT:g} ms, compensated "
              f"{sum(model.compensated_states(DT))} of {model.num_states} states")  # fmt: skip
        for k, r in runs.items():
            diff = max(
                float(np.nanmax(np.abs(np.asarray(a) - np.asarray(b))))
                for a, b in zip(finals[k], finals["kahan"], strict=True)
            )
            print(
                f"{k:6s} {args.n * n_steps / best[k]:.3g} neuron-steps/s, "
                f"{best['plain'] / best[k]:.2f}× plain, {kernels(r)} kernels; "
                f"final states within {diff:.2g} of kahan's"
            )


if __name__ == "__main__":
    main()
