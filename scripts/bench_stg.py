"""Benchmark: the Prinz AB/PD 2 neuron on this machine.

1. 10 s of AB/PD 2 with every solver against SciPy LSODA at matched burst-period
   accuracy: for each method the loosest tolerance (or largest dt) from a ladder whose
   burst period is within ``--target`` (relative) of a SciPy LSODA solution at
   rtol = atol = 1e-11 is timed (best of ``--repeats`` compiled runs).
2. A vmap of ``--population`` random Prinz models (database grid levels) for 1 s with
   exponential Euler (dt 0.025 ms, float32 and float64): neuron-steps per second.

    python scripts/bench_stg.py [--target 0.001] [--population 10000]
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
from scipy.integrate import solve_ivp  # noqa: E402

import jaxneuron as jn  # noqa: E402

T1, SAVE, START = 10_000.0, 0.05, 1000.0
TOLERANCES = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
STEPS = [0.05, 0.025, 0.01, 0.005]


def model():
    return jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))


def scipy_rhs():
    # the independent NumPy implementation of the tests, as a SciPy user would write it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import reference_stg

    return reference_stg.make_rhs(jn.PRINZ_2004["AB/PD 2"])


SCIPY_RHS = scipy_rhs()


def run_scipy(tol):
    t_eval = np.linspace(0.0, T1, int(round(T1 / SAVE)) + 1)
    sol = solve_ivp(
        SCIPY_RHS,
        (0.0, T1),
        np.asarray(model().initial_state()),
        method="LSODA",
        t_eval=t_eval,
        rtol=tol,
        atol=tol,
    )
    return sol.t, sol.y[0]


def run_jax(solver, tol):
    if isinstance(solver, jn.ExponentialEuler):
        sol = jn.simulate(model(), T1, solver=solver, save_every=SAVE)
    else:
        sol = jn.simulate(model(), T1, solver=solver, rtol=tol, atol=tol, save_every=SAVE)
    jax.block_until_ready(sol.ys)
    return sol.ts, sol.V


def period(ts, V):
    return jn.analysis.burst_metrics(np.asarray(ts), np.asarray(V), start=START)["period"]


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def accuracy_table(target, repeats):
    reference = period(*run_scipy(1e-11))
    print(
        f"reference burst period {reference:.3f} ms (SciPy LSODA, rtol = atol = 1e-11); "
        f"target relative error {target:g}\n"
    )
    methods = {
        "scipy LSODA": (None, TOLERANCES),
        "tsit5": (jn.get_solver("tsit5"), TOLERANCES),
        "kvaerno5": (jn.get_solver("kvaerno5"), TOLERANCES),
        "kvaerno3": (jn.get_solver("kvaerno3"), TOLERANCES),
        "trbdf2": (jn.get_solver("trbdf2"), TOLERANCES),
        "kencarp4": (jn.get_solver("kencarp4"), TOLERANCES),
        "exponential_euler": ("exp", STEPS),
    }
    rows = {}
    for name, (solver, ladder) in methods.items():
        for setting in ladder:
            if solver is None:
                fn = lambda t=setting: run_scipy(t)  # noqa: E731
            elif solver == "exp":
                fn = lambda t=setting: run_jax(jn.ExponentialEuler(dt=t), None)  # noqa: E731
            else:
                fn = lambda s=solver, t=setting: run_jax(s, t)  # noqa: E731
            try:
                err = abs(period(*fn()) / reference - 1.0)
            except jn.SimulationError:
                continue
            if err <= target:
                rows[name] = (setting, err, best_time(fn, repeats))
                break
        got = rows.get(name)
        print(
            f"  {name}: "
            + (
                "no setting met the target"
                if got is None
                else f"{got[0]:g} → error {got[1]:.1e}, {got[2]:.3f} s"
            ),
            flush=True,
        )
    lsoda = rows["scipy LSODA"][2]
    print(f"\n{'method':<20}{'tol / dt':>10}{'period err':>12}{'time (s)':>10}{'vs LSODA':>10}")
    for name, (setting, err, seconds) in rows.items():
        print(f"{name:<20}{setting:>10.0e}{err:>12.1e}{seconds:>10.3f}{lsoda / seconds:>9.1f}×")


def population_throughput(n, dtype):
    rng = np.random.default_rng(0)
    numbers = rng.integers(1, jn.PRINZ_2003_SIZE + 1, size=n)
    g = jnp.asarray(jn.prinz_2003_conductances(numbers), dtype=dtype)
    base = jn.as_dtype(model(), dtype)

    @eqx.filter_jit
    def run(g):
        def one(gi):
            m = eqx.tree_at(
                lambda m: tuple(c.g for c in m.channels), base, tuple(gi[k] for k in range(8))
            )
            sol = jn.simulate(
                m, 1000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1000.0, throw=False
            )
            return sol.V[-1]

        return jax.vmap(one)(g)

    jax.block_until_ready(run(g))
    seconds = best_time(lambda: jax.block_until_ready(run(g)), 2)
    steps = n * 1000.0 / 0.025
    print(
        f"  {n} random database models × 1 s, {jnp.dtype(dtype).name}: {seconds:.2f} s → "
        f"{steps / seconds:.3g} neuron-steps/s"
    )
    return steps / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, JAX {jax.__version__} "
        f"({jax.devices()[0].platform}); 10 s of Prinz AB/PD 2, float64\n"
    )
    if not args.skip_accuracy:
        accuracy_table(args.target, args.repeats)
    print("\nPopulation, exponential Euler (dt 0.025 ms):")
    r32 = population_throughput(args.population, jnp.float32)
    r64 = population_throughput(args.population, jnp.float64)
    print(f"  float32 / float64 throughput ratio: {r32 / r64:.2f}")


if __name__ == "__main__":
    main()
