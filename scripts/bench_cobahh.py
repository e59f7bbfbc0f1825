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
   seeds and their relative differences, and the time per simulated second (best over
   seeds; jaxneuron's after compilation, Brian2's after code generation).
2. **Scaling** (``--scaling``): jaxneuron alone for each N, with a fixed in-degree of 80
   (so a neuron's input statistics stay those of the 4,000-neuron network), each in its
   own process: connectivity build time, compile time, run time per simulated second and
   peak memory (RSS).

    python scripts/bench_cobahh.py --brian-python /path/to/brian-env/bin/python
    python scripts/bench_cobahh.py --skip-brian --scaling 1000 4000 16000 64000 100000
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
parser.add_argument("--brian-target", default="cython")
parser.add_argument("--skip-brian", action="store_true")
parser.add_argument("--scaling", type=int, nargs="*", default=[])
parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
args = parser.parse_args()


def run_jaxneuron(n, seed, duration, *, indegree=None, dt=0.1):
    """Build and simulate one network: (stats, build s, compile s, run s)."""
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
    compiled = time.perf_counter()
    out = jax.block_until_ready(compiled_fn(net, y0, g0))
    done = time.perf_counter()
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
    return stats, built - began, compiled - built, done - compiled


if args.one is not None:  # one scaling point, in its own process
    stats, build, compile_s, run = run_jaxneuron(
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
        stats, _, _, run = run_jaxneuron(args.n, seed, args.duration, dt=args.dt)
        rows["jaxneuron"].append({**stats, "run_s": run})
        for name in rows:
            r = rows[name][-1]
            print(
                f"seed {seed} {name:<9} rate E {r['rate_E']:6.2f} Hz, I {r['rate_I']:6.2f} Hz, "
                f"CV E {r['cv_E']:.3f}, I {r['cv_I']:.3f}, run {r['run_s']:.2f} s",
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
    per_second = {n: min(r["run_s"] for r in rs) / (args.duration / 1000) for n, rs in rows.items()}
    print(
        f"time per simulated second (best of {args.seeds}): Brian2 ({args.brian_target}) "
        f"{per_second['brian2']:.2f} s, jaxneuron {per_second['jaxneuron']:.2f} s "
        f"(Brian2 / jaxneuron = {per_second['brian2'] / per_second['jaxneuron']:.2f}×)"
    )

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
