"""Benchmark: 10 s of the pyloric circuit (Prinz et al. 2004 example: AB/PD 2, LP 4, PY 1)
with the fixed-step exponential integrator and the adaptive solvers, on this machine,
against SciPy LSODA on the same equations (tests/reference_stg.py), in one process.

    python scripts/bench_circuit.py [--population 1000]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # a script, not the library: it may choose

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron import analysis as an  # noqa: E402

T1 = 10_000.0


def rhythm(ts, V):
    traces = {"AB/PD": V[:, 0], "LP": V[:, 1], "PY": V[:, 2]}
    phases = an.burst_phases(ts, traces, "AB/PD", start=2000.0)
    return phases["AB/PD"]["period"], phases["LP"]["onset"], phases["PY"]["onset"]


def timed(fn, repeats=2):
    fn()  # compile
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, JAX {jax.__version__} "
        f"({jax.devices()[0].platform}); 10 s of the pyloric circuit, float64\n"
    )
    net = jn.pyloric_circuit()
    runs = {
        "exponential_euler dt=0.025": dict(solver=jn.ExponentialEuler(dt=0.025)),
        "exponential_euler dt=0.01": dict(solver=jn.ExponentialEuler(dt=0.01)),
        "tsit5 1e-6": dict(solver="tsit5", rtol=1e-6, atol=1e-6, max_steps=200_000),
        "kvaerno5 1e-6": dict(solver="kvaerno5", rtol=1e-6, atol=1e-6),
        "trbdf2 1e-6": dict(solver="trbdf2", rtol=1e-6, atol=1e-6),
    }
    rows = {}
    for name, kwargs in runs.items():

        def run(kwargs=kwargs):
            sol = jn.simulate(net, T1, save_every=0.25, **kwargs)
            return jax.block_until_ready(sol)

        try:
            sol, seconds = timed(run)
        except jn.SimulationError as err:
            # explicit solvers cannot follow the synapses' τs → 0 (rate up to ~1e5 /ms)
            print(f"{name}: failed — {str(err).split(' Parameters')[0]}")
            continue
        rows[name] = (rhythm(np.asarray(sol.ts), np.asarray(sol.V)), seconds)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import reference_stg as ref

    cells = [ref.PRESETS["AB/PD 2"], ref.PRESETS["LP 4"], ref.PRESETS["PY 1"]]
    start = time.perf_counter()
    ts, y = ref.solve_circuit(cells, ref.PYLORIC_SYNAPSES, T1, rtol=1e-6, atol=1e-6)
    lsoda = time.perf_counter() - start
    rows["scipy LSODA 1e-6"] = (rhythm(ts, y[[0, 13, 26]].T), lsoda)

    base = rows["exponential_euler dt=0.025"][1]
    print(
        f"{'method':<28}{'period (ms)':>12}{'LP on':>8}{'PY on':>8}{'time (s)':>10}"
        f"{'vs exp. Euler':>15}"
    )
    for name, ((period, lp, py), seconds) in rows.items():
        print(
            f"{name:<28}{period:>12.1f}{lp:>8.3f}{py:>8.3f}{seconds:>10.3f}{seconds / base:>14.1f}×"
        )

    strengths = jnp.asarray(
        np.random.default_rng(0).choice(
            [0.0, 1.0, 3.0, 10.0, 30.0, 100.0], size=(args.population, 7)
        )
    )

    @jax.jit
    def population(g):
        def one(gi):
            n = eqx.tree_at(lambda m: m.synapses[0].g, net, gi)
            return jn.simulate(
                n, 1000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1000.0
            ).ys[-1]

        return jax.vmap(one)(g)

    _, seconds = timed(lambda: jax.block_until_ready(population(strengths)), repeats=1)
    steps = args.population * 3 * 1000.0 / 0.025
    print(
        f"\n{args.population} circuits × 1 s in one vmapped call: {seconds:.2f} s "
        f"({steps / seconds:.3g} cell-steps/s)"
    )


if __name__ == "__main__":
    main()
