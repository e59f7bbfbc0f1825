"""Fit a free-running burster from its voltage trace alone: compare the routes (issue: fitting).

AB/PD 2 (Prinz et al. 2004) with CaS.g and KCa.g perturbed by +20 % / −20 %, fitted to
4 s of its own trace (1 mV Gaussian noise, 10 kHz) by

- ``plain``: the trace MSE (`jaxneuron.fit.TraceLoss`);
- ``anneal``: synchronisation annealed over `jaxneuron.fit.DEFAULT_GAINS` (`anneal`);
- ``shooting``: multiple shooting with M segments (`MultipleShooting`).

Prints the parameter errors, the burst period of each fitted model against the truth's
(exact burst analysis of 10 s after 2 s) and wall times (all in this process).

    python scripts/fit_burster.py [--routes plain anneal shooting] [--segments 20 40]
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import optax  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402
from jaxneuron.analysis import burst_metrics  # noqa: E402
from jaxneuron.protocols import noisy  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--routes", nargs="+", default=["plain", "anneal", "shooting"])
parser.add_argument("--segments", type=int, nargs="+", default=[20, 40, 80])
parser.add_argument("--continuity", type=float, default=1.0)
parser.add_argument("--steps", type=int, default=100)
parser.add_argument(
    "--adam", type=int, default=0, help="shooting: also with optax.adam(0.02) for this many steps"
)
parser.add_argument("--gain", type=float, default=10.0, help="shooting: initial synchronisation")
parser.add_argument("--uncoupled", action="store_true", help="anneal: finish uncoupled")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

solver = jn.ExponentialEuler(dt=0.025)
true = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
truth = {"CaS.g": 6.0, "KCa.g": 5.0}
clean = jn.simulate(true, 4000.0, solver=solver, save_every=0.1).V
loss = jf.TraceLoss(noisy(clean, 1.0, seed=args.seed), dt=0.1, t1=4000.0, solver=solver)
start = jn.set_parameters(true, {"CaS.g": 7.2, "KCa.g": 4.0})


def period(model):
    sol = jn.simulate(model, 10_000.0, solver=solver, save_every=0.1)
    return burst_metrics(np.asarray(sol.ts), np.asarray(sol.V), start=2000.0)["period"]


def report(label, result, wall):
    errors = result.relative_errors(truth)
    p = period(result.model)
    values = ", ".join(f"{k} {result.values[k]:.4f} ({v:.2%})" for k, v in errors.items())
    print(
        f"{label:>24}: {values}; "
        f"period {p:.2f} ms ({p / reference - 1:+.3%}); loss {result.loss:.4g}, "
        f"{result.steps} steps, {result.stop_reason}; {wall:.0f} s",
        flush=True,
    )


reference = period(true)
print(f"truth: period {reference:.2f} ms; start {period(start):.2f} ms", flush=True)
if "plain" in args.routes:
    t = time.perf_counter()
    plain = jf.fit(start, loss, list(truth), steps=args.steps)
    report("plain trace MSE", plain, time.perf_counter() - t)
if "anneal" in args.routes:
    gains = jf.DEFAULT_GAINS + ((0.0,) if args.uncoupled else ())
    t = time.perf_counter()
    annealed = jf.anneal(start, loss, list(truth), gains=gains, steps=args.steps)
    wall = time.perf_counter() - t
    for gain, stage in zip(annealed.gains, annealed.stages, strict=True):
        report(f"anneal, stage {gain:g} mS/cm²", stage, stage.wall_time_s)
    print(f"anneal: {len(gains)} stages in {wall:.0f} s")
if "shooting" in args.routes:
    optimizers = [("lbfgs", None, args.steps)]
    if args.adam:
        optimizers.append(("adam", optax.adam(0.02), args.adam))
    for m in args.segments:
        shooting = jf.MultipleShooting(loss, segments=m, continuity=args.continuity, gain=args.gain)
        for label, optimizer, steps in optimizers:
            t = time.perf_counter()
            shot = jf.fit(start, shooting, list(truth), optimizer=optimizer, steps=steps)
            report(f"shooting M={m} {label}", shot, time.perf_counter() - t)
