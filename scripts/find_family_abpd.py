"""A degenerate family around AB/PD 2 (issue: fitting): many conductance sets, one rhythm.

Sweeps log-uniform draws of the seven non-zero AB/PD 2 conductances (each within ÷/×
``--span`` of its value), keeps the models whose burst period, duty cycle and spikes per
burst lie within ``--tolerance`` of AB/PD 2's (exact online features, 10 s runs, features
after 2 s), refines near misses with a feature fit, and prints the family, the span of
each conductance over its members, and writes the figure.

    python scripts/find_family_abpd.py [--n 20000] [--span 2.5] [--tolerance 0.02]
"""

import argparse
import time

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.sweep import Random, Table, sweep

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=20000)
parser.add_argument("--span", type=float, default=2.5)
parser.add_argument("--tolerance", type=float, default=0.02)
parser.add_argument("--refine", type=int, default=64, help="near misses to refine by fitting")
parser.add_argument("--figure", default="family_abpd.png")
parser.add_argument("--table", default="family_abpd.parquet", help="every candidate examined")
args = parser.parse_args()

model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
names = [
    n
    for n in jn.parameter_names(model)
    if n.endswith(".g") and float(jn.get_parameter(model, n)) > 0
]
values = {n: float(jn.get_parameter(model, n)) for n in names}
reference = sweep(
    model, Table({n: [v] for n, v in values.items()}), t1=10_000.0, start=2000.0, progress=False
).table
features = ("burst_period", "duty_cycle", "spikes_per_burst")
targets = {k: float(reference[k].iloc[0]) for k in features}
print("targets (AB/PD 2):", targets)

refine = None
if args.refine:
    refine = jf.FeatureLoss(
        [
            jf.BurstPeriod(targets["burst_period"]),
            jf.DutyCycle(targets["duty_cycle"]),
            jf.SpikesPerBurst(targets["spikes_per_burst"]),
        ],
        t1=6000.0,
        start=1500.0,
        save_every=0.1,
    )
space = Random(
    {n: (v / args.span, v * args.span, "log") for n, v in values.items()}, n=args.n, seed=1
)
t = time.perf_counter()
family = jf.find_family(
    model,
    targets,
    space,
    t1=10_000.0,
    start=2000.0,
    tolerance=args.tolerance,
    refine=refine,
    max_refine=args.refine,
    progress=False,
)
print(f"({time.perf_counter() - t:.0f} s)")
print(family)
members = family.members
print(members[[*names, *features, "origin", "error"]].to_string(float_format=lambda x: f"{x:.4g}"))
spans = family.spans()
print("channels spanning ≥ 2×:", [n for n, s in spans.items() if s >= 2.0])
family.table.to_parquet(args.table)
closest = family.table.nsmallest(10, "error")
print("closest candidates:")
print(closest[[*names, *features, "origin", "error"]].to_string(float_format=lambda x: f"{x:.4g}"))
for k in features:
    e = (family.table[k] - targets[k]).abs() / abs(targets[k])
    print(f"  {k}: {int((e <= args.tolerance).sum())} candidates within {args.tolerance:.0%}")
family.plot().savefig(args.figure, dpi=120)
print("figure:", args.figure)
