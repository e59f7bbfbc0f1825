"""A degenerate family around AB/PD 2 by constrained random walks (issue: fitting).

Walkers start at AB/PD 2 (Prinz et al. 2004) and step in the logarithms of its seven
non-zero conductances along the directions that keep burst period and duty cycle
unchanged to first order (`jaxneuron.fit.walk_family`); a step is kept only if period,
duty cycle and spikes per burst (exact online features, 10-s runs, after 2 s) all stay
within ``--tolerance`` of AB/PD 2's. Prints the family, the distinct members, each
conductance's span over them, and writes the figure and the table.

    python scripts/walk_family_abpd.py [--walkers 32] [--steps 60] [--tolerance 0.02]
"""

import argparse
import time

import jax
import numpy as np

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.sweep import Table, sweep

parser = argparse.ArgumentParser()
parser.add_argument("--walkers", type=int, default=32)
parser.add_argument("--steps", type=int, default=60)
parser.add_argument("--step", type=float, default=0.05, help="proposal size, log units")
parser.add_argument("--persistence", type=float, default=0.8)
parser.add_argument("--tolerance", type=float, default=0.02)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--figure", default="family_walk_abpd.png")
parser.add_argument("--table", default="family_walk_abpd.parquet")
args = parser.parse_args()

model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
names = [
    n
    for n in jn.parameter_names(model)
    if n.endswith(".g") and float(jn.get_parameter(model, n)) > 0
]
values = {n: float(jn.get_parameter(model, n)) for n in names}
features = ("burst_period", "duty_cycle", "spikes_per_burst")
reference = sweep(
    model, Table({n: [v] for n, v in values.items()}), t1=10_000.0, start=2000.0, progress=False
).table
targets = {k: float(reference[k].iloc[0]) for k in features}
print("targets (AB/PD 2):", targets, flush=True)

t = time.perf_counter()
family = jf.walk_family(
    model,
    targets,
    names,
    t1=10_000.0,
    start=2000.0,
    tolerance=args.tolerance,
    walkers=args.walkers,
    steps=args.steps,
    step=args.step,
    persistence=args.persistence,
    seed=args.seed,
    progress=True,
)
print(f"({time.perf_counter() - t:.0f} s)")
print(family)
distinct = family.distinct(1.1)
print(f"{len(distinct)} distinct members (every two differ by ≥ 10% in some conductance)")
print(distinct[[*names, *features, "error"]].to_string(float_format=lambda x: f"{x:.4g}"))
spans = family.spans()
print("spans:", {n: round(s, 2) for n, s in spans.items()})
print("channels spanning ≥ 2×:", [n for n, s in spans.items() if s >= 2.0])
family.table.to_parquet(args.table)
family.plot().savefig(args.figure, dpi=120)
print("wrote", args.figure, args.table)


def verify(rows):
    """The distinct members again, independently of the sweep engine: float64 simulations
    (`simulate`, exponential Euler 0.025 ms) and the exact features of
    `jaxneuron.analysis.features` over the same window."""
    jax.config.update("jax_enable_x64", True)
    base = jn.as_dtype(model, np.float64)
    columns = {n: np.asarray(rows[n], dtype=np.float64) for n in names}

    @jax.jit
    @jax.vmap
    def run(values):
        m = jn.set_parameters(base, values)
        sol = jn.simulate(m, 10_000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.1)
        return sol.ts, sol.V

    ts, Vs = run(columns)
    out = []
    for t, v in zip(np.asarray(ts), np.asarray(Vs), strict=True):
        f = jn.analysis.features(t, v, features, start=2000.0)
        out.append(max(abs(f[k] - targets[k]) / targets[k] for k in features))
    return np.asarray(out)


errors = verify(distinct)
within = int(np.sum(errors <= args.tolerance))
print(
    f"float64 check of the {len(distinct)} distinct members: {within} within "
    f"{args.tolerance:.0%} (largest error {np.nanmax(errors):.3%})"
)
