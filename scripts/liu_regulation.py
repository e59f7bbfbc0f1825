"""Liu et al. (1998) reproduced: a neuron that assembles itself from its calcium sensors.

1. Fig. 3: models A and B start from the figure's initial conductances; after the
   regulation, their final conductances are printed beside the figure's (read from the
   figure, ModelDB 93321), with the sensors' averages over the last 10 s against the
   targets, the activity class, the burst period and the spikes per burst. In float64 at
   dt 0.025 ms (the reference), and at dt 0.05 ms and in float32 (what a long or large run
   uses): the differences say what those cost.
2. Random initial conductances (by default uniform over the ranges of the paper's Fig. 4),
   all in one vmapped run, sorted into the paper's outcomes: conductances at an equilibrium
   (the paper: 90 %), oscillating without settling (5 %) or growing without bound (5 %);
   then the activity of those at equilibrium (bursting like Fig. 3 is the success).
3. ``--gradient``: the gradient of log ḡ_CaS at the end of the regulation with respect to
   the slow sensor's target, by reverse mode through the checkpointed fixed-step loop,
   against central finite differences, for growing run lengths.

    python scripts/liu_regulation.py                       # Fig. 3, 200 s each
    python scripts/liu_regulation.py --skip-fig3 --random 1000 --seconds 600
    python scripts/liu_regulation.py --skip-fig3 --random 64 --seconds 600 --seed 3 --ranges narrow
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
from jaxneuron.analysis import burst_metrics, classify, prominent_spike_times
from jaxneuron.neurons.regulation import LIU_1998_FIG3

CHANNELS = ("Na", "CaT", "CaS", "A", "KCa", "Kd", "H")
FIG3 = LIU_1998_FIG3  # Liu et al. (1998), Fig. 3 (mS/cm²), read from the figure
# The random starts' ranges (mS/cm², the paper's mS/nF at 1 µF/cm², as for Fig. 3).
# "paper": Liu et al. (1998), Fig. 4 legend: CaT, CaS and H uniform in 0.05–0.95, the
# other active currents uniform in 2.5–47.5. "decade": log-uniform over about a decade
# around Fig. 3's starts. "narrow": log-uniform within ÷2…×2 of Fig. 3 A's start.
RANGES = {
    "paper": (
        "uniform",
        dict(
            Na=(2.5, 47.5),
            CaT=(0.05, 0.95),
            CaS=(0.05, 0.95),
            A=(2.5, 47.5),
            KCa=(2.5, 47.5),
            Kd=(2.5, 47.5),
            H=(0.05, 0.95),
        ),
    ),
    "decade": (
        "log",
        dict(
            Na=(10.0, 100.0),
            CaT=(0.1, 2.0),
            CaS=(0.2, 4.0),
            A=(5.0, 80.0),
            KCa=(5.0, 80.0),
            Kd=(5.0, 80.0),
            H=(0.02, 0.4),
        ),
    ),
    "narrow": ("log", {c: (g / 2, g * 2) for c, g in FIG3["A"]["start"].items()}),
}


def regulated_liu(g: dict, dtype) -> RegulatedNeuron:
    cfg = LiuConfig(**{f"{c}_g": float(v) for c, v in g.items()}, Leak_g=0.01)
    return as_dtype(RegulatedNeuron(build_Liu(config=cfg), liu_1998_regulation()), dtype)


def activity(ts, V) -> tuple[str, dict]:
    """Class and burst metrics with spikes found by their shape (`prominent_spike_times`):
    in Liu's bursts only the first spike overshoots 0 mV, the others peak on the plateau
    (Fig. 3), so 0-mV crossings call a burster tonic or irregular. Bursts are split at
    the adaptive gap (their interburst interval can be shorter than 100 ms)."""
    spikes = prominent_spike_times(ts, V)
    cls = classify(ts, V, gap=None, spikes=spikes)
    return cls, burst_metrics(ts, V, gap=None, spikes=spikes)


def summary(model, sol, window_ms: float) -> dict:
    """Final conductances, 10-s sensor averages, class and bursts over the last window."""
    ts = np.asarray(sol.ts)
    last = ts >= ts[-1] - window_ms
    reg = model.regulator
    values = reg.sensor_values(tuple(jnp.asarray(sol[n])[..., last] for n in reg.state_names))
    out = {c: float(sol[f"{c}.g"][-1]) for c in CHANNELS}
    out.update({k: float(np.mean(v)) for k, v in zip("FSD", values, strict=True)})
    V = np.asarray(sol.V)[last]
    out["class"], m = activity(ts[last], V)
    out["class 0 mV"] = classify(ts[last], V)
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
        for k in ("class", "class 0 mV", "period", "spikes"):
            cols = "".join(
                f" {results[r][k]:>10}"
                if isinstance(results[r][k], str)
                else f" {results[r][k]:>10.4g}"
                for r in runs
            )
            print(f"  {k:>10} {'':>6} {'':>8}{cols}")


def outcome(g: np.ndarray, window: int, tol: float) -> str:
    """The paper's three outcomes of a run from the conductances sampled once a second
    (``g``: channels × seconds): ``equilibrium`` when every conductance varied by less
    than ``tol`` (relative) over the last ``window`` seconds; ``growing`` when some
    conductance rose by more than 10 % over that window and ends at its maximum (the
    paper's "increased indefinitely"); ``oscillating`` otherwise (its "limit cycle in
    which conductances continued to vary")."""
    last = g[:, -window:]
    if (np.ptp(last, axis=1) < tol * np.mean(last, axis=1)).all():
        return "equilibrium"
    rising = (last[:, -1] > 1.1 * last[:, 0]) & (last[:, -1] >= last.max(axis=1))
    return "growing" if rising.any() else "oscillating"


def random_starts(
    n: int,
    seconds: float,
    dt: float,
    seed: int,
    dtype,
    window: int,
    tol: float,
    ranges: str,
    chunk: int = 128,
):
    scale, limits = RANGES[ranges]
    print(f"\nrandom starts: the {ranges!r} ranges, {scale}")
    rng = np.random.default_rng(seed)
    sample = np.exp if scale == "log" else (lambda x: x)
    squash = np.log if scale == "log" else (lambda x: x)
    g = {c: sample(rng.uniform(squash(lo), squash(hi), size=n)) for c, (lo, hi) in limits.items()}
    base = regulated_liu({c: v[0] for c, v in g.items()}, dtype)
    chunk = min(chunk, n)
    solver = ExponentialEuler(dt=dt)
    head_ms = seconds * 1000.0 - 10_000.0

    @eqx.filter_jit
    def run(gs):
        def one(gi):
            m = eqx.tree_at(
                lambda m: [m.neuron.channel(c).g for c in CHANNELS],
                base,
                [jnp.asarray(gi[c], dtype) for c in CHANNELS],
            )
            head = simulate(m, head_ms, solver=solver, save_every=1000.0)
            tail = simulate(m, 10_000.0, solver=solver, save_every=0.5, y0=head.ys[-1])
            return head, tail

        return jax.vmap(one)(gs)

    reg = base.regulator
    F, S, D, classes, classes0, metrics, traj, ok = ([] for _ in range(8))
    t = time.perf_counter()
    for lo in range(0, n, chunk):  # chunks bound the memory of the 10-s traces
        idx = np.minimum(np.arange(lo, lo + chunk), n - 1)  # the last chunk padded
        keep = np.arange(lo, lo + chunk) < n
        head, sol = run({c: jnp.asarray(v[idx], dtype) for c, v in g.items()})
        values = reg.sensor_values(tuple(jnp.asarray(sol[s]) for s in reg.state_names))
        for out, v in zip((F, S, D), values, strict=True):
            out.append(np.asarray(v).mean(axis=-1)[keep])
        ts = np.asarray(sol.ts[0])
        V = np.asarray(sol.V)[keep]
        for v in V:
            cls, m = activity(ts, v)
            classes.append(cls)
            metrics.append(m)
            classes0.append(classify(ts, v))
        traj.append(np.stack([np.asarray(head[f"{c}.g"])[keep] for c in CHANNELS], axis=1))
        ok.append(np.asarray(sol.success)[keep] & np.asarray(head.success)[keep])
    wall = time.perf_counter() - t
    F, S, D, traj, ok = (np.concatenate(x) for x in (F, S, D, traj, ok))
    classes, classes0 = np.array(classes), np.array(classes0)
    outcomes = np.array([outcome(traj[i], window, tol) for i in range(n)])
    at_target = (np.abs(np.stack([F, S, D]) / 0.1 - 1) < 0.05).all(axis=0)
    print(
        f"\n{n} random starts, {seconds:.0f} s each, dt {dt} ms, {jnp.dtype(dtype).name}: "
        f"{wall:.0f} s wall ({n * seconds / wall:.1f} neuron-seconds per second)"
    )
    print(
        f"  outcome over the last {window} s of regulation (equilibrium: every ḡ within "
        f"{tol:.0%}), the paper's 90 / 5 / 5 % beside it:"
    )
    for name, paper in (("equilibrium", "90%"), ("oscillating", "5%"), ("growing", "5%")):
        print(f"    {name:>12}: {np.mean(outcomes == name):6.1%}   (paper {paper})")
    eq = outcomes == "equilibrium"
    print(
        "  activity over the last 10 s, of all runs / of those at equilibrium (spikes by "
        "their shape; in brackets by 0-mV crossings, which miss the spikes on the plateau):"
    )
    for cls in ("bursting", "tonic", "irregular", "silent"):
        share = np.mean(classes[eq] == cls) if eq.any() else float("nan")
        share0 = np.mean(classes0[eq] == cls) if eq.any() else float("nan")
        print(
            f"    {cls:>12}: {np.mean(classes == cls):6.1%} / {share:6.1%}   "
            f"({np.mean(classes0 == cls):6.1%} / {share0:6.1%})"
        )
    print(f"  sensors within 5 % of the targets: {at_target.mean():.1%}")
    print("  10-s sensor averages at equilibrium by 0-mV class: mean (F, S, D)")
    for cls in ("bursting", "tonic", "irregular", "silent"):
        sel = eq & (classes0 == cls)
        if sel.any():
            means = ", ".join(f"{x[sel].mean():.4f}" for x in (F, S, D))
            print(f"    {cls:>12} ({int(sel.sum())}): {means}")
    done = eq & (classes == "bursting")
    print(f"  at equilibrium and bursting (the paper's success): {done.mean():.1%}")
    print(f"  failed solves: {int((~ok).sum())}")
    if done.any():
        period = np.array([m["period"] for m in metrics])[done]
        spikes = np.array([m["spikes_per_burst"] for m in metrics])[done]
        print(
            "  their bursts: period median "
            f"{np.median(period):.0f} ms [{np.percentile(period, 5):.0f}–"
            f"{np.percentile(period, 95):.0f}], spikes per burst median {np.median(spikes):.1f} "
            f"[{np.percentile(spikes, 5):.1f}–{np.percentile(spikes, 95):.1f}]"
        )
        print("  their final conductances (mS/cm²): median [5th–95th percentile]")
        for c in CHANNELS:
            lo, med, hi = np.percentile(traj[done, CHANNELS.index(c), -1], [5, 50, 95])
            print(f"    {c:>4}: {med:8.4g} [{lo:.4g}–{hi:.4g}]   start range {limits[c]}")
    for name in ("oscillating", "growing"):
        sel = outcomes == name
        if sel.any():
            print(f"  {name}: start conductances (mS/cm²), median of {int(sel.sum())}:")
            print("    " + "  ".join(f"{c} {np.median(g[c][sel]):.3g}" for c in CHANNELS))


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
        "--ranges", choices=tuple(RANGES), default="paper", help="the random starts' ranges"
    )
    parser.add_argument("--window", type=int, default=100, help="equilibrium window (s)")
    parser.add_argument("--tol", type=float, default=0.02, help="equilibrium tolerance")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    print(f"machine load: {os.getloadavg()[0]:.2f}; JAX {jax.__version__} on {jax.devices()[0]}")
    if not args.skip_fig3:
        fig3(args.seconds)
    if args.random:
        random_starts(
            args.random,
            args.seconds,
            args.dt,
            args.seed,
            jnp.float64,
            args.window,
            args.tol,
            args.ranges,
        )
    if args.gradient:
        gradient()


if __name__ == "__main__":
    main()
