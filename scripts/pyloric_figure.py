"""The figure of a pyloric network database sweep (the idea of Prinz et al. 2004, Figs. 5
and 6): which synapse strengths and which cells make pyloric rhythms, and two networks with
very different parameters and matching rhythms, found in the data.

Reads a dataset written by ``scripts/pyloric_database.py --out DIR`` and writes
``--figure`` (PNG):

- top rows: for each of the seven synapses and the three cell pools, the distribution of
  the levels among all swept networks, the pyloric-like ones and the pyloric ones (all 15
  criteria);
- bottom: two pyloric networks whose rhythms agree (period within ``--match`` relative,
  every phase and duty cycle within ``--match`` of the cycle) while their parameters differ
  most (the number of synapses whose strengths differ by at least a factor of ten, then of
  cells that differ), simulated again here with the sweep's protocol.

    python scripts/pyloric_figure.py --data pyloric_db --figure pyloric_database.png
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.sweep import SweepResult  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="dataset directory of a database sweep")
parser.add_argument("--figure", default="pyloric_database.png")
parser.add_argument("--match", type=float, default=0.05)
args = parser.parse_args()

result = SweepResult.load(args.data)
meta = json.loads((Path(args.data) / "sweep.json").read_text())
table = result.table
table = table[table["status"] == "ok"]
like, pyloric = table[table["pyloric_like"]], table[table["pyloric"]]
SYNAPSES = list(jn.PYLORIC_2004_LEVELS_NS)
CELLS = jn.PYLORIC_2004_CELLS
print(f"{len(table)} networks: {len(like)} pyloric-like, {len(pyloric)} pyloric")

# ---- two disparate networks with matching rhythms ----------------------------------------
RHYTHM = ["AB/PD.offset_phase", "LP.onset_phase", "LP.offset_phase", "PY.onset_phase",
          "PY.offset_phase"]  # fmt: skip
candidates = pyloric.reset_index(drop=True)
levels = np.stack(
    [np.log10(np.maximum(candidates[f"{s}.g_nS"].to_numpy(), 0.3)) for s in SYNAPSES], axis=1
)  # 0 nS counted as 0.3 nS: one decade below the smallest nonzero level
cells = candidates[list(CELLS)].to_numpy()
periods = candidates["period"].to_numpy()
phases = candidates[RHYTHM].to_numpy()
best, best_score = None, (-1, -1)
for i, j in itertools.combinations(range(len(candidates)), 2):
    if abs(periods[i] - periods[j]) > args.match * periods[i]:
        continue
    if np.max(np.abs(phases[i] - phases[j])) > args.match:
        continue
    score = (int(np.sum(np.abs(levels[i] - levels[j]) >= 1.0)), int(np.sum(cells[i] != cells[j])))
    if score > best_score:
        best, best_score = (i, j), score
if best is None:
    raise SystemExit("no two pyloric networks with matching rhythms in this dataset")
pair = [candidates.iloc[k] for k in best]
dtype = np.dtype(meta["dtype"])
t1, start = meta["t1"], meta["start"]
traces = []
for row in pair:
    cell_names, strengths = jn.pyloric_2004_network(int(row["network_number"]))
    net = jn.pyloric_circuit(
        cell_names["AB/PD"], cell_names["LP"], cell_names["PY"], strengths=strengths
    )
    sol = jn.simulate(
        jn.as_dtype(net, dtype), t1, solver=jn.ExponentialEuler(dt=meta["dt"]), save_every=0.5
    )
    traces.append((np.asarray(sol.ts), np.asarray(sol.V), cell_names, strengths))
    print(
        f"network {int(row['network_number'])}: {cell_names}, {strengths} nS; period "
        f"{row['period']:.0f} ms, LP phase {row['LP.onset_phase']:.3f}, PY phase "
        f"{row['PY.onset_phase']:.3f}"
    )

# ---- the figure ---------------------------------------------------------------------------
fig = plt.figure(figsize=(15, 11), layout="constrained")
grid = fig.add_gridspec(4, 7, height_ratios=[1, 1, 0.12, 1.6])
groups = [
    ("all", table, "0.75"),
    ("pyloric-like", like, "tab:blue"),
    ("pyloric", pyloric, "tab:red"),
]


def distribution(ax, column, values, title):
    shares = {label: data[column] for label, data, _ in groups}
    colors = [color for *_, color in groups]
    jn.plot.plot_level_shares(shares, values, ax, title=title, colors=colors)


for k, syn in enumerate(SYNAPSES):
    ax = fig.add_subplot(grid[0, k])
    distribution(ax, f"{syn}.g_nS", jn.PYLORIC_2004_LEVELS_NS[syn], f"{syn} (nS)")
    if k == 0:
        ax.set_ylabel("fraction of networks")
        ax.legend(fontsize=8)
for k, cell in enumerate(CELLS):
    ax = fig.add_subplot(grid[1, 2 * k : 2 * k + 2])
    n_models = int(table[cell].max())
    distribution(ax, cell, list(range(1, n_models + 1)), f"{cell} model cell")
    if k == 0:
        ax.set_ylabel("fraction of networks")
colors = {"AB/PD": "k", "LP": "tab:green", "PY": "tab:purple"}
for k, (ts, V, cell_names, strengths) in enumerate(traces):
    sub = grid[3, 0:3] if k == 0 else grid[3, 4:7]
    axes = sub.subgridspec(3, 1, hspace=0.05).subplots(sharex=True)
    window = ts >= t1 - 4000.0
    for ax, (i, cell) in zip(axes, enumerate(CELLS), strict=True):
        ax.plot(ts[window] / 1000.0, V[window, i], color=colors[cell], lw=0.6)
        ax.set_ylabel(f"{cell_names[cell]}\nmV", fontsize=8)
    axes[-1].set_xlabel("time (s)")
    text = ", ".join(f"{s} {g:g}" for s, g in strengths.items())
    number = int(pair[k]["network_number"])
    axes[0].set_title(f"network {number} (strengths in nS)\n{text}", fontsize=8)
fig.suptitle(
    f"{len(table):,} networks of the Prinz 2004 database ({meta['dtype']}, {t1 / 1000:g} s, "
    f"analysis after {start / 1000:g} s): {len(like)} pyloric-like, {len(pyloric)} pyloric"
)
fig.savefig(args.figure, dpi=110)
print(f"figure: {args.figure}")
