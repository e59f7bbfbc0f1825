"""Accuracy of the sweep engine against the accurate diffrax path on Prinz database models.

For a random sample of database models (the same window and classifier as
`scripts/prinz_database.py`), compares

- fast: `jaxneuron.sweep.sweep` — exponential Euler, dt 0.025 ms, float32, online features;
- accurate: `simulate` with Tsit5, rtol = atol = 1e-9, float64, saved every 0.025 ms, the
  same `StreamingFeatures` run over the saved samples (``--reference kvaerno5`` for
  Kvaerno5 at rtol = atol = 1e-8: beware, at that tolerance it takes steps large enough to
  make the unstable depolarised equilibrium (V ≈ −18 mV) of some tonic models numerically
  stable, and reports them silent, where Tsit5, LSODA, exponential Euler and Kvaerno5 at
  1e-10 all fire),

and prints the class agreement, the confusion matrix, and the relative burst-period
differences of the models both call bursting. Accurate solves run in ``--workers``
processes and are appended to ``--out`` (CSV) as they finish, so the script resumes.

    python scripts/validate_engine.py --sample 1000 --workers 2 --out validate.csv
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

T1, START, DT, GAP = 10_000.0, 2_000.0, 0.025, 100.0


def accurate(numbers, reference):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import jaxneuron as jn
    from jaxneuron.analysis import StreamingFeatures

    features = StreamingFeatures(threshold=0.0, start=START, burst_gap=GAP)

    @jax.jit
    def reduce(ts, V):
        state = features.run(ts, V)
        return features.classify(state), features.summary(state)["burst_period"]

    base = jn.as_dtype(jn.build_Prinz(), jnp.float64)
    names = [f"{c}.g" for c in jn.CHANNEL_ORDER]
    rows = []
    for number in numbers:
        g = jn.prinz_2003_conductances(int(number))
        model = jn.set_parameters(base, dict(zip(names, map(float, g), strict=True)))
        began = time.perf_counter()
        tol = 1e-9 if reference == "tsit5" else 1e-8
        sol = jn.simulate(
            model,
            T1,
            solver=reference,
            rtol=tol,
            atol=tol,
            save_every=DT,
            throw=False,
            max_steps=4_000_000,
        )
        cls, period = reduce(sol.ts, sol.V)
        rows.append(
            (
                int(number),
                int(cls) if bool(sol.success) else -1,
                float(period),
                int(sol.num_steps),
                time.perf_counter() - began,
            )
        )
    return rows


def worker(numbers, out, lock, reference):
    for i in range(0, len(numbers), 5):
        rows = accurate(numbers[i : i + 5], reference)
        with lock, open(out, "a") as f:
            for r in rows:
                f.write(",".join(map(str, r)) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--out", default="validate_engine.csv")
    parser.add_argument("--reference", default="tsit5", choices=["tsit5", "kvaerno5"])
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)  # a script may: the float64 engine run needs it
    import jaxneuron as jn
    from jaxneuron.sweep import PrinzDatabase, sweep

    space = PrinzDatabase(sample=args.sample, seed=args.seed)
    fast_tables = {}
    for dtype in ("float32", "float64"):
        fast_tables[dtype] = sweep(
            jn.build_Prinz(),
            space,
            t1=T1,
            dt=DT,
            start=START,
            burst_gap=GAP,
            dtype=dtype,
            progress=False,
        ).table.set_index("model_number")
    fast = fast_tables["float32"]
    print(f"fast engine: {len(fast)} models, float32 and float64")

    out = Path(args.out)
    done = set()
    if out.exists():
        done = {int(line.split(",")[0]) for line in out.read_text().splitlines() if line}
    todo = [int(n) for n in fast.index if int(n) not in done]
    print(f"accurate path: {len(done)} done, {len(todo)} to go, {args.workers} workers", flush=True)
    if todo:
        lock = mp.get_context("spawn").Lock()
        procs = [
            mp.get_context("spawn").Process(
                target=worker, args=(todo[w :: args.workers], str(out), lock, args.reference)
            )
            for w in range(args.workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()

    import pandas as pd

    acc = (
        pd.read_csv(out, names=["model_number", "class_code", "burst_period", "steps", "seconds"])
        .drop_duplicates("model_number")
        .set_index("model_number")
    )
    acc = acc.loc[acc.index.intersection(fast.index)]
    table = ["failed", *jn.analysis.ACTIVITY_CLASSES]
    acc_class = np.asarray(table, dtype=object)[acc["class_code"].to_numpy() + 1]
    for dtype, table in fast_tables.items():
        other = table.loc[acc.index, "class"].to_numpy()
        both = (acc_class == "bursting") & (other == "bursting")
        period = table.loc[acc.index, "burst_period"].to_numpy()[both]
        rel = np.abs(period / acc["burst_period"].to_numpy()[both] - 1)
        print(
            f"fast engine in {dtype}: class agreement {100 * np.mean(acc_class == other):.2f}%; "
            f"{both.sum()} bursting in both, period within 1% for {100 * np.mean(rel < 0.01):.2f}%"
            f" (median difference {np.median(rel):.1e}, 95th percentile "
            f"{np.quantile(rel, 0.95):.1e})"
        )
    fast_class = fast.loc[acc.index, "class"].to_numpy()
    agree = np.mean(acc_class == fast_class)
    print(f"\n{len(acc)} models ({args.reference} reference); float32 engine:")
    print(f"class agreement {100 * agree:.2f}%")
    print(pd.crosstab(pd.Series(acc_class, name="accurate"), pd.Series(fast_class, name="fast")))
    both = (acc_class == "bursting") & (fast_class == "bursting")
    fast_period = fast.loc[acc.index, "burst_period"].to_numpy()[both]
    rel = np.abs(fast_period / acc["burst_period"].to_numpy()[both] - 1)
    if both.any():
        print(
            f"\nburst period, {both.sum()} models bursting in both: relative difference "
            f"median {np.median(rel):.2e}, 99th percentile {np.quantile(rel, 0.99):.2e}, "
            f"max {rel.max():.2e}; within 1%: {100 * np.mean(rel < 0.01):.2f}%"
        )
    print(f"accurate path: {acc['seconds'].sum():.0f} s of solves, {acc['steps'].mean():.0f} steps")
    bad = acc.index[acc_class != fast_class]
    for n in bad[:20]:
        accurate_class = acc_class[acc.index.get_loc(n)]
        print(f"  model {n}: accurate {accurate_class}, fast {fast.loc[n, 'class']}")


if __name__ == "__main__":
    main()
