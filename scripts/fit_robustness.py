"""How often `jaxneuron.fit.fit` with its defaults reaches the optimum from random starts,
and whether every start that does not is reported as not converged (issue: fits that
never stop silently at a wrong answer).

Problems:

- ``--problem hh``: Hodgkin–Huxley ``Na.g``, ``K.g`` and ``Leak.g`` from 100 ms of the
  potential under a 10 µA/cm² current, sampled at 10 kHz with 2 mV of white noise (seeded).
- ``--problem clamp``: the Prinz A current's activation shift (3 mV) and time-constant
  scale (1.2) from nine 300-ms voltage-clamp steps (−60…+20 mV from −80 mV), the clamp
  current sampled at 10 kHz with 5 µA/cm² of noise.
- ``--problem burster``: AB/PD 2 (Prinz et al. 2004) ``CaS.g`` and ``KCa.g`` from 4 s of
  its free-running trace at 10 kHz with 1 mV of noise.
- ``--problem protocol``: AB/PD 2's seven non-zero conductances from the designed protocol
  of ``scripts/fit_protocol_abpd.py`` (four 500-ms current steps and an OU current, 1 mV
  of noise).

The reference optimum is the fit started from the true values (the noisy
loss's own minimum). Each of ``--starts`` starts is drawn log-uniformly within ÷2 … ×2
of the truth and fitted alone with the defaults (`fit(start, loss, names)`). A start
*succeeds* when every parameter ends within 0.1 % of the reference optimum.

`fit` restarts a fit that stops far above the noise floor by synchronisation (its
``recover`` default); the count of restarts and their outcome are printed.

Printed: the success rate, how many failures were reported as converged (silent wrong
answers: the goal is none), how many successes were reported as not converged, and the
median wall time per fit (compilation happens once, in the reference fit).

    python scripts/fit_robustness.py [--problem hh|clamp|burster|protocol] [--starts 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import jax

jax.config.update("jax_enable_x64", True)  # a script: the fits run in float64

import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
import jaxneuron.fit as jf  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--problem", default="hh", choices=["hh", "clamp", "burster", "protocol"])
parser.add_argument("--starts", type=int, default=50)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--noise-seed", type=int, default=3)
args = parser.parse_args()


def hh_problem():
    names = ("Na.g", "K.g", "Leak.g")
    true_values = {"Na.g": 120.0, "K.g": 36.0, "Leak.g": 0.3}
    true = jn.build_HH(10.0)
    clean = jn.simulate(true, 100.0, solver=jn.ExponentialEuler(0.025), save_every=0.1).V
    noisy = clean + 2.0 * jax.random.normal(jax.random.key(args.noise_seed), clean.shape)
    loss = jf.TraceLoss(noisy, dt=0.1, t1=100.0)
    what = f"HH {'/'.join(names)} from 100 ms at 10 kHz, 2 mV noise"
    return what, true, loss, names, true_values


def clamp_problem():
    from jaxneuron.channels import Leak, PrinzA, modulated
    from jaxneuron.clamp import VoltageClamp

    def cell(shift, tau_scale):
        channels = (modulated(PrinzA(g=50.0), shift, tau_scale), Leak(g=0.01, E=-50.0))
        return jn.ConductanceNeuron(
            channels=channels, C=1.0, V0=-80.0, stimulus=0.0, channel_names=("A", "Leak")
        )

    names = ("A.shift", "A.tau_scale")
    true_values = {"A.shift": 3.0, "A.tau_scale": 1.2}
    true = cell(3.0, 1.2)
    levels = [-60.0, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0, 10.0, 20.0]
    vc = VoltageClamp.steps(holding=-80.0, levels=levels, onset=10.0, offset=250.0, t1=300.0)
    solver = jn.ExponentialEuler(dt=0.025)
    loss = jf.ProtocolLoss.from_model(
        true, vc, dt=0.1, noise_sd=5.0, seed=args.noise_seed, solver=solver
    )
    what = (
        "Prinz A current's activation shift (mV) and τ scale under voltage clamp: nine "
        "300-ms steps from −80 mV, 5 µA/cm² noise"
    )
    return what, true, loss, names, true_values


def burster_problem():
    from jaxneuron.protocols import noisy

    solver = jn.ExponentialEuler(dt=0.025)
    true = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    names = ("CaS.g", "KCa.g")
    true_values = {n: float(jn.get_parameter(true, n)) for n in names}
    clean = jn.simulate(true, 4000.0, solver=solver, save_every=0.1).V
    loss = jf.TraceLoss(noisy(clean, 1.0, seed=args.noise_seed), dt=0.1, t1=4000.0, solver=solver)
    what = "AB/PD 2 (Prinz 2004) CaS.g, KCa.g from 4 s of its free-running trace, 1 mV noise"
    return what, true, loss, names, true_values


def protocol_problem():
    solver = jn.ExponentialEuler(dt=0.025)
    true = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    names = tuple(
        n for n in jn.parameter_names(true) if n.endswith(".g") and float(jn.get_parameter(true, n))
    )
    true_values = {n: float(jn.get_parameter(true, n)) for n in names}
    t1 = 500.0  # the designed protocol of scripts/fit_protocol_abpd.py
    protocol = jn.Protocol.steps(
        [-6.0, -3.0, 1.0, 3.0], onset=50.0, offset=t1 - 50.0, t1=t1
    ) + jn.Protocol([jn.ornstein_uhlenbeck(0.0, 2.0, 10.0, t1, seed=7)], t1=t1, names=["OU"])
    loss = jf.ProtocolLoss.from_model(
        true, protocol, dt=0.1, noise_sd=1.0, seed=args.noise_seed, solver=solver
    )
    what = (
        f"AB/PD 2's {len(names)} conductances from a designed protocol (four 500-ms steps "
        "and an OU current), 1 mV noise"
    )
    return what, true, loss, names, true_values


PROBLEMS = {
    "hh": hh_problem,
    "clamp": clamp_problem,
    "burster": burster_problem,
    "protocol": protocol_problem,
}
what, true, loss, NAMES, TRUE = PROBLEMS[args.problem]()
print(f"{what}; noise floor (σ̂²) {loss.noise_floor():.3f}; load average "
      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip

began = time.perf_counter()
reference = jf.fit(true, loss, NAMES)
print(f"reference (from the truth): {reference.diagnosis}; "
      + ", ".join(f"{n} = {reference.values[n]:.5g}" for n in NAMES)
      + f"; {time.perf_counter() - began:.1f} s with compilation")  # fmt: skip

rng = np.random.default_rng(args.seed)
rows = []
for k in range(args.starts):
    start = {n: TRUE[n] * 2.0 ** rng.uniform(-1.0, 1.0) for n in NAMES}
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = jf.fit(jn.set_parameters(true, start), loss, NAMES)
    seconds = time.perf_counter() - began
    errors = [abs(result.values[n] / reference.values[n] - 1.0) for n in NAMES]
    success = max(errors) < 1e-3
    warned = any(issubclass(w.category, jf.FitWarning) for w in caught)
    recovered = result.recovery is not None
    rows.append((success, result.converged, warned, seconds, result.loss, recovered))
    print(f"{k:3d} start " + ", ".join(f"{start[n]:.4g}" for n in NAMES)
          + f" → {'ok  ' if success else 'FAIL'} loss {result.loss:9.4g} "
          f"converged={result.converged!s:5} warned={warned!s:5} restarted={recovered!s:5} "
          f"{seconds:5.1f} s")  # fmt: skip

success = np.array([r[0] for r in rows])
converged = np.array([r[1] for r in rows])
warned = np.array([r[2] for r in rows])
seconds = np.array([r[3] for r in rows])
restarted = np.array([r[5] for r in rows])
print(f"\nsuccess {success.sum()}/{len(rows)} ({success.mean():.0%}); failures reported "
      f"as converged (silent wrong answers): {(~success & converged).sum()}; failures "
      f"warned: {(~success & warned).sum()}/{(~success).sum()}; successes reported as not "
      f"converged: {(success & ~converged).sum()}; median {np.median(seconds):.1f} s per "
      f"fit (max {seconds.max():.1f} s); load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _median(values) -> str:
    return f"{np.median(values):.1f} s" if values.size else "none"


print(f"restarted by synchronisation (fit's recovery): {restarted.sum()}, of which "
      f"{(restarted & success).sum()} succeeded; median {_median(seconds[~restarted])} "
      f"without, {_median(seconds[restarted])} with a restart")  # fmt: skip
