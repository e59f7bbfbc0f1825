"""Diagnosis of Liu et al. (1998) random starts (issue 29): run N random starts from the
paper's Fig. 4 ranges and save, per start, the conductances once a second and the last
``tail`` seconds of V, I_Ca/C and the three sensors (every 0.5 ms) to an .npz, so that the
outcomes can be analysed offline (issue 29). ``--variant nernst<RT/2F in mV>`` changes
E_Ca's Nernst factor.

    python scripts/liu_diagnosis.py --random 64 --seconds 600 --out /tmp/x.npz
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from jaxneuron import (
    ExponentialEuler,
    LiuConfig,
    RegulatedNeuron,
    build_Liu,
    liu_1998_regulation,
    simulate,
)

CHANNELS = ("Na", "CaT", "CaS", "A", "KCa", "Kd", "H")
PAPER = dict(
    Na=(2.5, 47.5),
    CaT=(0.05, 0.95),
    CaS=(0.05, 0.95),
    A=(2.5, 47.5),
    KCa=(2.5, 47.5),
    Kd=(2.5, 47.5),
    H=(0.05, 0.95),
)


def build(variant: str, dtype, targets=(0.1, 0.1, 0.1)):
    fields = {}
    if variant.startswith("nernst"):
        fields["nernst_factor"] = float(variant[6:])
    cfg = LiuConfig(**{f"{c}_g": 1.0 for c in CHANNELS}, Leak_g=0.01, **fields)
    reg = liu_1998_regulation(targets=targets)
    model = RegulatedNeuron(build_Liu(config=cfg), reg)
    return jax.tree_util.tree_map(
        lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--random", type=int, default=16)
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--tail", type=float, default=10.0)
    p.add_argument("--dt", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk", type=int, default=32)
    p.add_argument("--variant", default="base")
    p.add_argument("--targets", default="0.1,0.1,0.1")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    jax.config.update("jax_enable_x64", True)
    dtype = jnp.float64
    targets = tuple(float(x) for x in a.targets.split(","))
    base = build(a.variant, dtype, targets)
    rng = np.random.default_rng(a.seed)
    g = {c: rng.uniform(lo, hi, size=a.random) for c, (lo, hi) in PAPER.items()}
    solver = ExponentialEuler(dt=a.dt)
    head_ms = (a.seconds - a.tail) * 1000.0
    reg = base.regulator
    n = base.neuron.num_states

    @eqx.filter_jit
    def run(gs):
        def one(gi):
            m = eqx.tree_at(
                lambda m: [m.neuron.channel(c).g for c in CHANNELS],
                base,
                [jnp.asarray(gi[c], dtype) for c in CHANNELS],
            )
            head = simulate(m, head_ms, solver=solver, save_every=1000.0)
            tail = simulate(m, a.tail * 1000.0, solver=solver, save_every=0.5, y0=head.ys[-1])
            ys = tail.ys
            r = tuple(ys[:, n + i] for i in range(len(reg.state_names)))
            F, S, D = reg.sensor_values(r)
            neur = m.regulated(tuple(ys[-1, n:]))
            ica = jax.vmap(lambda y: neur.calcium_current(y[:n]) / neur.C)(ys)
            gtraj = jnp.stack([head[f"{c}.g"] for c in CHANNELS])
            return gtraj, tail.ts, tail.V, ica, F, S, D, tail.ys[:, 1]

        return jax.vmap(one)(gs)

    outs = []
    t = time.perf_counter()
    for lo in range(0, a.random, a.chunk):
        idx = np.minimum(np.arange(lo, lo + a.chunk), a.random - 1)
        keep = np.arange(lo, lo + a.chunk) < a.random
        res = run({c: jnp.asarray(v[idx], dtype) for c, v in g.items()})
        outs.append([np.asarray(x)[keep] for x in res])
        print(f"chunk {lo}: {time.perf_counter() - t:.0f} s", flush=True)
    names = ("gtraj", "ts", "V", "ica", "F", "S", "D", "Ca")
    data = {k: np.concatenate([o[i] for o in outs]) for i, k in enumerate(names)}
    data["ts"] = data["ts"][0]
    data["g0"] = np.stack([g[c] for c in CHANNELS], axis=1)
    np.savez_compressed(a.out, **data, seconds=a.seconds, dt=a.dt, seed=a.seed, variant=a.variant)
    print(f"{a.random} × {a.seconds} s: {time.perf_counter() - t:.0f} s wall -> {a.out}")


if __name__ == "__main__":
    main()
