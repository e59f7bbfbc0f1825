"""Liu et al. (1998) reproduced: a neuron that assembles itself from its calcium sensors.

1. Fig. 3: models A and B start from the figure's initial conductances; after the
   regulation, their final conductances are printed beside the figure's (read from the
   figure, ModelDB 93321), with the sensors' averages over the last 10 s against the
   targets, the activity class, the burst period and the spikes per burst. In float64 at
   dt 0.025 ms (the reference), and at dt 0.05 ms and in float32 (what a long or large run
   uses): the differences say what those cost.
2. Random initial conductances (log-uniform over about a decade around Fig. 3's starts):
   the fraction that assemble into bursters with the sensors at their targets, all in
   one vmapped run.
3. ``--gradient``: the gradient of log ḡ_CaS at the end of the regulation with respect to
   the slow sensor's target, by reverse mode through the checkpointed fixed-step loop,
   against central finite differences, for growing run lengths.

    python scripts/liu_regulation.py                       # Fig. 3, 200 s each
    python scripts/liu_regulation.py --random 256 --seconds 300
    python scripts/liu_regulation.py --skip-fig3 --random 64 --seconds 600 --seed 3 --narrow
    python scripts/liu_regulation.py --skip-fig3 --gradient
"""

from __future__ import annotations

import argparse
import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jaxneuron import (
    ExponentialEuler,
    LiuConfig,
    RegulatedNeuron,
    as_dtype,
    build_Liu,
    liu_1998_regulation,
    simulate,
)
from jaxneuron.analysis import burst_metrics, classify
from jaxneuron.neurons.regulation import LIU_1998_FIG3

CHANNELS = ("Na", "CaT", "CaS", "A", "KCa", "Kd", "H")
FIG3 = LIU_1998_FIG3  # Liu et al. (1998), Fig. 3 (mS/cm²), read from the figure
# log-uniform ranges of the random starts (mS/cm²): about a decade around Fig. 3's starts
RANDOM_RANGES = dict(
    Na=(10.0, 100.0),
    CaT=(0.1, 2.0),
    CaS=(0.2, 4.0),
    A=(5.0, 80.0),
    KCa=(5.0, 80.0),
    Kd=(5.0, 80.0),
    H=(0.02, 0.4),
)


def regulated_liu(g: dict, dtype) -> RegulatedNeuron:
    cfg = LiuConfig(**{f"{c}_g": float(v) for c, v in g.items()}, Leak_g=0.01)
    return as_dtype(RegulatedNeuron(build_Liu(config=cfg), liu_1998_regulation()), dtype)


def summary(model, sol, window_ms: float) -> dict:
    """Final conductances, 10-s sensor averages, class and bursts over the last window."""
    ts = np.asarray(sol.ts)
    last = ts >= ts[-1] - window_ms
    reg = model.regulator
    values = reg.sensor_values(tuple(jnp.asarray(sol[n])[..., last] for n in reg.state_names))
    out = {c: float(sol[f"{c}.g"][-1]) for c in CHANNELS}
    out.update({k: float(np.mean(v)) for k, v in zip("FSD", values, strict=True)})
    V = np.asarray(sol.V)[last]
    out["class"] = classify(ts[last], V)
    m = burst_metrics(ts[last], V)
    out["period"], out["spikes"] = m["period"], m["spikes_per_burst"]
    return out


def fig3(seconds: float):
    runs = [("float64", 0.025), ("float64", 0.05), ("float32", 0.025)]
    for label, case in FIG3.items():
        print(f"\nFig. 3 model {label}: {seconds:.0f} s of regulation from the figure's start")
        results = {}
        for dtype_name, dt in runs:
            model = regulated_liu(case["start"], getattr(jnp, dtype_name))
            t = time.perf_counter()
            sol = simulate(model, seconds * 1000.0, solver=ExponentialEuler(dt=dt), save_every=0.5)
            wall = time.perf_counter() - t
            results[(dtype_name, dt)] = summary(model, sol, 10_000.0)
            print(f"  {dtype_name} dt {dt} ms: {wall:.1f} s wall")
        header = f"  {'':>8} {'start':>8} {'Fig. 3':>8}" + "".join(
            f" {f'{d[5:]} {dt}':>10}" for d, dt in runs
        )
        print(header + "   (mS/cm²; ours/Fig. 3 for the reference)")
        ref = results[runs[0]]
        for c in CHANNELS:
            cols = "".join(f" {results[r][c]:>10.4g}" for r in runs)
            ratio = ref[c] / case["end"][c]
            print(f"  {c:>8} {case['start'][c]:>8.4g} {case['end'][c]:>8.4g}{cols}   {ratio:.3f}")
        for k in "FSD":
            cols = "".join(f" {results[r][k]:>10.4f}" for r in runs)
            print(f"  {k + ' avg':>8} {'':>8} {'0.1':>8}{cols}")
        for k in ("class", "period", "spikes"):
            cols = "".join(
                f" {results[r][k]:>10}"
                if isinstance(results[r][k], str)
                else f" {results[r][k]:>10.4g}"
                for r in runs
            )
            print(f"  {k:>8} {'':>8} {'':>8}{cols}")


def random_starts(n: int, seconds: float, dt: float, seed: int, dtype):
    rng = np.random.default_rng(seed)
    g = {
        c: np.exp(rng.uniform(np.log(lo), np.log(hi), size=n))
        for c, (lo, hi) in RANDOM_RANGES.items()
    }
    base = regulated_liu({c: v[0] for c, v in g.items()}, dtype)
    solver = ExponentialEuler(dt=dt)

    @eqx.filter_jit
    def run(gs):
        def one(gi):
            m = eqx.tree_at(
                lambda m: [m.neuron.channel(c).g for c in CHANNELS],
                base,
                [jnp.asarray(gi[c], dtype) for c in CHANNELS],
            )
            y = simulate(
                m,
                seconds * 1000.0 - 10_000.0,
                solver=solver,
                save_every=seconds * 1000.0 - 10_000.0,
            )
            tail = simulate(m, 10_000.0, solver=solver, save_every=0.5, y0=y.ys[-1])
            return tail

        return jax.vmap(one)(gs)

    t = time.perf_counter()
    sol = run({c: jnp.asarray(v, dtype) for c, v in g.items()})
    jax.block_until_ready(sol.ys)
    wall = time.perf_counter() - t
    reg = base.regulator
    values = reg.sensor_values(tuple(jnp.asarray(sol[n]) for n in reg.state_names))
    F, S, D = (np.asarray(v).mean(axis=-1) for v in values)
    ts = np.asarray(sol.ts[0])
    classes = np.array([classify(ts, np.asarray(sol.V[i])) for i in range(n)])
    at_target = (np.abs(np.stack([F, S, D]) / 0.1 - 1) < 0.05).all(axis=0)
    ok = np.asarray(sol.success)
    print(
        f"\n{n} random starts, {seconds:.0f} s each, dt {dt} ms, {jnp.dtype(dtype).name}: "
        f"{wall:.0f} s wall ({n * seconds / wall:.1f} neuron-seconds per second)"
    )
    for cls in ("bursting", "tonic", "irregular", "silent"):
        print(f"  {cls:>10}: {np.mean(classes == cls):6.1%}")
    print(f"  sensors within 5 % of the targets: {at_target.mean():.1%}")
    print(f"  bursting and at target: {np.mean(at_target & (classes == 'bursting')):.1%}")
    print(f"  failed solves: {int((~ok).sum())}")
    final = {c: np.asarray(sol[f"{c}.g"][:, -1]) for c in CHANNELS}
    sel = at_target & (classes == "bursting")
    if sel.any():
        print("  final conductances of those (mS/cm²): median [5th–95th percentile]")
        for c in CHANNELS:
            lo, med, hi = np.percentile(final[c][sel], [5, 50, 95])
            print(f"    {c:>4}: {med:8.4g} [{lo:.4g}–{hi:.4g}]   start range {RANDOM_RANGES[c]}")


def gradient(lengths_s=(1.0, 10.0, 30.0, 60.0), dt: float = 0.05):
    model = regulated_liu(FIG3["A"]["start"], jnp.float64)
    solver = ExponentialEuler(dt=dt)
    print(f"\nd log ḡ_CaS(T) / d S̄ from Fig. 3 model A's start (dt {dt} ms, float64)")
    print(
        f"  {'T (s)':>6} {'reverse mode':>14} {'FD h=1e-3':>12} {'FD h=1e-4':>12} {'FD h=1e-5':>12}"
    )
    for seconds in lengths_s:

        def loss(target, seconds=seconds):
            m = eqx.tree_at(lambda m: m.regulator.S.target, model, target)
            sol = simulate(m, seconds * 1000.0, solver=solver, save_every=seconds * 1000.0)
            return jnp.log(sol["CaS.g"][-1])

        t = time.perf_counter()
        g = float(jax.jit(jax.grad(loss))(jnp.float64(0.1)))
        wall = time.perf_counter() - t
        fd = [(float(loss(0.1 + h)) - float(loss(0.1 - h))) / (2 * h) for h in (1e-3, 1e-4, 1e-5)]
        cols = "".join(f" {v:>12.5g}" for v in fd)
        print(f"  {seconds:>6.0f} {g:>14.6g}{cols}   ({wall:.0f} s for the gradient)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=200.0, help="regulation time (s)")
    parser.add_argument("--random", type=int, default=0, help="number of random starts")
    parser.add_argument("--dt", type=float, default=0.05, help="step of the random starts (ms)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-fig3", action="store_true")
    parser.add_argument("--gradient", action="store_true", help="gradients through the run")
    parser.add_argument(
        "--narrow", action="store_true", help="random starts within ÷2…×2 of Fig. 3 A's start"
    )
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    print(f"machine load: {os.getloadavg()[0]:.2f}; JAX {jax.__version__} on {jax.devices()[0]}")
    if not args.skip_fig3:
        fig3(args.seconds)
    if args.narrow:
        RANDOM_RANGES.update({c: (g / 2, g * 2) for c, g in FIG3["A"]["start"].items()})
    if args.random:
        random_starts(args.random, args.seconds, args.dt, args.seed, jnp.float64)
    if args.gradient:
        gradient()


if __name__ == "__main__":
    main()
