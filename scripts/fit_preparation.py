"""Fit the Prinz 2004 pyloric network family to one lobster preparation's rhythm.

The target is the 15 rhythm features of preparation 845_082_0044 (Gonçalves et al. 2020,
eLife 9:e56261, public data; ``../shared/reference/pyloric-preparation.md``): cycle period,
burst lengths, gaps, delays, duty cycles and phases of AB/PD, LP and PY. A feature
matches within k × the SD of Prinz, Bucher & Marder (2004) Table 1
(`jaxneuron.analysis.PYLORIC_2004_CRITERIA`).

**The family.** The 2004 network model (`jaxneuron.pyloric_circuit`), free in 31
parameters: the 8 maximal conductances of each of AB/PD, LP and PY (24) and the 7
synapse strengths. Each conductance lies within [max/100, 2·max], max being its largest
value over the 2004 variants of that cell type (over all three types for a channel
that type never has: LP's CaT, PY's KCa, AB/PD's leak); each synapse within
[0.1, 300] nS (the database's levels are 0–100 nS). Everything else is the 2004 model's.

**Steps** (every run in the sweep engine, with the database protocol of
``scripts/pyloric_database.py``: ``--t1`` ms, analysis after ``--start`` ms, dt 0.025 ms,
float32, Prinz et al.'s adaptive burst routine):

1. candidates: a random sample of the 2004 database (``--sample``, or the datasets given
   with ``--database``); the ``--starts`` networks with the smallest largest |z| (z =
   (feature − preparation) / SD) are the starts, their zero conductances and synapses set
   to the bounds' floors;
2. `jaxneuron.fit.match_features`: Levenberg–Marquardt on the 15 z-scores, Jacobians by
   finite differences of the exact features, all starts in one sweep per step, until a
   start is within ``--tight`` SD in every feature;
3. `jaxneuron.fit.walk_family` from the networks within ``--loose`` SD: walkers that
   step along the directions that leave the 15 features unchanged to first order;
4. report: the best network's features against the preparation's, how many networks
   lie within ``--tight`` and ``--loose`` SD, how many of them are distinct (every two
   differ by ≥ 10 % in some parameter), the parameters' spans, the runs and the wall
   time; ``--figure``: the data's features against the family's, the family's
   parameters, and two members' voltage traces.

    python scripts/fit_preparation.py --database DIR ... --out prep --figure fig.png
    python scripts/fit_preparation.py --report prep --figure docs/figures/preparation_family.png
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: float64 for the cross-check

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402
from jaxneuron.analysis import (  # noqa: E402
    PYLORIC_2004_CRITERIA,
    PrinzAdaptive,
    PyloricCriteria,
    StreamingRhythm,
    pyloric_rhythm,
)
from jaxneuron.parameters import get_parameter  # noqa: E402
from jaxneuron.sweep import PyloricDatabase, SweepResult, sweep  # noqa: E402

#: preparation 845_082_0044's features, in the order of PYLORIC_2004_CRITERIA
#: (../shared/reference/pyloric-preparation.md)
PREPARATION = (
    1170.85859,
    206.036434,
    214.307031,
    412.842187,
    275.164844,
    42.0460938,
    481.925781,
    738.278906,
    0.175970382,
    0.183034085,
    0.352597820,
    0.235011166,
    0.0359104797,
    0.411600328,
    0.630544893,
)
CELLS = ("AB/PD", "LP", "PY")
CHANNELS = ("Na", "CaT", "CaS", "A", "KCa", "Kd", "H", "Leak")
VARIANTS = {"AB/PD": 5, "LP": 5, "PY": 6}
SYNAPSE_NS = (0.1, 300.0)

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--sample", type=int, default=4000, help="database networks to screen")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--database", nargs="*", default=(), help="screen these datasets instead")
parser.add_argument("--starts", type=int, default=16)
parser.add_argument("--iterations", type=int, default=15, help="Levenberg–Marquardt steps")
parser.add_argument("--walkers", type=int, default=32)
parser.add_argument("--walk-steps", type=int, default=12)
parser.add_argument("--tight", type=float, default=0.25, help="SD: the best network's goal")
parser.add_argument("--loose", type=float, default=0.5, help="SD: the family's tolerance")
parser.add_argument("--t1", type=float, default=12_000.0)
parser.add_argument("--start", type=float, default=2000.0)
parser.add_argument("--check", type=int, default=20, help="distinct members re-checked")
parser.add_argument("--out", default=None, help="directory for the tables (Parquet)")
parser.add_argument("--figure", default=None)
parser.add_argument("--report", default=None, help="report on the tables of an --out directory")
args = parser.parse_args()

started = time.time()
targets = {f"pyloric.{c.name}": v for c, v in zip(PYLORIC_2004_CRITERIA, PREPARATION, strict=True)}
scales = {f"pyloric.{c.name}": c.sd for c in PYLORIC_2004_CRITERIA}
rhythm = StreamingRhythm(CELLS, criteria=PyloricCriteria(), rule=PrinzAdaptive(), max_spikes=512)
protocol = dict(t1=args.t1, start=args.start, rhythm=rhythm, scales=scales, dtype=np.float32)


def variant_values(cell):
    kw = {"AB/PD": "ab_pd", "LP": "lp", "PY": "py"}[cell]
    rows = []
    for i in range(1, VARIANTS[cell] + 1):
        net = jn.pyloric_circuit(**{kw: f"{cell} {i}"})
        rows.append([float(get_parameter(net, f"{cell}.{ch}.g")) for ch in CHANNELS])
    return np.asarray(rows)


tops = {cell: variant_values(cell).max(axis=0) for cell in CELLS}
overall = np.max(np.stack(list(tops.values())), axis=0)
bounds = {}
for cell in CELLS:
    top = np.where(tops[cell] > 0, tops[cell], overall)
    for ch, g in zip(CHANNELS, top, strict=True):
        bounds[f"{cell}.{ch}.g"] = (float(g) / 100, 2 * float(g))
model = jn.pyloric_circuit()
synapses = [n[: -len(".s")] for n in model.state_names if n.endswith(".s")]
for syn in synapses:
    bounds[f"{syn}.g_nS"] = SYNAPSE_NS
names = list(bounds)

if args.report is None:
    # ---- 1. candidates from the 2004 database --------------------------------------------------
    if args.database:
        table = pd.concat([SweepResult.load(d).table for d in args.database], ignore_index=True)
        screened = f"{len(table)} networks of {', '.join(args.database)}"
    else:
        table = sweep(
            model,
            PyloricDatabase(sample=args.sample, seed=args.seed),
            t1=args.t1,
            start=args.start,
            rhythm=rhythm,
            dtype=np.float32,
            progress=False,
        ).table
        screened = f"a random sample of {len(table)} database networks (seed {args.seed})"
    z = np.stack([(table[k].to_numpy(float) - targets[k]) / scales[k] for k in targets], axis=1)
    worst = np.where(np.all(np.isfinite(z), axis=1), np.max(np.abs(z), axis=1), np.inf)
    order = np.argsort(worst)[: args.starts]
    print(f"screened {screened}: closest largest |z| {worst[order[0]]:.2f} SD")
    starts = {}
    for n in names:
        low = bounds[n][0]
        starts[n] = np.maximum(table[n].to_numpy(float)[order], low)

    # ---- 2. Levenberg–Marquardt onto the preparation -------------------------------------------
    t = time.time()
    matched = jf.match_features(
        model,
        targets,
        starts,
        tolerance=args.tight,
        bounds=bounds,
        iterations=args.iterations,
        progress=True,
        **protocol,
    )
    lm_time = time.time() - t
    final = matched.table[matched.table["stopped"].notna()]
    print(
        f"\nLevenberg–Marquardt from {args.starts} starts, {len(matched.table)} runs, "
        f"{lm_time:.0f} s: {dict(final['stopped'].value_counts())}; final largest |z| "
        f"{np.sort(final['error'].to_numpy()).round(2).tolist()}"
    )

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        spikes = [c for c in matched.table if c.endswith("spike_times")]
        matched.table.drop(columns=spikes).to_parquet(os.path.join(args.out, "matched.parquet"))

    # ---- 3. the family, walked from the matched networks -----------------------------------
    near = matched.table[matched.table["error"] <= args.loose]
    seeds = jf.Family(near, tuple(names), targets, args.loose, matched.reference, scales).distinct()
    walk_table = pd.DataFrame()
    walk_time = 0.0
    if len(seeds):
        picks = np.arange(args.walkers) % len(seeds)
        t = time.time()
        walked = jf.walk_family(
            model,
            targets,
            names,
            tolerance=args.loose,
            starts={n: seeds[n].to_numpy(float)[picks] for n in names},
            bounds=bounds,
            walkers=args.walkers,
            steps=args.walk_steps,
            seed=args.seed,
            progress=True,
            **protocol,
        )
        walk_time = time.time() - t
        walk_table = walked.table
        print(
            f"walk: {args.walkers} walkers × {args.walk_steps} steps from {len(seeds)} distinct "
            f"seeds, {len(walk_table)} runs, {walk_time:.0f} s"
        )
    everything = pd.concat(
        [matched.table.assign(stage="match"), walk_table.assign(stage="walk")], ignore_index=True
    )
    reference = matched.reference
    P = len(names)
    walk_runs = len(walk_table) + (args.walk_steps * args.walkers * P if len(walk_table) else 0)
    runs = {
        "screened": len(table),
        "screened_here": not args.database,
        "fitting": len(matched.table),
        "walking": walk_runs,
        "search_s": time.time() - started,
    }
else:
    everything = pd.read_parquet(os.path.join(args.report, "family.parquet"))
    with open(os.path.join(args.report, "targets.json")) as f:
        runs = json.load(f)["runs"]
    reference = {n: float(get_parameter(model, n)) for n in names}
    print(f"the tables of {args.report}")
family = jf.Family(everything, tuple(names), targets, args.loose, reference, scales)

# ---- 4. report ---------------------------------------------------------------------------
members = family.members
distinct = family.distinct(1.1)
tight = everything[everything["error"] <= args.tight]
best = everything.loc[everything["error"].idxmin()]
print(f"\nbest network (largest |z| {best['error']:.3f} SD):")
print(f"  {'feature':<22} {'preparation':>12} {'model':>10} {'z (SD)':>7}")
for c, v in zip(PYLORIC_2004_CRITERIA, PREPARATION, strict=True):
    k = f"pyloric.{c.name}"
    print(f"  {c.name:<22} {v:>12.4g} {best[k]:>10.4g} {(best[k] - v) / c.sd:>7.2f}")
print("  parameters: " + ", ".join(f"{n} {best[n]:.4g}" for n in names))
spans = {n: float(distinct[n].max() / distinct[n].min()) for n in names} if len(distinct) else {}
wide = [n for n, s in spans.items() if s >= 2]
# a span that reaches down to the floor (within 10 %) says "present or nearly absent"
floored = [n for n in wide if distinct[n].min() <= 1.1 * bounds[n][0]]
print(
    f"\nnetworks within {args.tight} SD in all 15 features: {len(tight)} "
    f"({len(jf.Family(tight, tuple(names), targets, args.tight, {}, scales).distinct(1.1))}"
    f" distinct)\nwithin {args.loose} SD: {len(members)}, distinct (≥ 10 % apart in some "
    f"parameter): {len(distinct)}, spanning ≥ 2× in {len(wide)} of 31 parameters, "
    f"{len(wide) - len(floored)} of them above their floors (the others reach a floor: "
    f"{', '.join(floored)})"
)
print(
    "  spans of the distinct members: "
    + ", ".join(f"{n} {s:.2g}×" for n, s in sorted(spans.items(), key=lambda i: -i[1]))
)
# ---- 5. the cross-check: float64, `simulate`, Prinz's routine offline on the traces ------
if args.check and len(distinct):
    rng = np.random.default_rng(args.seed)
    picked = rng.choice(len(distinct), size=min(args.check, len(distinct)), replace=False)
    rows = [best] + [distinct.iloc[i] for i in picked]
    found = []
    for row in rows:
        net = jn.as_dtype(jn.set_parameters(model, {n: float(row[n]) for n in names}), np.float64)
        sol = jn.simulate(net, args.t1, solver=jn.ExponentialEuler(dt=0.025), save_every=0.025)
        traces = {c: np.asarray(sol[f"{c}.V"]) for c in CELLS}
        out = pyloric_rhythm(np.asarray(sol.ts), traces, start=args.start)
        zc = [(out[k] - targets[k]) / scales[k] for k in targets]
        found.append(np.max(np.abs(zc)) if np.all(np.isfinite(zc)) else np.inf)
    found = np.asarray(found)
    print(
        f"\ncross-check of the best and {len(rows) - 1} random distinct members in float64 "
        f"(`simulate`, Prinz's routine offline on the traces): best's largest |z| "
        f"{found[0]:.3f} SD (float32 sweep: {best['error']:.3f}); members within "
        f"{args.loose} SD: {int(np.sum(found[1:] <= args.loose))}/{len(rows) - 1}, largest "
        f"|z| median {np.median(found[1:]):.2f}, max {np.max(found[1:]):.2f}"
    )

here = runs["screened"] * runs["screened_here"] + runs["fitting"] + runs["walking"]
print(
    f"\nsimulations: {here} networks × {args.t1 / 1000:g} s run by the search "
    f"({runs['screened']} screened{'' if runs['screened_here'] else ' from stored datasets'}, "
    f"{runs['fitting']} fitting, {runs['walking']} walking, Jacobians included), float32; "
    f"search {runs['search_s']:.0f} s, this run {time.time() - started:.0f} s; load "
    f"{os.getloadavg()[0]:.1f}"
)
if args.out and args.report is None:
    os.makedirs(args.out, exist_ok=True)
    everything.drop(columns=[c for c in everything if c.endswith("spike_times")]).to_parquet(
        os.path.join(args.out, "family.parquet")
    )
    with open(os.path.join(args.out, "targets.json"), "w") as f:
        json.dump({"targets": targets, "scales": scales, "bounds": bounds, "runs": runs}, f)

if args.figure and len(members):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 8.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1])
    ax = fig.add_subplot(grid[0, 0])
    zs = np.stack([(distinct[k] - targets[k]) / scales[k] for k in targets], axis=1)
    x = np.arange(len(targets))
    ax.axhspan(-args.loose, args.loose, color="0.9")
    ax.axhspan(-args.tight, args.tight, color="0.8")
    for row in zs:
        ax.plot(x, row, "-", color="tab:blue", alpha=0.15, lw=0.8)
    zb = [(best[k] - targets[k]) / scales[k] for k in targets]
    ax.plot(x, zb, "o-", color="tab:red", label=f"best (largest |z| {best['error']:.2f})")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [c.name for c in PYLORIC_2004_CRITERIA], rotation=60, ha="right")
    ax.set_ylabel("(model − preparation) / Table 1 SD")
    ax.set_title(f"{len(distinct)} distinct networks against preparation 845_082_0044")
    ax.legend(loc="lower left", fontsize=8)
    ax = fig.add_subplot(grid[0, 1])
    ratios = np.log10(distinct[names].to_numpy(float) / best[names].to_numpy(float))
    for row in ratios:
        ax.plot(np.arange(len(names)), row, "-", color="tab:blue", alpha=0.15, lw=0.8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(names)), names, rotation=90, fontsize=7)
    ax.set_ylabel("log10(value / best network's)")
    ax.set_title("their parameters")
    far = distinct.index[np.argmax(np.max(np.abs(ratios), axis=1))]
    for col, (label, row) in enumerate((("best", best), ("most different", distinct.loc[far]))):
        net = jn.set_parameters(model, {n: float(row[n]) for n in names})
        sol = jn.simulate(net, 6000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5)
        ax = fig.add_subplot(grid[1, col])
        keep = np.asarray(sol.ts) >= 3000.0
        for i, cell in enumerate(CELLS):
            V = np.asarray(sol[f"{cell}.V"])[keep]
            ax.plot(np.asarray(sol.ts)[keep] / 1000, V - 90 * i, lw=0.6, label=cell)
        ax.set_yticks([])
        ax.set_xlabel("t (s)")
        ax.set_title(f"{label} network: AB/PD, LP, PY (offset 90 mV)")
    fig.tight_layout()
    from PIL import Image  # a 90-dpi PNG with a 64-colour palette, as the gallery's

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    image.save(args.figure, "PNG", optimize=True)
    print(f"figure: {args.figure}")
