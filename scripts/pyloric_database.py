"""Rebuild the Prinz, Bucher & Marder (2004) pyloric network database, or a random sample
of it, and print the pyloric-like and 15-criteria fractions next to the published ones.

Every network (`jaxneuron.sweep.PyloricDatabase`) runs in the sweep engine with the rhythm
measured in the loop (`StreamingRhythm` + `PyloricCriteria`): per cell, features and class;
per network, period, phases, burst lengths, ``pyloric_like``, ``criteria_met`` and
``pyloric``. By default (``--rule prinz``) the rhythm is classified as Prinz, Bucher &
Marder (2004) classified it (`jaxneuron.analysis.PrinzRhythm` with `PrinzAdaptive`: per-cell
adaptive burst threshold, periodicity, one system period, one burst of ≥ 2 spikes per
cell in every cycle, order in every cycle) from each cell's spike times, buffered in the
loop (512 per cell; more: "spike buffer overflow", not pyloric) and stored in the dataset
(``<cell>.spike_times``), with ``rhythm_status`` saying which step failed;
``scripts/pyloric_rules.py`` re-classifies them under other rules. ``--rule gap``: the
earlier streaming analysis with fixed ``--burst-gap`` gaps and mean phases. No trace is
recorded. The dataset (``--out``) is written chunk by chunk and
resumes where it stopped; several processes started with the same ``--out`` share the
chunks (each claims one at a time), so the database can be split across processes or
hosts with a shared disk.

Protocol (printed with the result): ``--t1`` ms per network (default 12 s), analysis
after ``--start`` ms (default 2 s), exponential Euler, dt 0.025 ms, ``--dtype`` (default
float32); every cell starts from V = ``--V0`` (−50 mV), [Ca] = ``--Ca0`` (0.05 µM) and
gates at steady state (`jaxneuron.pyloric_circuit`'s default initial state); spikes at
0 mV. The protocol is written in the dataset's ``sweep.json`` (``t1``, ``start``, ``dt``,
``dtype``, ``initial_state``, ``rhythm``). Prinz et al. (2004) do not state their
transient, window or initial state in a form we could find; ``docs/performance.md``
measures the effect of the transient and of the initial state.

    python scripts/pyloric_database.py --sample 10000 --out pyloric_db
    python scripts/pyloric_database.py --all --out pyloric_db_full   # 20,250,000 networks

Published (Prinz et al. 2004, as reported by secondary sources; see
`jaxneuron.analysis.PyloricCriteria`): 4,047,375 pyloric-like networks (≈ 20 %) and
452,516 within all 15 criteria (≈ 2.2 %).
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

import jaxneuron as jn
from jaxneuron.analysis import (
    PYLORIC_2004_CRITERIA,
    PrinzAdaptive,
    PyloricCriteria,
    StreamingRhythm,
)
from jaxneuron.sweep import PyloricDatabase, SweepResult, sweep

PUBLISHED = {"pyloric_like": 4_047_375, "pyloric": 452_516}

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
which = parser.add_mutually_exclusive_group()
which.add_argument("--sample", type=int, default=10_000, help="random networks (default)")
which.add_argument("--all", action="store_true", help="all 20,250,000 networks")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--t1", type=float, default=12_000.0)
parser.add_argument("--start", type=float, default=2000.0)
parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
parser.add_argument("--V0", type=float, default=-50.0, help="initial V of every cell, mV")
parser.add_argument("--Ca0", type=float, default=0.05, help="initial [Ca] of every cell, µM")
parser.add_argument(
    "--rule",
    default="prinz",
    choices=["prinz", "gap"],
    help="prinz: Prinz's adaptive routine on buffered spike times (default); gap: the "
    "streaming fixed-gap analysis (--burst-gap)",
)
parser.add_argument("--burst-gap", type=float, default=100.0, help="ms, with --rule gap")
parser.add_argument("--max-spikes", type=int, default=512, help="spike buffer per cell")
parser.add_argument("--chunk-size", type=int, default=None)
parser.add_argument("--out", default=None, help="dataset directory (resumable)")
parser.add_argument("--no-progress", action="store_true")
args = parser.parse_args()
if args.dtype == "float64":
    jax.config.update("jax_enable_x64", True)

space = PyloricDatabase() if args.all else PyloricDatabase(sample=args.sample, seed=args.seed)
result = sweep(
    jn.pyloric_circuit(V0=args.V0, Ca0=args.Ca0),
    space,
    t1=args.t1,
    start=args.start,
    burst_gap=args.burst_gap,
    rhythm=StreamingRhythm(
        ("AB/PD", "LP", "PY"),
        criteria=PyloricCriteria(),
        rule=PrinzAdaptive() if args.rule == "prinz" else None,
        max_spikes=args.max_spikes,
    ),
    dtype=np.dtype(args.dtype),
    path=args.out,
    chunk_size=args.chunk_size,
    progress=not args.no_progress,
)
models_run, seconds = result.models_run, result.seconds
if args.out:
    result = SweepResult.load(args.out)  # every chunk, also those of other processes
table = result.table
n = len(table)
rate = models_run * 3 * args.t1 / 0.025 / max(seconds, 1e-9)
print(
    f"{n} networks ({models_run} run now in {seconds:.0f} s: "
    f"{rate:.3g} cell-steps/s on {jax.devices()[0].device_kind}); "
    f"{'complete' if result.complete else 'INCOMPLETE'}"
)
if models_run:
    full = jn.PYLORIC_2004_SIZE * 3 * args.t1 / 0.025 / rate
    print(f"the whole database at this rate: {full / 3600:.0f} h")
print(
    f"protocol: {args.t1:g} ms per network, analysis after {args.start:g} ms, exponential "
    f"Euler dt 0.025 ms, {args.dtype}; every cell from V {args.V0:g} mV, [Ca] "
    f"{args.Ca0:g} µM, gates at steady state; spikes at 0 mV; "
    + (
        "Prinz et al. 2004's routine (PrinzAdaptive)"
        if args.rule == "prinz"
        else f"bursts split at {args.burst_gap:g} ms (streaming, mean phases)"
    )
)
if args.rule == "prinz":
    overflow = int(table["rhythm_status"].str.contains("overflow").sum())
    print(f"spike buffer overflows (not pyloric): {overflow}")
failed = int((table["status"] == "failed").sum())
print(f"failed integrations: {failed}")
for column, label in (("pyloric_like", "pyloric-like"), ("pyloric", "all 15 criteria")):
    p, low, high = result.fraction(column)
    published = PUBLISHED[column] / jn.PYLORIC_2004_SIZE
    print(
        f"{label:<16} {int(table[column].sum()):>8} = {100 * p:5.2f} % "
        f"(95 % Wilson {100 * low:.2f}–{100 * high:.2f} %); published {100 * published:.2f} %"
    )
like = table[table["pyloric_like"]]
if len(like):
    print(f"\namong the {len(like)} pyloric-like networks, each criterion met by:")
    for c in PYLORIC_2004_CRITERIA:
        value = like[f"pyloric.{c.name}"]
        inside = ((value >= c.low) & (value <= c.high)).mean()
        print(
            f"  {c.name:<20} {100 * inside:5.1f} %   range {c.low:g}–{c.high:g} {c.unit:<2}  "
            f"median {value.median():.3g}"
        )
