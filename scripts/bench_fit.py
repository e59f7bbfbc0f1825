"""Cost of one gradient of a Prinz burst-period loss for a batch of models, relative to
the forward solve (the loss value alone), in reverse and forward mode; and memory.

    python scripts/bench_fit.py                              # small defaults (2-core CPU)
    python scripts/bench_fit.py --batch 1024 --t1 10000      # the full size
    python scripts/bench_fit.py --x64                        # float64

The loss is mean over the batch of ((P − P*)/P*)², P the smooth burst period
(`jaxneuron.fit.BurstPeriod`) of each AB/PD 2 model with its 8 maximal conductances
perturbed by ±20%. Reverse mode differentiates all 8 conductances of every model;
forward mode ``--forward-params`` of them (its cost grows with that number). Memory:
XLA's compiled temporary allocation for each function (``memory_analysis``) and the
process's peak resident set. Ratios are against the forward solve run in this process.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--t1", type=float, default=2000.0, help="simulated ms")
parser.add_argument("--start", type=float, default=500.0, help="window start, ms")
parser.add_argument("--dt", type=float, default=0.025, help="exponential Euler step, ms")
parser.add_argument("--save-every", type=float, default=0.5, help="ms")
parser.add_argument("--forward-params", type=int, default=2)
parser.add_argument("--x64", action="store_true")
parser.add_argument("--repeats", type=int, default=2)
args = parser.parse_args()
if args.x64:
    jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402
from jaxneuron.fit._gradients import value_and_gradient  # noqa: E402

NAMES = ("Na.g", "CaT.g", "CaS.g", "A.g", "KCa.g", "Kd.g", "H.g", "Leak.g")
model = jn.build_Prinz()
dtype = jnp.result_type(float)
loss = jf.FeatureLoss(
    [jf.BurstPeriod(1500.0, period_range=(300.0, 0.45 * (args.t1 - args.start)))],
    t1=args.t1,
    start=args.start,
    solver=jn.ExponentialEuler(dt=args.dt),
    save_every=args.save_every,
)
rng = np.random.default_rng(0)
g0 = np.asarray([float(jn.get_parameter(model, n)) for n in NAMES])
G = jnp.asarray(g0 * rng.uniform(0.8, 1.2, (args.batch, len(NAMES))), dtype)


def batch_loss(G, free):
    """Mean loss over the batch; ``free`` of the 8 conductances are the variables."""

    def one(g):
        return loss(jn.set_parameters(model, dict(zip(NAMES, g, strict=True))))

    return jnp.mean(jax.vmap(one)(G))


def value(G):
    return batch_loss(G, NAMES)


def reverse(G):
    return jax.value_and_grad(value)(G)


def run(name, fn):
    compiled = jax.jit(fn).lower(G).compile()
    mem = compiled.memory_analysis()
    t = time.perf_counter()
    jax.block_until_ready(compiled(G))
    first = time.perf_counter() - t
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        jax.block_until_ready(compiled(G))
        times.append(time.perf_counter() - t)
    temp = (mem.temp_size_in_bytes + mem.output_size_in_bytes) / 2**20 if mem else float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    return min(times), first, temp, rss


def forward_flat(G):
    # k JVPs of the whole batch (one per conductance index, as a relative change shared
    # by every model): the same batch·k tangent lanes as per-model forward gradients
    k = args.forward_params

    def f(x):
        return value(G * jnp.concatenate([x, jnp.ones(len(NAMES) - k, G.dtype)]))

    return value_and_gradient(f, jnp.ones(k, G.dtype), "forward")


steps = int(round(args.t1 / args.dt))
print(
    f"Prinz AB/PD 2 burst-period loss, batch {args.batch}, {args.t1:g} ms at dt {args.dt} ms "
    f"({steps} steps), saves every {args.save_every} ms, {jnp.dtype(dtype).name}, "
    f"{jax.devices()[0].platform}"
)
base, base_first, base_mem, base_rss = run("forward solve", value)
print(
    f"forward solve (loss value):        {base:8.2f} s   (1.00×)   XLA temp {base_mem:8.1f} MiB"
    f"   peak RSS {base_rss:8.0f} MiB   [{args.batch * steps / base:.2e} neuron-steps/s]"
)
t, first, mem, rss = run("reverse", reverse)
print(
    f"reverse-mode gradient (8 params):  {t:8.2f} s   ({t / base:.2f}×)   XLA temp {mem:8.1f} MiB"
    f"   peak RSS {rss:8.0f} MiB"
)
t, first, mem, rss = run("forward", forward_flat)
k = args.forward_params
print(
    f"forward-mode gradient ({k} params):  {t:8.2f} s   ({t / base:.2f}×, {t / base / k:.2f}× per "
    f"param)   XLA temp {mem:8.1f} MiB   peak RSS {rss:8.0f} MiB"
)
