"""O'Leary et al. (2014) integral control on the Liu neuron, across a vmapped population.

Every regulated channel i integrates the same calcium error, τᵢ dmᵢ/dt = [Ca]_target − [Ca],
and its conductance follows, τ_g dḡᵢ/dt = mᵢ − ḡᵢ. Started from mᵢ(0) = 0, τᵢ mᵢ is the same
for every channel at every time, so once ḡ has caught up with m (t ≫ τ_g) the ratios
ḡᵢ/ḡⱼ equal τⱼ/τᵢ in every neuron, whatever its initial conductances: the analytic result.

Here τᵢ ∝ 1/ḡᵢ of Liu et al.'s Fig. 3 burster (model A, final) and the target is that
burster's mean [Ca], so every neuron heads for a multiple of the same conductance set.

1. ``--n`` random initial conductances (log-uniform), m(0) = 0: the largest deviation of
   ḡᵢ/ḡ_Na from τ_Na/τᵢ across the population, and the final activity.
2. The same with random initial mRNA (uniform on [0, ⅕ of the burster's conductances]):
   conductances then scatter about the line of the rates, correlated as in the paper;
   the correlation matrix is printed and, with ``--save``, stored for the notebook.

    python scripts/oleary_integral.py --n 1000 --seconds 100 --save oleary.npz
"""

from __future__ import annotations

import argparse
import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from liu_regulation import RANDOM_RANGES  # scripts/liu_regulation.py

from jaxneuron import (
    ExponentialEuler,
    IntegralControl,
    IntegralController,
    LiuConfig,
    RegulatedNeuron,
    build_Liu,
    simulate,
)
from jaxneuron.analysis import classify
from jaxneuron.neurons.regulation import LIU_1998_FIG3 as FIG3

# Liu et al. (1998), Fig. 3 model A after regulation (mS/cm²), read from the figure
BURSTER = FIG3["A"]["end"]
TAU_NA = 1200.0  # ms·µM per mS/cm²: Na reaches the burster's 49 mS/cm² in ~20 s at 3 µM error
TAU_G = 1000.0  # ms


def liu(g: dict):
    return build_Liu(config=LiuConfig(**{f"{c}_g": v for c, v in g.items()}, Leak_g=0.01))


def burster_calcium(dt: float) -> float:
    sol = simulate(liu(BURSTER), 10_000.0, solver=ExponentialEuler(dt=dt), save_every=0.5)
    Ca = np.asarray(sol["Ca"])
    return float(Ca[len(Ca) // 2 :].mean())


def population(n, seconds, dt, target, taus, random_mrna: bool, seed: int):
    rng = np.random.default_rng(seed)
    g0 = {c: np.exp(rng.uniform(*np.log(r), size=n)) for c, r in RANDOM_RANGES.items()}
    m0 = {
        c: rng.uniform(0.0, 0.2 * BURSTER[c], size=n) if random_mrna else np.zeros(n) for c in taus
    }
    control = IntegralControl(
        target=target,
        channels=tuple(IntegralController(tau=t, tau_g=TAU_G) for t in taus.values()),
        channel_names=tuple(taus),
    )
    base = RegulatedNeuron(liu(BURSTER), control)
    solver = ExponentialEuler(dt=dt)

    @eqx.filter_jit
    def run(g0, m0):
        def one(g, m):
            model = eqx.tree_at(
                lambda x: (
                    [x.neuron.channel(c).g for c in taus] + [k.m0 for k in x.regulator.channels]
                ),
                base,
                [g[c] for c in taus] + [m[c] for c in taus],
            )
            head = simulate(model, seconds * 1000.0 - 2000.0, solver=solver, save_every=1000.0)
            tail = simulate(model, 2000.0, solver=solver, save_every=0.5, y0=head.ys[-1])
            return head, tail

        return jax.vmap(one)(g0, m0)

    as_jnp = lambda d: {c: jnp.asarray(v) for c, v in d.items()}  # noqa: E731
    t = time.perf_counter()
    head, tail = run(as_jnp(g0), as_jnp(m0))
    jax.block_until_ready(tail.ys)
    wall = time.perf_counter() - t
    final = {c: np.asarray(tail[f"{c}.g"][:, -1]) for c in taus}
    mrna = {c: np.asarray(tail[f"{c}.mRNA"][:, -1]) for c in taus}
    ts = np.asarray(tail.ts[0])
    classes = np.array([classify(ts, np.asarray(tail.V[i])) for i in range(n)])
    ok = np.asarray(head.success & tail.success)
    return dict(g0=g0, m0=m0, final=final, mrna=mrna, classes=classes, ok=ok, wall=wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="random starts per population")
    parser.add_argument("--seconds", type=float, default=100.0, help="regulation time (s)")
    parser.add_argument("--dt", type=float, default=0.05, help="step (ms)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="store conductances of both populations (.npz)")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    print(f"machine load: {os.getloadavg()[0]:.2f}; JAX {jax.__version__} on {jax.devices()[0]}")
    target = burster_calcium(args.dt)
    taus = {c: TAU_NA * BURSTER["Na"] / g for c, g in BURSTER.items()}
    print(f"target [Ca] = {target:.4f} µM (mean [Ca] of Liu's Fig. 3 burster); τ_g {TAU_G} ms")
    print("τᵢ (ms·µM per mS/cm²): " + ", ".join(f"{c} {t:.4g}" for c, t in taus.items()))
    saved = {}
    for random_mrna in (False, True):
        label = "random m(0)" if random_mrna else "m(0) = 0"
        p = population(
            args.n, args.seconds, args.dt, target, taus, random_mrna, args.seed + random_mrna
        )
        n, ok = args.n, p["ok"]
        print(
            f"\n{label}: {n} random starts, {args.seconds:.0f} s each, dt {args.dt} ms, "
            f"float64, one vmapped run: {p['wall']:.0f} s wall; failed solves {int((~ok).sum())}"
        )
        g = np.stack([p["final"][c] for c in taus])  # (channels, n)
        expected = np.array([taus["Na"] / t for t in taus.values()])[:, None]
        if not random_mrna:
            deviation = np.abs(g / g[0] / expected - 1)
            print(
                "  ḡᵢ/ḡ_Na against τ_Na/τᵢ: largest relative deviation "
                f"{deviation[:, ok].max():.2e} (median {np.median(deviation[1:, ok]):.2e})"
            )
            m = np.stack([p["mrna"][c] for c in taus])
            m_dev = np.abs(m / m[0] / expected - 1)
            print(f"  mᵢ/m_Na against τ_Na/τᵢ: largest relative deviation {m_dev[:, ok].max():.2e}")
        scale = g[0] / BURSTER["Na"]
        print(
            f"  ḡ_Na relative to the burster's: median {np.median(scale):.3f} "
            f"[{np.percentile(scale, 5):.3f}–{np.percentile(scale, 95):.3f}]"
        )
        for cls in ("bursting", "tonic", "irregular", "silent"):
            print(f"  {cls:>10}: {np.mean(p['classes'] == cls):6.1%}")
        corr = np.corrcoef(g[:, ok])
        names = list(taus)
        print("  correlation of final conductances across the population:")
        print("        " + "".join(f"{c:>7}" for c in names))
        for c, row in zip(names, corr, strict=True):
            print(f"  {c:>5} " + "".join(f"{v:7.3f}" for v in row))
        key = "random_m0" if random_mrna else "zero_m0"
        saved.update({f"{key}.{c}.g": p["final"][c] for c in taus})
        saved.update({f"{key}.{c}.g0": p["g0"][c] for c in taus})
        saved[f"{key}.classes"] = p["classes"]
    if args.save:
        saved.update({f"tau.{c}": t for c, t in taus.items()})
        saved["target"] = target
        np.savez_compressed(args.save, **saved)
        print(f"\nstored {args.save}")


if __name__ == "__main__":
    main()
