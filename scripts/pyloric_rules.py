"""One table: the pyloric-like and 15-criteria fractions of a Prinz 2004 network database
sample under each burst rule, from one set of simulations.

Reads a dataset written by ``scripts/pyloric_database.py`` (default ``--rule prinz``: each
network's spike times after the analysis start are stored, ``<cell>.spike_times``) and
classifies every network again, offline, under

- Prinz's routine (`jaxneuron.analysis.PrinzRhythm`) with Prinz's adaptive threshold
  (`PrinzAdaptive`) — the dataset's own verdict, re-derived as a check — and with fixed
  gaps of 100, 200 and 400 ms (`FixedGap`); and, to measure our two additions to the
  published routine, with one-spike bursts allowed and with the order tested on mean
  phases instead of in every cycle;
- the library's earlier rule (the streaming `StreamingRhythm` without a rule): bursts
  split at a fixed gap, every cell within 0.1 bursts per cycle of one on average, mean
  onset phases in order, then `PyloricCriteria`'s offset rules on mean phases;

and prints, for each, both fractions with 95 % Wilson intervals next to the published
20.0 % and 2.2 % (Prinz, Bucher & Marder 2004; 4,047,375 and 452,516 of 20,250,000),
then why Prinz's routine rejected networks and which of the 15 criteria fail most among
its pyloric-like networks. Networks whose spike buffer overflowed are counted as not
pyloric (their spike trains are cut) and reported.

    python scripts/pyloric_rules.py DATASET [DATASET2 ...] [--pool]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from jaxneuron.analysis import PYLORIC_2004_CRITERIA, FixedGap, PrinzRhythm, PyloricCriteria

CELLS = ("AB/PD", "LP", "PY")
PUBLISHED = {"pyloric_like": 4_047_375 / 20_250_000, "pyloric": 452_516 / 20_250_000}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def mean_rule_in_order(values: dict, tolerance: float = 0.1) -> bool:
    """The earlier streaming rule's ``in_order`` from `PrinzRhythm`'s mean values."""
    if values["cycles"] < 1:
        return False
    per_cycle = [values[f"{c}.bursts_per_cycle"] for c in CELLS]
    if any(abs(b - 1.0) > tolerance * (1 + 1e-6) for b in per_cycle):
        return False
    onsets = [values[f"{c}.onset_phase"] for c in CELLS]
    return bool(onsets[0] < onsets[1] < onsets[2])


def classify(table: pd.DataFrame, start: float, end: float) -> dict[str, pd.DataFrame]:
    """Every network under every rule: rule name → a table of the rhythm's columns."""
    rules = {"Prinz (adaptive)": (PrinzRhythm(), "prinz")}
    # sensitivity: our two additions to the published routine relaxed one at a time
    rules["Prinz, one-spike bursts allowed"] = (PrinzRhythm(min_spikes=1), "prinz")
    rules["Prinz, order on mean phases"] = (PrinzRhythm(), "mean order")
    for gap in (100.0, 200.0, 400.0):
        rules[f"Prinz routine, gap {gap:g} ms"] = (PrinzRhythm(rule=FixedGap(gap)), "prinz")
    for gap in (100.0, 200.0, 400.0):
        rules[f"mean rule, gap {gap:g} ms"] = (PrinzRhythm(rule=FixedGap(gap)), "mean")
    criteria = PyloricCriteria()
    overflow = table["rhythm_status"].str.contains("overflow").to_numpy()
    out = {}
    for name, (rhythm, kind) in rules.items():
        rows = []
        for i, (_, row) in enumerate(table.iterrows()):
            spikes = {c: np.asarray(row[f"{c}.spike_times"], dtype=float) for c in CELLS}
            values = rhythm(spikes, start, end)
            if kind == "mean":
                values["in_order"] = mean_rule_in_order(values)
            elif kind == "mean order" and values["rhythm_status"].startswith("out of order"):
                values["in_order"] = True  # PyloricCriteria then tests the mean phases
            if overflow[i]:
                values["in_order"] = False
                values["rhythm_status"] = row["rhythm_status"]
            rows.append(values)
        frame = pd.DataFrame(rows)
        judged = criteria({k: frame[k].to_numpy() for k in frame if k != "rhythm_status"})
        for k, v in judged.items():
            frame[k] = np.asarray(v)
        out[name] = frame
    return out


PROTOCOL = ("t1", "start", "dt", "dtype", "threshold", "initial_state", "rhythm")


def load(paths: list[str]) -> tuple[dict, pd.DataFrame]:
    """The datasets' pooled table (one protocol; a network in several counted once)."""
    metas = [json.loads((Path(p) / "sweep.json").read_text()) for p in paths]
    for path, meta in zip(paths[1:], metas[1:], strict=True):
        if any(meta.get(k) != metas[0].get(k) for k in PROTOCOL):
            raise SystemExit(f"{path}: another protocol than {paths[0]}; not pooled")
    tables = [pd.read_parquet(Path(p) / "parts").sort_values("model_id") for p in paths]
    table = pd.concat(tables, ignore_index=True).drop_duplicates("network_number")
    meta = dict(metas[0], n_models=sum(m["n_models"] for m in metas))
    return meta, table


def report(paths: list[str]) -> dict[str, pd.DataFrame]:
    meta, table = load(paths)
    path = " + ".join(paths)
    n = len(table)
    start, end = meta["start"], meta["t1"]
    y0 = meta.get("initial_state", {})
    space = {k: v for k, v in meta["space"].items() if k != "numbers"}
    print(
        f"{path}: {n} networks of {meta['n_models']} ({space}); protocol: "
        f"{meta['t1']:g} ms, analysis from {start:g} ms, dt {meta['dt']:g} ms, "
        f"{meta['dtype']}; every cell from V {y0.get('AB/PD.V', float('nan')):g} mV, "
        f"[Ca] {y0.get('AB/PD.Ca', float('nan')):.3g} µM, gates at steady state; rhythm "
        f"{meta.get('rhythm', {}).get('rule')}"
    )
    overflow = int(table["rhythm_status"].str.contains("overflow").sum())
    failed = int((table["status"] == "failed").sum())
    print(f"spike buffer overflows: {overflow}; failed integrations: {failed}")
    frames = classify(table, start, end)
    dataset = table["pyloric_like"].to_numpy()
    again = frames["Prinz (adaptive)"]["pyloric_like"].to_numpy()
    print(f"online verdict = offline re-classification on {np.mean(dataset == again):.2%}")
    print(
        f"\n| rule | pyloric-like | 95 % Wilson | all 15 criteria | 95 % Wilson |\n"
        f"|---|---|---|---|---|\n"
        f"| Prinz et al. 2004 (published, whole database) | "
        f"{PUBLISHED['pyloric_like']:.1%} | | {PUBLISHED['pyloric']:.2%} | |"
    )
    for name, frame in frames.items():
        cells = []
        for column in ("pyloric_like", "pyloric"):
            k = int(frame[column].sum())
            low, high = wilson(k, n)
            cells += [f"{k} = {k / n:.2%}", f"{low:.2%}–{high:.2%}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    prinz = frames["Prinz (adaptive)"]
    print("\nnetwork-for-network agreement of the pyloric-like flag with Prinz (adaptive):")
    for name, frame in frames.items():
        same = np.mean(frame["pyloric_like"].to_numpy() == prinz["pyloric_like"].to_numpy())
        print(f"  {name:<34} {same:.1%}")
    status = prinz["rhythm_status"].str.replace(r"[\d.]+", "N", regex=True)
    print("\nPrinz's routine, why networks are not pyloric-like (first failing step):")
    for reason, count in status.value_counts().items():
        print(f"  {count:>6} {100 * count / n:5.1f} %  {reason}")
    like = prinz[prinz["pyloric_like"]]
    if len(like):
        print(f"\namong the {len(like)} pyloric-like networks (Prinz), each criterion met by:")
        rows = []
        for c in PYLORIC_2004_CRITERIA:
            value = like[f"pyloric.{c.name}"]
            rows.append((((value >= c.low) & (value <= c.high)).mean(), c, value.median()))
        for inside, c, median in sorted(rows, key=lambda r: r[0]):
            print(
                f"  {c.name:<20} {100 * inside:5.1f} %   range {c.low:g}–{c.high:g} "
                f"{c.unit:<2}  median {median:.3g}"
            )
    return frames


parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("datasets", nargs="+", help="pyloric_database.py datasets")
parser.add_argument("--pool", action="store_true", help="one table of all datasets (same protocol)")
args = parser.parse_args()
for paths in [args.datasets] if args.pool else [[p] for p in args.datasets]:
    report(paths)
    print()
