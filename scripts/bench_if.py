"""Benchmark: 1 s of LIF and AdEx on this machine, event path vs fixed step, and the
throughput of a vmapped LIF population.

Times are the best of ``--repeats`` compiled runs. Ratios are against the fixed-step
LIF run (exponential Euler, dt = 0.1 ms, spike times only), measured in the same
process. Float64 throughout (a script may choose; the library never does).

    python scripts/bench_if.py [--repeats 3] [--population 10000]
"""

from __future__ import annotations

import argparse
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from jaxneuron import ExponentialEuler  # noqa: E402
from jaxneuron.integrate._events import simulate_spiking  # noqa: E402
from jaxneuron.neurons.integrate_and_fire import (  # noqa: E402
    NAUD_2008,
    AdExConfig,
    build_AdEx,
    build_LIF,
)

T1 = 1000.0


def best_time(fn, repeats):
    fn()  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--population", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {jax.devices()[0]}")

    lif = build_LIF(2.0)
    adex = build_AdEx(NAUD_2008["adapting"]["I"], config=AdExConfig.preset("adapting"))
    runs = {
        "LIF fixed dt=0.1 (baseline)": (lif, ExponentialEuler(dt=0.1), None),
        "LIF fixed dt=0.01": (lif, ExponentialEuler(dt=0.01), None),
        "LIF event Tsit5": (lif, None, None),
        "LIF event Tsit5, trace every 0.1 ms": (lif, None, 0.1),
        "AdEx fixed dt=0.01": (adex, ExponentialEuler(dt=0.01), None),
        "AdEx event Tsit5": (adex, None, None),
        "AdEx event Tsit5, trace every 0.1 ms": (adex, None, 0.1),
    }
    timings = {}
    for name, (model, solver, save) in runs.items():

        def run(model=model, solver=solver, save=save):
            sol = simulate_spiking(model, T1, solver=solver, max_spikes=128, save_every=save)
            return sol.spike_times

        timings[name] = best_time(run, args.repeats)
    base = timings["LIF fixed dt=0.1 (baseline)"]
    print(f"\n1 s of simulated time, one neuron (baseline {base * 1e3:.2f} ms wall):")
    for name, seconds in timings.items():
        print(f"  {name:40s} {seconds * 1e3:9.2f} ms   {seconds / base:8.1f}× baseline")

    currents = jnp.linspace(1.0, 4.0, args.population)

    def population(solver):
        @jax.jit
        def run(currents):
            def one(I):
                sol = simulate_spiking(
                    build_LIF(I), T1, solver=solver, max_spikes=128, save_every=None, throw=False
                )
                return sol.spike_count

            return jax.vmap(one)(currents)

        return lambda: run(currents)

    print(f"\nvmapped LIF population, {args.population} neurons × 1 s (spike times only):")
    for name, solver in [("fixed dt=0.1", ExponentialEuler(dt=0.1)), ("event Tsit5", None)]:
        seconds = best_time(population(solver), max(1, args.repeats - 1))
        rate = args.population / seconds
        print(
            f"  {name:14s} {seconds:7.3f} s wall, {rate:12.0f} neuron-seconds/s, "
            f"{seconds / base:10.1f}× the single-neuron baseline, "
            f"{seconds / (base * args.population):6.3f}× per neuron"
        )


if __name__ == "__main__":
    main()
