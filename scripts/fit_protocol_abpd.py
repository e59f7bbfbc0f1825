"""Fit the AB/PD 2 conductances from a designed current-clamp protocol (issue: fitting).

Synthetic data: AB/PD 2 (Prinz et al. 2004) answers a protocol — hyperpolarising steps
(which open H), depolarising steps and a fluctuating Ornstein–Uhlenbeck current — sampled
every 0.1 ms with 1 mV of Gaussian noise. The script prints the identifiability report of
burst features alone and of the protocol, then fits the conductances from a start with
every one perturbed by ±20 %, by the plain protocol MSE and by annealed synchronisation
(`jaxneuron.fit.anneal`), and prints errors and wall times.

    python scripts/fit_protocol_abpd.py [--t1 500] [--steps 200] [--noise 1] [--seed 0]
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--t1", type=float, default=500.0)
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--noise", type=float, default=1.0)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--perturbation", type=float, default=0.2)
args = parser.parse_args()

solver = jn.ExponentialEuler(dt=0.025)
true = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
names = [
    n for n in jn.parameter_names(true) if n.endswith(".g") and float(jn.get_parameter(true, n)) > 0
]
truth = {n: float(jn.get_parameter(true, n)) for n in names}
print("free:", truth)

t1 = args.t1
protocol = jn.Protocol.steps(
    [-6.0, -3.0, 1.0, 3.0], onset=50.0, offset=t1 - 50.0, t1=t1
) + jn.Protocol([jn.ornstein_uhlenbeck(0.0, 2.0, 10.0, t1, seed=7)], t1=t1, names=["OU"])
loss = jf.ProtocolLoss.from_model(
    true, protocol, dt=0.1, noise_sd=args.noise, seed=args.seed, solver=solver
)

features = jf.FeatureLoss(
    [jf.BurstPeriod(), jf.DutyCycle(), jf.SpikesPerBurst(), jf.SlowWave()],
    t1=4000.0,
    start=1000.0,
    solver=solver,
    save_every=0.1,
).with_targets_from(true)
t = time.perf_counter()
print("\n== burst features only ==")
print(jf.sensitivity(true, features, names))
print("\n== protocol ==")
report = jf.sensitivity(true, loss, names)
print(report)
n_samples = loss.targets.size
print(
    "predicted relative standard errors:",
    {k: f"{v:.2%}" for k, v in report.standard_errors(args.noise**2 / n_samples).items()},
)
print(f"(sensitivities: {time.perf_counter() - t:.1f} s)")

rng = np.random.default_rng(args.seed + 1)
start_values = {n: v * (1 + args.perturbation * rng.choice([-1.0, 1.0])) for n, v in truth.items()}
start = jn.set_parameters(true, start_values)
print("\nstart:", {k: round(v, 4) for k, v in start_values.items()})
t = time.perf_counter()
result = jf.fit(start, loss, names, steps=args.steps, progress=False)
print(f"\nplain protocol MSE ({time.perf_counter() - t:.0f} s):")
print(result)
errors = result.relative_errors(truth)
print(
    "relative errors:",
    {k: f"{v:.2%}" for k, v in errors.items()},
    "max",
    f"{max(errors.values()):.2%}",
)

t = time.perf_counter()
annealed = jf.anneal(start, loss, names, steps=args.steps)
print(f"\nannealed synchronisation ({time.perf_counter() - t:.0f} s):")
print(annealed)
for gain, stage in zip(annealed.gains, annealed.stages, strict=True):
    errors = stage.relative_errors(truth)
    print(
        f"  gain {gain:>5g}: max error {max(errors.values()):.2%}:",
        {k: f"{v:.2%}" for k, v in errors.items()},
    )
