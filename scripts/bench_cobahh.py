"""The COBAHH benchmark (Brette et al. 2007, benchmark 3): jaxneuron against Brian2 on the
same machine, and jaxneuron's scaling from 1,000 to 100,000 neurons.

1. **Brian2 comparison** (``--n`` neurons, ``--seeds`` networks, ``--duration`` ms after a
   1-ms warm-up, step ``--dt``, default 0.1 ms): for each seed, Brian2
   (``scripts/_cobahh_brian2.py``, run by ``--brian-python``, a Python with Brian2
   installed; code generation target ``--brian-target``) and then jaxneuron
   (`jaxneuron.cobahh` + `simulate_populations`, float32, Brian2's spike rule: V > −20 mV
   with 3 ms refractoriness) each build and simulate their own random network of the
   same statistics.
   Prints per seed the excitatory and inhibitory rates and mean ISI CVs, the means over
   seeds and their relative differences, and the wall-clock and CPU time per simulated
   second (best over seeds) of the simulation alone:

   - jaxneuron: the call of the compiled simulation (warm-up included), after tracing
     and compilation;
   - Brian2 runtime targets (``cython``, ``numpy``): ``Network.run`` of the ``--duration``
     run, after the warm-up run has generated and compiled the code;
   - Brian2 ``cpp_standalone``: the ``--duration`` run inside the generated ``main``, with
     one thread, timed by clock calls inserted around it; code generation, compilation,
     synapse creation, initialisation, the warm-up and writing the results are not
     counted (they are printed per seed: code generation + ``make``, and the whole
     ``main``).
2. **Profile** (``--profile``): jaxneuron alone, the ``--n``-neuron network of seed 0 for
   ``--duration`` ms with and without its projections (the same initial state, the spike
   rule above; timed runs interleaved, best of 3): the time per step, and the projections'
   share of it.
3. **Scaling** (``--scaling``): jaxneuron alone for each N, with a fixed in-degree of 80
   (so a neuron's input statistics stay those of the 4,000-neuron network), each in its
   own process: connectivity build time, compile time, run time per simulated second and
   peak memory (RSS).

    python scripts/bench_cobahh.py --brian-python /path/to/brian-env/bin/python
    python scripts/bench_cobahh.py --brian-python /path/to/brian-env/bin/python \
        --brian-target cpp_standalone
    python scripts/bench_cobahh.py --skip-brian --scaling 1000 4000 16000 64000 100000
    python scripts/bench_cobahh.py --skip-brian --profile --duration 300
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: spikes counted and delivered as Brian2's example does: V > −20 mV, 3 ms refractory
REFRACTORY = 3.0

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=4000)
parser.add_argument("--seeds", type=int, default=5)
parser.add_argument("--duration", type=float, default=1000.0)
parser.add_argument("--dt", type=float, default=0.1, help="ms, both simulators")
parser.add_argument("--brian-python", default=os.environ.get("BRIAN_PYTHON", sys.executable))
parser.add_argument(
    "--brian-target", default="cython", choices=["cython", "numpy", "cpp_standalone"]
)
parser.add_argument("--skip-brian", action="store_true")
parser.add_argument("--scaling", type=int, nargs="*", default=[])
parser.add_argument("--profile", action="store_true")
parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
args = parser.parse_args()


def run_jaxneuron(n, seed, duration, *, indegree=None, dt=0.1):
    """Build and simulate one network: (stats, build s, compile s, run s, run CPU s)."""
    import jax

    import jaxneuron as jn

    began = time.perf_counter()
    if indegree is None:
        net, y0, g0 = jn.cobahh(n, seed=seed)
    else:
        net, y0, g0 = jn.cobahh(n, p=None, indegree=indegree, seed=seed)
    built = time.perf_counter()

    import equinox as eqx

    def simulate(net, y0, g0):
        sol = jn.simulate_populations(
            net, duration + 1.0, dt=dt, y0=y0, g0=g0, start=1.0, refractory=REFRACTORY
        )
        return sol.counts, sol.isi_sum, sol.isi_sumsq

    compiled_fn = eqx.filter_jit(simulate).lower(net, y0, g0).compile()  # trace and compile
    compiled, compiled_cpu = time.perf_counter(), time.process_time()
    out = jax.block_until_ready(compiled_fn(net, y0, g0))
    done, done_cpu = time.perf_counter(), time.process_time()
    sol = jn.PopulationSolution(
        counts=out[0], isi_sum=out[1], isi_sumsq=out[2], windowed={}, soft_counts={},
        raster=None, states={}, ts=None, finite=None, duration=duration,
    )  # fmt: skip
    stats = {
        "rate_E": float(sol.rate("E")),
        "rate_I": float(sol.rate("I")),
        "cv_E": float(sol.isi_cv("E")),
        "cv_I": float(sol.isi_cv("I")),
    }
    return stats, built - began, compiled - built, done - compiled, done_cpu - compiled_cpu


if args.one is not None:  # one scaling point, in its own process
    stats, build, compile_s, run, _ = run_jaxneuron(
        args.one, 0, args.duration, indegree=80, dt=args.dt
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    print(json.dumps({**stats, "build_s": build, "compile_s": compile_s, "run_s": run,
                      "peak_mib": peak}))  # fmt: skip
    sys.exit()

import jax  # noqa: E402

print(
    f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
    f"{jax.devices()[0].device_kind}, JAX {jax.__version__}; float32, dt {args.dt:g} ms"
)
if not args.skip_brian:
    rows = {"brian2": [], "jaxneuron": []}
    for seed in range(args.seeds):
        out = subprocess.run(
            [args.brian_python, str(HERE / "_cobahh_brian2.py"), "--n", str(args.n),
             "--seeds", str(seed), "--duration", str(args.duration),
             "--target", args.brian_target, "--dt", str(args.dt)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows["brian2"].append(json.loads(out.stdout.strip().splitlines()[-1]))
        stats, _, _, run, run_cpu = run_jaxneuron(args.n, seed, args.duration, dt=args.dt)
        rows["jaxneuron"].append({**stats, "run_s": run, "run_cpu_s": run_cpu})
        for name in rows:
            r = rows[name][-1]
            extra = ""
            if "binary_s" in r:
                extra = (
                    f" (code generation + make {r['build_s']:.1f} s, "
                    f"whole main {r['binary_s']:.2f} s)"
                )
            print(
                f"seed {seed} {name:<9} rate E {r['rate_E']:6.2f} Hz, I {r['rate_I']:6.2f} Hz, "
                f"CV E {r['cv_E']:.3f}, I {r['cv_I']:.3f}, "
                f"run {r['run_s']:.2f} s wall, {r['run_cpu_s']:.2f} s CPU{extra}",
                flush=True,
            )
    means = {
        name: {k: float(np.mean([r[k] for r in rs])) for k in ("rate_E", "rate_I", "cv_E", "cv_I")}
        for name, rs in rows.items()
    }
    for name in rows:
        means[name]["E/I"] = means[name]["rate_E"] / means[name]["rate_I"]
    print(f"\nmeans over {args.seeds} seeds (N = {args.n}, {args.duration:g} ms):")
    for key in ("rate_E", "rate_I", "cv_E", "cv_I", "E/I"):
        b, j = means["brian2"][key], means["jaxneuron"][key]
        print(
            f"  {key:<7} Brian2 {b:8.3f}  jaxneuron {j:8.3f}  "
            f"difference {100 * (j / b - 1):+6.1f} %"
        )
    seconds = args.duration / 1000
    wall = {n: min(r["run_s"] for r in rs) / seconds for n, rs in rows.items()}
    cpu = {n: min(r["run_cpu_s"] for r in rs) / seconds for n, rs in rows.items()}
    if args.brian_target == "cpp_standalone":
        brian_timed = (
            "the run inside the generated main, one thread; code generation, compilation, "
            "synapse creation and writing results not counted"
        )
    else:
        brian_timed = "Network.run after the warm-up run generated and compiled the code"
    print(f"\ntime per simulated second, simulation only (best of {args.seeds}):")
    print(
        f"  Brian2 ({args.brian_target}) {wall['brian2']:.2f} s wall, "
        f"{cpu['brian2']:.2f} s CPU: {brian_timed}"
    )
    print(
        f"  jaxneuron {wall['jaxneuron']:.2f} s wall, {cpu['jaxneuron']:.2f} s CPU: "
        "the compiled simulation's call, tracing and compilation not counted"
    )
    print(
        f"  Brian2 / jaxneuron = {wall['brian2'] / wall['jaxneuron']:.2f}× wall, "
        f"{cpu['brian2'] / cpu['jaxneuron']:.2f}× CPU"
    )

if args.profile:
    import equinox as eqx
    from _timing import best_of

    import jaxneuron as jn

    net, y0, g0 = jn.cobahh(args.n, seed=0)
    alone = jn.PopulationNetwork(net.populations, (), area=net.area)

    def run(net, g0):
        return jn.simulate_populations(
            net, args.duration, dt=args.dt, y0=y0, g0=g0, start=1.0, refractory=REFRACTORY
        ).counts

    calls = {
        "network": (eqx.filter_jit(run).lower(net, g0).compile(), net, g0),
        "populations alone": (eqx.filter_jit(run).lower(alone, None).compile(), alone, None),
    }
    best = best_of({k: (lambda c=c: c[0](c[1], c[2])) for k, c in calls.items()}, 3)
    steps = round(args.duration / args.dt)
    print(f"\nprofile: {args.n} neurons, {args.duration:g} ms; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for name, seconds in best.items():
        print(f"  {name:<18} {1e6 * seconds / steps:8.1f} µs per step")
    share = 1 - best["populations alone"] / best["network"]
    print(f"  the {len(net.projections)} projections: {100 * share:.0f} % of a step")

if args.scaling:
    print(f"\nscaling (in-degree 80, {args.duration:g} ms, one process per N):")
    print(f"{'N':>8} {'build s':>8} {'compile s':>10} {'run s/s':>8} {'peak MiB':>9} {'rate E':>7}")
    for n in args.scaling:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--duration", str(args.duration),
             "--dt", str(args.dt)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{n:>8} {r['build_s']:>8.2f} {r['compile_s']:>10.2f} "
            f"{r['run_s'] / (args.duration / 1000):>8.2f} {r['peak_mib']:>9.0f} "
            f"{r['rate_E']:>7.2f}",
            flush=True,
        )
