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

With ``--noise K``, it also runs K float64 exponential-Euler replicas whose state is
multiplied by (1 + ε ξ) after every step, ξ uniform in [−1, 1] and ε = 2⁻²⁴ the float32
unit roundoff: the perturbation that float32 rounding makes, without float32's other
differences. Models whose class in any replica differs from the accurate one, or between
replicas, are *sensitive*: their class is decided by perturbations at the float32 rounding
level (typically a slow passage through a bifurcation whose delay noise shortens), so no
float32 integrator can be expected to reproduce the noise-free answer. The script then
reports the float32 agreement on the other, robust models.

    python scripts/validate_engine.py --sample 1000 --workers 2 --out validate.csv --noise 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

T1, START, GAP = 10_000.0, 2_000.0, 100.0
DT = 0.025  # of the saved reference samples; the engine's step is --dt


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


def noisy_classes(numbers, dt, eps, seed):
    """Classes and burst periods of float64 exponential Euler with relative noise ``eps``
    on the state after every step (see the module docstring)."""
    import jax
    import jax.numpy as jnp

    import jaxneuron as jn
    from jaxneuron.analysis import StreamingFeatures
    from jaxneuron.parameters import population

    features = StreamingFeatures(threshold=0.0, start=START, burst_gap=GAP)
    base = jn.as_dtype(jn.build_Prinz(), jnp.float64)
    names = [f"{c}.g" for c in jn.CHANNEL_ORDER]
    g = jn.prinz_2003_conductances(np.asarray(numbers))
    models, axes = population(
        base, {k: jnp.asarray(g[:, i], jnp.float64) for i, k in enumerate(names)}
    )
    step = jax.vmap(lambda m, y, t: m.fixed_step(t, y, dt)[0], in_axes=(axes, 0, None))

    @jax.jit
    def run(key):
        y = jax.vmap(lambda m: tuple(m.initial_state()), in_axes=(axes,))(models)
        fs = features.init(jnp.zeros(()), y[0])

        def one(carry, n):
            y, fs, key = carry
            key, k = jax.random.split(key)
            t = n * dt
            y = step(models, y, t)
            noise = jax.random.uniform(k, (len(y), *y[0].shape), y[0].dtype, -1.0, 1.0)
            y = tuple(x * (1 + eps * noise[i]) for i, x in enumerate(y))
            return (y, features.update(fs, t + dt, y[0]), key), None

        steps = jnp.arange(int(round(T1 / dt)), dtype=jnp.float64)
        (_, fs, _), _ = jax.lax.scan(one, (y, fs, key), steps)
        return features.classify(fs), features.summary(fs)["burst_period"]

    codes, periods = run(jax.random.PRNGKey(seed))
    classes = np.asarray(("failed",) + jn.analysis.ACTIVITY_CLASSES, dtype=object)
    return classes[np.asarray(codes) + 1], np.asarray(periods)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--out", default="validate_engine.csv")
    parser.add_argument("--reference", default="tsit5", choices=["tsit5", "kvaerno5"])
    parser.add_argument("--dt", type=float, default=0.025, help="engine step (ms)")
    parser.add_argument(
        "--noise", type=int, default=0, help="float64 replicas with float32-sized noise"
    )
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
            dt=args.dt,
            start=START,
            burst_gap=GAP,
            dtype=dtype,
            progress=False,
        ).table.set_index("model_number")
    fast = fast_tables["float32"]
    print(f"fast engine: {len(fast)} models, dt {args.dt} ms, float32 and float64")

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
    if args.noise:
        eps = float(np.finfo(np.float32).eps) / 2
        replicas = [noisy_classes(acc.index, args.dt, eps, seed) for seed in range(args.noise)]
        sensitive = np.zeros(len(acc), bool)
        # bursters whose period any replica misses by > 1% (or that stop bursting)
        period_sensitive = np.zeros(len(acc), bool)
        reference_period = acc["burst_period"].to_numpy()
        for k, (classes, periods) in enumerate(replicas):
            sensitive |= classes != acc_class
            sensitive |= classes != replicas[0][0]
            with np.errstate(invalid="ignore"):
                off = ~(np.abs(periods / reference_period - 1) < 0.01)
            period_sensitive |= (acc_class == "bursting") & off
            both = (classes == "bursting") & (acc_class == "bursting")
            rel = np.abs(periods[both] / reference_period[both] - 1)
            print(
                f"\nfloat64 replica {k} with float32-sized noise (ε = {eps:.2e}): class "
                f"agreement {100 * np.mean(classes == acc_class):.2f}%, period within 1% for "
                f"{100 * np.mean(rel < 0.01):.2f}% of {both.sum()}"
            )
        robust = ~sensitive
        robust_agree = np.mean(acc_class[robust] == fast_class[robust])
        print(
            f"{sensitive.sum()} sensitive models; {np.sum(bad.isin(acc.index[sensitive]))} of the "
            f"{len(bad)} float32 disagreements are among them. float32 class agreement on the "
            f"{robust.sum()} robust models: {100 * robust_agree:.2f}%"
        )
        fast_period = fast.loc[acc.index, "burst_period"].to_numpy()
        steady = (acc_class == "bursting") & (fast_class == "bursting") & ~period_sensitive
        rel = np.abs(fast_period[steady] / reference_period[steady] - 1)
        print(
            f"{period_sensitive.sum()} bursters' periods move by > 1% under the noise; of the "
            f"{steady.sum()} others bursting in both, float32's period is within 1% for "
            f"{100 * np.mean(rel < 0.01):.2f}% (max difference {rel.max():.1e})"
        )


if __name__ == "__main__":
    main()
