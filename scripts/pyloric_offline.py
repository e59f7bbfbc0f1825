"""The pyloric-like fraction of a Prinz 2004 network database sample classified offline
from recorded traces with adaptive burst gaps (the geometric-mean gap of
`jaxneuron.analysis.bursts`, mean phases): a cross-check of the earlier streaming
classifier (`scripts/pyloric_database.py --rule gap`: fixed 100-ms burst gap). The
database sweep now defaults to Prinz's routine (`--rule prinz`), whose online verdict
equals `jaxneuron.analysis.pyloric_rhythm` on traces by construction;
`scripts/pyloric_rules.py` compares rules on one dataset's stored spike times.

Samples ``--n`` database networks (`jaxneuron.sweep.PyloricDatabase`), simulates each for
``--t1`` ms with the sweep engine (exponential Euler, dt 0.025 ms, ``--dtype``; every cell
from V0 = −50 mV, [Ca] = 0.05 µM, gates at steady state), records the three membrane
potentials every ``--record-every`` ms, and classifies each network offline after
``--start`` ms: `jaxneuron.analysis.burst_phases` (reference AB/PD, adaptive burst gaps)
and `is_pyloric` (each cell one burst per cycle, onsets AB/PD → LP → PY). Prints the
fraction with its 95 % Wilson interval next to the published ≈ 20 % (Prinz, Bucher &
Marder 2004, as reported by secondary sources: treat it as a band).

``--compare DIR`` takes the first ``--n`` networks of a dataset written by
``scripts/pyloric_database.py`` instead, with its protocol, and tabulates the offline
verdict against the dataset's online ones (``in_order``: fixed-gap onsets in order;
``pyloric_like``: with the offset rules too).

    python scripts/pyloric_offline.py [--n 2000] [--t1 12000] [--start 2000]
    python scripts/pyloric_offline.py --compare pyloric_db --n 1000
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: float64 is available

import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import StreamingFeatures, burst_phases, is_pyloric  # noqa: E402
from jaxneuron.sweep import Engine, PyloricDatabase  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=2000)
parser.add_argument("--t1", type=float, default=12_000.0)
parser.add_argument("--start", type=float, default=2000.0)
parser.add_argument("--record-every", type=float, default=0.5)
parser.add_argument("--chunk", type=int, default=250)
parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--compare", default=None, help="a pyloric_database.py dataset")
args = parser.parse_args()
online = None
if args.compare:
    import json
    from pathlib import Path

    from jaxneuron.sweep import SweepResult

    meta = json.loads((Path(args.compare) / "sweep.json").read_text())
    args.t1, args.start, args.dtype = meta["t1"], meta["start"], meta["dtype"]
    online = SweepResult.load(args.compare).table.sort_values("model_id").head(args.n)
dtype = np.dtype(args.dtype)

space = PyloricDatabase(sample=args.n, seed=args.seed)
if online is not None:
    space = PyloricDatabase(numbers=online["network_number"].to_numpy())
    online = online.set_index("network_number").loc[space.numbers]
engine = Engine(
    jn.as_dtype(jn.pyloric_circuit(V0=-50.0, Ca0=0.05), dtype),
    space.names,
    args.t1,
    0.025,
    features=StreamingFeatures(start=args.start),
    record_every=args.record_every,
)
cells = ("AB/PD", "LP", "PY")
state_names = engine.model.state_names
columns = [state_names.index(f"{c}.V") for c in cells]
pyloric = np.zeros(len(space), bool)
t0 = time.perf_counter()
for a in range(0, len(space), args.chunk):
    b = min(a + args.chunk, len(space))
    values = {k: np.asarray(v, dtype) for k, v in space.values(a, b).items()}
    out = engine(values, record=range(b - a))
    traces = np.asarray(out["traces"], dtype=float)  # (samples, models, states)
    ts = np.arange(traces.shape[0]) * args.record_every
    for i in range(b - a):
        V = {c: traces[:, i, k] for c, k in zip(cells, columns, strict=True)}
        try:
            phases = burst_phases(ts, V, reference="AB/PD", start=args.start)
        except ValueError:  # AB/PD has fewer than three bursts
            continue
        pyloric[a + i] = is_pyloric(phases)
    print(f"{b}/{len(space)} networks, {time.perf_counter() - t0:.0f} s", flush=True)

k, n = int(pyloric.sum()), len(space)
p = k / n
z = 1.96
centre = (p + z * z / (2 * n)) / (1 + z * z / n)
half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
print(
    f"pyloric-like: {k} of {n} = {p:.1%} (95 % Wilson interval {centre - half:.1%}–"
    f"{centre + half:.1%}); published ≈ 20 %. Protocol: {args.t1:g} ms, analysis after "
    f"{args.start:g} ms, dt 0.025 ms, {args.dtype}, V0 −50 mV, [Ca] 0.05 µM, gates at "
    f"steady state, traces every {args.record_every:g} ms, adaptive burst gaps."
)
if online is not None:
    import pandas as pd

    for column in ("in_order", "pyloric_like"):
        print(
            f"\noffline (adaptive gaps, onsets in order) against online {column!r}:\n"
            + str(pd.crosstab(pyloric, online[column].to_numpy(), rownames=["offline"],
                              colnames=[column]))
        )  # fmt: skip
