"""Fit a free-running burster from its voltage trace alone (issue: fitting).

AB/PD 2 (Prinz et al. 2004) with CaS.g and KCa.g perturbed by +20 % / −20 %, fitted to
4 s of its own trace (1 mV Gaussian noise, 10 kHz) by (a) the plain trace MSE and (b)
synchronisation annealed over `jaxneuron.fit.DEFAULT_GAINS` (then, optionally, one
uncoupled stage). Prints the parameter errors, the burst period of each fitted model
against the truth's (exact burst analysis of 10 s, after 2 s) and wall times.

    python scripts/fit_burster_nudging.py [--uncoupled]
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402
from jaxneuron.analysis import burst_metrics  # noqa: E402
from jaxneuron.protocols import noisy  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--uncoupled", action="store_true", help="finish with an uncoupled stage")
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


reference = period(true)
print(f"truth: period {reference:.2f} ms")
t = time.perf_counter()
plain = jf.fit(start, loss, list(truth))
print(f"\nplain trace MSE ({time.perf_counter() - t:.0f} s):")
print(plain)
print("  errors", {k: f"{v:.2%}" for k, v in plain.relative_errors(truth).items()})
print(f"  period {period(plain.model):.2f} ms")

gains = jf.DEFAULT_GAINS + ((0.0,) if args.uncoupled else ())
t = time.perf_counter()
annealed = jf.anneal(start, loss, list(truth), gains=gains)
print(f"\nannealed synchronisation ({time.perf_counter() - t:.0f} s):")
print(annealed)
for gain, stage in zip(annealed.gains, annealed.stages, strict=True):
    errors = stage.relative_errors(truth)
    p = period(stage.model)
    print(
        f"  gain {gain:>5g}: errors {', '.join(f'{k} {v:.2%}' for k, v in errors.items())}; "
        f"period {p:.2f} ms ({p / reference - 1:+.2%})"
    )
