"""Benchmark: a spiking E/I network (`ei_network`, LIF neurons, exponential conductance
synapses) through `simulate_network` (or with ``--model cobahh`` the COBAHH network
through `simulate_populations`), against the same call in another checkout of
jaxneuron (``--baseline``: e.g. a `git worktree` of an earlier commit), each in its own
process, runs alternating, best of ``--repeats`` after compilation. Prints each one's
spike count, mean rate and time per simulated second, and the ratio.

    git worktree add /tmp/jn-old <commit> --detach
    python scripts/bench_spiking_network.py --baseline /tmp/jn-old [--n-exc 800 --n-inh 200]

Without ``--baseline`` it times this checkout alone. A chaotic recurrent network
amplifies rounding differences, so two engines that sum the synaptic input in another
order give spike counts that differ slightly; small networks agree exactly
(tests/test_spiking_network.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

parser = argparse.ArgumentParser()
parser.add_argument("--baseline", default=None, help="another jaxneuron checkout")
parser.add_argument("--model", default="ei", choices=["ei", "cobahh"])
parser.add_argument("--n", type=int, default=4000, help="COBAHH neurons")
parser.add_argument("--n-exc", type=int, default=800)
parser.add_argument("--n-inh", type=int, default=200)
parser.add_argument("--p", type=float, default=0.05)
parser.add_argument("--t1", type=float, default=1000.0)
parser.add_argument("--dt", type=float, default=0.1)
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--rounds", type=int, default=2, help="alternations of the processes")
parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
args = parser.parse_args()

if args.one:  # the timed child: one checkout, on sys.path
    import time

    import jax

    import jaxneuron as jn

    if args.model == "ei":
        net = jn.ei_network(args.n_exc, args.n_inh, p=args.p, seed=0)

        def run():
            sol = jn.simulate_network(net, args.t1, dt=args.dt, record=(0,))
            if isinstance(sol, jn.PopulationSolution):  # this checkout's solution type
                jax.block_until_ready(sol.counts)
                times = sol.states["neurons"]["spike_time"]
            else:  # an older checkout's NetworkSolution
                jax.block_until_ready(sol.spikes)
                times = sol.spike_time
            spikes = int((times < float("inf")).sum())
            late = int((times >= 100.0).sum() - (times == float("inf")).sum())
            return spikes, late * 1000.0 / ((args.t1 - 100.0) * net.n_neurons)

    else:  # COBAHH through simulate_populations, Brian2's spike rule
        net, y0, g0 = jn.cobahh(args.n, seed=0)

        def run():
            sol = jn.simulate_populations(net, args.t1, dt=args.dt, y0=y0, g0=g0,
                                          threshold=-20.0, refractory=3.0)  # fmt: skip
            jax.block_until_ready(sol.counts)
            spikes = sum(int(sol.counts[p].sum()) for p in net.names)
            return spikes, spikes / (args.n * args.t1 / 1000.0)

    spikes, rate = run()
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"spikes": spikes, "rate": rate, "best": best}))
    sys.exit(0)

checkouts = {"this": str(HERE.parent)}
if args.baseline:
    checkouts["baseline"] = str(Path(args.baseline).resolve())
child = [sys.executable, __file__, "--one", "--model", args.model, "--n", str(args.n),
         "--n-exc", str(args.n_exc), "--n-inh",
         str(args.n_inh), "--p", str(args.p), "--t1", str(args.t1), "--dt", str(args.dt),
         "--repeats", str(args.repeats)]  # fmt: skip
results: dict[str, list[dict]] = {k: [] for k in checkouts}
loads = []
for _ in range(args.rounds):
    for label, path in checkouts.items():
        env = dict(os.environ, PYTHONPATH=path)
        out = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
        results[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
        loads.append(os.getloadavg()[0])
print(
    f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
    f"{min(loads):.1f}–{max(loads):.1f}; "
    + (
        f"ei_network({args.n_exc}, {args.n_inh}, p={args.p})"
        if args.model == "ei"
        else f"cobahh({args.n}) (simulate_populations)"
    )
    + f", {args.t1:g} ms at dt {args.dt} ms, best of {args.repeats} × "
    f"{args.rounds} alternating processes"
)
per_second = {}
for label, runs in results.items():
    best = min(r["best"] for r in runs)
    per_second[label] = best / (args.t1 / 1000.0)
    print(
        f"{label:>8} ({checkouts[label]}): {runs[0]['spikes']} spikes, "
        f"{runs[0]['rate']:.3f} Hz, {per_second[label]:.3f} s per simulated second"
    )
if "baseline" in per_second:
    print(f"this / baseline speed: {per_second['baseline'] / per_second['this']:.2f}×")
