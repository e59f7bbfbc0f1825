"""Steps unrolled per loop iteration of the fixed-step path (`ExponentialEuler(unroll=)`):
forward time, and compile and run time of a reverse-mode gradient, for a Prinz AB/PD 2
neuron and the pyloric circuit (1 s at dt 0.025 ms, saved every 1 ms) in float32 and
float64. Forward times are interleaved across unroll values, best of ``--repeats``;
ratios are against unroll 1 in the same process.

    python scripts/bench_unroll.py            # float32
    python scripts/bench_unroll.py --x64      # float64
"""

from __future__ import annotations

import argparse
import time

import jax

parser = argparse.ArgumentParser()
parser.add_argument("--x64", action="store_true")
parser.add_argument("--unroll", type=int, nargs="+", default=[1, 4, 8])
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
jax.config.update("jax_enable_x64", args.x64)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import jaxneuron as jn  # noqa: E402

dtype = jnp.float64 if args.x64 else jnp.float32


def prinz_loss(unroll):
    neuron = jn.as_dtype(jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")), dtype)
    solver = jn.ExponentialEuler(dt=0.025, unroll=unroll)

    def loss(g):
        sol = jn.simulate(jn.set_parameters(neuron, {"CaS.g": g}), 1000.0, solver=solver,
                          save_every=1.0)  # fmt: skip
        return jnp.mean(sol.V)

    return loss, jnp.asarray(float(jn.get_parameter(neuron, "CaS.g")), dtype)


def pyloric_loss(unroll):
    net = jn.as_dtype(jn.pyloric_circuit(), dtype)
    solver = jn.ExponentialEuler(dt=0.025, unroll=unroll)

    def loss(g):
        sol = jn.simulate(eqx.tree_at(lambda m: m.synapses[0].g, net, g), 1000.0,
                          solver=solver, save_every=1.0)  # fmt: skip
        return jnp.mean(sol.V[:, 1])

    return loss, net.synapses[0].g


print(f"{jax.devices()[0].device_kind}, JAX {jax.__version__}, {jnp.dtype(dtype).name}")
for name, make in (("Prinz AB/PD 2", prinz_loss), ("pyloric circuit", pyloric_loss)):
    forward, rows = {}, {}
    for u in args.unroll:
        loss, x = make(u)
        f = jax.jit(loss)
        jax.block_until_ready(f(x))
        began = time.perf_counter()
        grad = jax.jit(jax.grad(loss)).lower(x).compile()
        compile_s = time.perf_counter() - began
        began = time.perf_counter()
        jax.block_until_ready(grad(x))
        rows[u] = [compile_s, time.perf_counter() - began]
        forward[u] = (f, x, [])
    for _ in range(args.repeats):  # interleaved
        for f, x, times in forward.values():
            began = time.perf_counter()
            jax.block_until_ready(f(x))
            times.append(time.perf_counter() - began)
    base = min(forward[args.unroll[0]][2])
    print(f"\n{name}: unroll | forward ms (ratio to unroll {args.unroll[0]}) | "
          "gradient compile s | gradient run s")  # fmt: skip
    for u in args.unroll:
        best = min(forward[u][2])
        print(f"{u} | {best * 1e3:.1f} ({best / base:.2f}) | {rows[u][0]:.1f} | {rows[u][1]:.2f}")
