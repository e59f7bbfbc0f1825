"""Worked fitting examples too slow for the test suite (CPU wall times printed).

    python scripts/fit_examples.py conductances   # 8 Prinz conductances, multi-start
    python scripts/fit_examples.py phase          # one pyloric synapse from LP's phase
    python scripts/fit_examples.py all

Each builds a synthetic target from a "true" model, starts elsewhere, and reports the
relative error of every fitted parameter. float64 (set at the top, as bench_stg.py does).
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import optax  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron import fit as jf  # noqa: E402

CONDUCTANCES = ("Na.g", "CaT.g", "CaS.g", "A.g", "KCa.g", "Kd.g", "H.g", "Leak.g")


def conductances(starts: int, steps: int, t1: float, seed: int):
    # AB/PD 2 has no leak; a small one (0.01 mS/cm²) makes all 8 conductances positive
    # so that every one can be fitted through Log
    true = jn.set_parameters(jn.build_Prinz(), {"Leak.g": 0.01})
    true_values = {n: float(jn.get_parameter(true, n)) for n in CONDUCTANCES}
    solver = jn.ExponentialEuler(dt=0.05)
    period_range = (500.0, 2500.0)
    loss = jf.FeatureLoss(
        [
            jf.BurstPeriod(period_range=period_range),
            jf.DutyCycle(),
            jf.SpikesPerBurst(period_range=period_range),
            jf.VoltageHistogram(edges=tuple(range(-75, 36, 10)), weight=0.5),
        ],
        t1=t1,
        start=1000.0,
        solver=solver,
        save_every=0.1,
    ).with_targets_from(true)
    print("target features:", loss.report(true))
    # the first start: every conductance off by a random factor e^{±0.2}
    rng = np.random.default_rng(seed)
    first = {n: v * float(np.exp(rng.normal(0.0, 0.2))) for n, v in true_values.items()}
    model = jn.set_parameters(true, first)
    result = jf.fit(
        model,
        loss,
        CONDUCTANCES,
        optimizer=optax.adam(0.03),
        steps=steps,
        starts=starts,
        spread=0.3,
        key=jax.random.key(seed),
        gradient="reverse",
        loss_tol=1e-7,
        progress=True,
    )
    print(result)
    print("fitted features:", loss.report(result.model))
    errors = result.relative_errors(true_values)
    print("relative errors:", {n: f"{e:.1%}" for n, e in errors.items()})
    print("per-start best losses:", np.asarray(result.start_losses).round(6).tolist())
    print(
        f"conductances: {sum(e <= 0.02 for e in errors.values())}/8 within 2%, max error "
        f"{max(errors.values()):.1%}, wall {result.wall_time_s:.0f} s"
    )


def phase(steps: int, t1: float):
    true = jn.pyloric_circuit()
    name = "PD->LP.g_nS"  # LP's phase grows with it (0.43 at 3 nS, 0.47 at 30, 0.50 at 90)
    true_value = float(jn.get_parameter(true, name))
    loss = jf.FeatureLoss(
        [jf.BurstPhase(cell="LP", reference="AB/PD", period_range=(400.0, 2000.0))],
        t1=t1,
        start=2000.0,
        solver=jn.ExponentialEuler(dt=0.05),
        save_every=0.05,
    ).with_targets_from(true)
    print("target LP phase:", loss.report(true))
    model = jn.set_parameters(true, {name: true_value / 3})
    print("initial LP phase:", loss.report(model))
    result = jf.fit(
        model, loss, name, optimizer=optax.adam(0.1), steps=steps, loss_tol=1e-4, progress=True
    )
    print(result)
    error = result.relative_errors({name: true_value})[name]
    print(
        f"{name}: true {true_value:g} nS, fitted {result.values[name]:.4g} nS, error "
        f"{error:.2%}, wall {result.wall_time_s:.0f} s"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("example", choices=["conductances", "phase", "all"])
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--t1", type=float, default=4000.0, help="simulated ms")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t = time.perf_counter()
    if args.example in ("conductances", "all"):
        conductances(args.starts, args.steps, args.t1, args.seed)
    if args.example in ("phase", "all"):
        phase(args.steps, max(args.t1, 8000.0))
    print(f"total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
