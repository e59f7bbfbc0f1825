"""How well do gradients of a population rate w.r.t. the excitatory weight scale predict
how the rate really changes? (COBAHH network, float64.)

For each seed the script computes, at scale 1:

- the *measured slope*: a least-squares line through the population rate (Hz) of
  the excitatory population at ``--points`` scales in [1 − h, 1 + h];
- the exact derivative of `PopulationSolution.smooth_rate` (spike times only; no
  surrogate), and its central difference with step 1e-7 (they must agree);
- the surrogate gradient of `PopulationSolution.soft_rate` with `FastSigmoid(slope)`
  for each ``--slopes`` (the surrogate acts on the counts; the synapses deliver the
  spikes without it).

    python scripts/grad_population_rate.py --n 400 --t1 100 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--p", type=float, default=0.05)
    ap.add_argument("--t1", type=float, default=100.0, help="ms")
    ap.add_argument("--dt", type=float, default=0.1, help="ms")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--h", type=float, default=0.1, help="half-width of the scale range")
    ap.add_argument("--points", type=int, default=21)
    ap.add_argument("--slopes", type=float, nargs="+", default=[5.0, 20.0, 100.0])
    args = ap.parse_args()
    print(f"COBAHH n={args.n} p={args.p}, {args.t1} ms at dt {args.dt} ms, float64; "
          f"{jax.devices()[0].device_kind}")  # fmt: skip
    head = ["seed", "rate Hz", "measured slope", "smooth AD", "smooth FD"]
    head += [f"surrogate {s:g}" for s in args.slopes]
    print(" | ".join(head))
    rows = []
    for seed in range(args.seeds):
        net, y0, g0 = jn.cobahh(args.n, p=args.p, seed=seed, dtype=jnp.float64)

        def run(scale, surrogate=None, net=net, y0=y0, g0=g0):
            projections = tuple(
                eqx.tree_at(lambda p: p.scale, p, scale) if p.pre == "E" else p
                for p in net.projections
            )
            moved = eqx.tree_at(lambda n: n.projections, net, projections)
            return jn.simulate_populations(
                moved, args.t1, dt=args.dt, y0=y0, g0=g0, surrogate=surrogate
            )

        t = time.perf_counter()
        scales = np.linspace(1 - args.h, 1 + args.h, args.points)
        rates = [float(run(jnp.asarray(s)).rate("E")) for s in scales]
        measured = np.polyfit(scales, rates, 1)[0]
        one = jnp.asarray(1.0)
        smooth = float(jax.grad(lambda s: run(s).smooth_rate("E"))(one))
        eps = 1e-7
        fd = float((run(one + eps).smooth_rate("E") - run(one - eps).smooth_rate("E")) / (2 * eps))
        surrogate = [
            float(jax.grad(lambda s, k=k: run(s, jn.FastSigmoid(k)).soft_rate("E"))(one))
            for k in args.slopes
        ]
        row = [seed, rates[args.points // 2], measured, smooth, fd, *surrogate]
        rows.append(row)
        print(" | ".join(f"{x:.4g}" for x in row), f"({time.perf_counter() - t:.0f} s)")
    rows = np.asarray(rows)
    print("mean | " + " | ".join(f"{x:.4g}" for x in rows[:, 1:].mean(axis=0)))


if __name__ == "__main__":
    main()
