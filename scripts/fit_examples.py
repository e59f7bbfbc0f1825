"""Worked fitting examples too slow for the test suite (CPU wall times printed).

    python scripts/fit_examples.py conductances   # 8 Prinz conductances, multi-start
    python scripts/fit_examples.py phase          # one pyloric synapse from PY's phase
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


def exact_phases(model, t1: float, start: float) -> dict:
    """`burst_phases` (spikes at 0 mV, exact burst onsets) of every cell, in AB/PD's cycle."""
    sol = jn.simulate(model, t1, solver=jn.ExponentialEuler(dt=0.05), save_every=0.1)
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    traces = {c: V[:, i] for i, c in enumerate(model.neuron_names)}
    return jn.analysis.burst_phases(ts, traces, "AB/PD", start=start)


def phase(steps: int, t1: float):
    """AB→PY from PY's burst-onset phase (`BurstOnsetPhase`), in the feedforward circuit.

    Why this pair. A scan (exponential Euler, dt 0.025 ms, 12–16 s, exact `burst_phases`)
    of the example circuit (`PYLORIC_EXAMPLE_NS`) found (i) phases move little with any
    one synapse: LP's onset 0.47–0.55 over 1–100 nS of LP→AB/PD, 0.48–0.55 over 1–100 nS
    of PD→LP or AB→LP; PY's onset moves most, with AB→PY (0.75 at 3 nS, 0.56 at 10 nS);
    and (ii) the closed loop (LP→AB/PD = 30 nS) does not settle on a limit cycle: cycle
    periods wander by 1–3% (CV; 1760–1940 ms over 40 s at the defaults) for almost every
    strength, so every phase is a ragged function of the strength (±0.005–0.01 between
    strengths 2.5% apart: no 2% fit is possible from it). With LP→AB/PD = 0 the AB/PD
    pacemaker drives LP and PY strictly periodically (CV < 1e-4 after 4 s, period 1497 ms)
    and PY's onset phase falls monotonically with AB→PY (0.82 at 4.2 nS, 0.70 at 8.0,
    0.67 at 11.2, 0.63 at 21.6 nS), ≈ 0.1–0.2 of a cycle per e-fold. It still has small
    steps (≈ 0.004 where PY gains a spike at the end of its burst), so the fit uses two
    starts and keeps the better one.
    """
    name = "AB->PY.g_nS"
    true_value, starts = 9.5, [6.5, 14.0]
    base = jn.pyloric_circuit(strengths={"LP->AB/PD": 0.0})
    true = jn.set_parameters(base, {name: true_value})
    loss = jf.FeatureLoss(
        [jf.BurstOnsetPhase(cell="PY", reference="AB/PD")],
        t1=t1,
        start=2000.0,
        solver=jn.ExponentialEuler(dt=0.05),
        save_every=0.1,
    ).with_targets_from(true)
    print("target PY onset phase (smooth):", loss.report(true))
    result = jf.fit(
        base,
        loss,
        name,
        # decaying steps: e-fold relative steps of 0.1 at first, 0.003 at the end
        optimizer=optax.adam(optax.exponential_decay(0.1, steps, 0.03)),
        steps=steps,
        starts={name: starts},
        gradient="forward",
        loss_tol=1e-3,  # phase within 0.01 × √1e-3 ≈ 3e-4 of a cycle
        progress=True,
    )
    print(result)
    print("per-start fitted values:", np.round(result.start_values[name], 4).tolist())
    print("per-start best losses:", np.asarray(result.start_losses).round(6).tolist())
    error = result.relative_errors({name: true_value})[name]
    exact_true = exact_phases(true, 16000.0, 4000.0)["PY"]["onset"]
    exact_fit = exact_phases(result.model, 16000.0, 4000.0)["PY"]["onset"]
    print(f"exact PY onset phase (burst_phases): true {exact_true:.4f}, fitted {exact_fit:.4f}")
    print(
        f"{name}: true {true_value:g} nS, fitted {result.values[name]:.4g} nS, error "
        f"{error:.2%}, final loss {result.loss:.3g}, wall {result.wall_time_s:.0f} s"
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
        phase(min(args.steps, 30), 8000.0)
    print(f"total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
