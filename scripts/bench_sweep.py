"""Benchmark: population throughput of the sweep engine on random Prinz 2003 database models.

For each population size, in one process on one machine, prints neuron-steps per second of

- the sweep engine (`jaxneuron.sweep.Engine`: exponential Euler, batch-minor state,
  Kahan summation in float32, streaming features and the online class in the loop carry),
- (b) a plain ``lax.scan`` loop written here: the vmapped model step (``fixed_step``), one
  step per scan iteration, no features, no compensation — the obvious JAX program,
- (a) a vmapped diffrax Tsit5 solve (rtol 1e-4, atol 1e-5, saving only the end point),
  timed on at most ``--tsit5-max`` models (its rate does not improve with more lanes:
  the lanes run in lockstep until the slowest finishes),

and the ratios engine / (b) and engine / (a). With ``--pallas`` (the default on a GPU) it
also times the engine as one Pallas kernel (`jaxneuron.sweep.run_pallas`: the whole
time loop on chip); on CPU that kernel runs in Pallas' interpreter and is slow. Every time
is the best of ``--repeats`` compiled runs, the runs of the engine, (b) and the kernel
alternating so that a machine whose speed drifts (a shared CPU) slows them alike.

    python scripts/bench_sweep.py --sizes 10000 100000 --t1 500 [--dtype float32]
"""

from __future__ import annotations

import argparse
import platform

import jax

jax.config.update("jax_enable_x64", True)  # a script, not the library: float64 is available

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _timing import best_of  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import StreamingFeatures  # noqa: E402
from jaxneuron.parameters import population as batched  # noqa: E402
from jaxneuron.sweep import Engine, run_pallas  # noqa: E402

NAMES = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)
DT = 0.025


def population(n, seed=0):
    numbers = np.random.default_rng(seed).integers(1, jn.PRINZ_2003_SIZE + 1, size=n)
    g = jn.prinz_2003_conductances(numbers)
    return {name: g[:, i] for i, name in enumerate(NAMES)}


def best(fn, repeats):
    return best_of({"": fn}, repeats)[""]


def _engine(t1, dtype):
    model = jn.as_dtype(jn.build_Prinz(), dtype)
    return Engine(model, NAMES, t1, DT, features=StreamingFeatures(start=t1 / 2))


def engine_run(values, t1, dtype):
    engine = _engine(t1, dtype)
    return lambda: engine(values, devices=jax.local_devices())["class"]


def pallas_run(values, t1, dtype):
    import equinox as eqx

    engine = _engine(t1, dtype)
    values = {k: jnp.asarray(v, dtype) for k, v in values.items()}
    run = eqx.filter_jit(run_pallas)
    return lambda: run(engine, values)["class"]


def scan_run(values, t1, dtype):
    base = jn.as_dtype(jn.build_Prinz(), dtype)
    n_steps = int(round(t1 / DT))

    @jax.jit
    def run(values):
        models, axes = batched(base, values)
        y0 = jax.vmap(lambda m: tuple(m.initial_state()), in_axes=(axes,))(models)
        step = jax.vmap(lambda m, y, t: m.fixed_step(t, y, DT)[0], in_axes=(axes, 0, None))

        def body(carry, _):
            y, n = carry
            return (step(models, y, n * DT), n + 1), None

        (y, _), _ = jax.lax.scan(body, (y0, jnp.asarray(0, dtype)), None, length=n_steps)
        return y[0]

    values = {k: jnp.asarray(v, dtype) for k, v in values.items()}
    return lambda: run(values)


def tsit5_run(values, t1, dtype):
    base = jn.as_dtype(jn.build_Prinz(), dtype)

    @jax.jit
    def run(values):
        def one(v):
            m = jn.set_parameters(base, v)
            sol = jn.simulate(
                m, t1, solver=diffrax.Tsit5(), save_every=t1, rtol=1e-4, atol=1e-5, throw=False
            )
            return sol.V[-1]

        return jax.vmap(one)(values)

    values = {k: jnp.asarray(v, dtype) for k, v in values.items()}
    return lambda: run(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--t1", type=float, default=500.0, help="simulated ms per model")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tsit5-max", type=int, default=1000)
    parser.add_argument(
        "--pallas", action=argparse.BooleanOptionalAction, default=jax.default_backend() == "gpu"
    )
    args = parser.parse_args()
    dtype = jnp.dtype(args.dtype)
    device = jax.devices()[0]
    print(
        f"{platform.processor() or platform.machine()} / {device.device_kind} "
        f"({len(jax.devices())} {device.platform} device(s)), JAX {jax.__version__}; Prinz "
        f"database models, {args.t1:g} ms each, dt {DT} ms, {dtype.name}\n"
    )
    print(
        f"{'models':>9} {'engine':>12} {'(b) scan':>12} {'(a) Tsit5':>12} "
        f"{'engine/(b)':>11} {'engine/(a)':>11}"
        + (f" {'pallas':>12} {'pallas/(b)':>11}" if args.pallas else "")
        + "   (neuron-steps/s)"
    )
    for n in args.sizes:
        values = population(n)
        steps = n * args.t1 / DT
        timed = {
            "engine": engine_run(values, args.t1, dtype),
            "scan": scan_run(values, args.t1, dtype),
        }
        if args.pallas:
            timed["pallas"] = pallas_run(values, args.t1, dtype)
        seconds = best_of(timed, args.repeats)
        r_engine, r_scan = steps / seconds["engine"], steps / seconds["scan"]
        m = min(n, args.tsit5_max)
        sub = {k: v[:m] for k, v in values.items()}
        # Tsit5's rate is counted in exponential-Euler-equivalent steps of the same work
        r_tsit5 = m * args.t1 / DT / best(tsit5_run(sub, args.t1, dtype), 1)
        line = (
            f"{n:>9} {r_engine:>12.3g} {r_scan:>12.3g} {r_tsit5:>12.3g} "
            f"{r_engine / r_scan:>10.2f}× {r_engine / r_tsit5:>10.1f}×"
        )
        if args.pallas:
            r_pallas = steps / seconds["pallas"]
            line += f" {r_pallas:>12.3g} {r_pallas / r_scan:>10.2f}×"
        print(line, flush=True)


if __name__ == "__main__":
    main()
