"""Benchmark: the fixed-step engine against a hand-written loop and vmapped `simulate`.

Two workloads (float32, dt 0.025 ms):

- ``prinz``: 8,192 random Prinz 2003 database models × 500 ms;
- ``hh``: 10,000 Hodgkin–Huxley neurons × 1 s, I = 0 … 20 µA/cm².

For each, in one process, the timed runs interleaved (A B C A B C …) and the best of
``--repeats`` kept, it prints neuron-steps per second of

- **hand**: a minimal loop written here — the state as a tuple of (N,) arrays, one fused
  `lax.fori_loop`, the gates updated with x∞ + (x − x∞)e^{−Δt/τ}, V with its exponential
  form, and the spike count the only output (no features, no compensation);
- **engine**: `jaxneuron.sweep.Engine` with its defaults — online streaming features and
  the activity class of every model, Kahan summation in float32;
- **vmap(simulate)**: `jax.vmap` of `simulate(..., solver=ExponentialEuler(0.025),
  save_every=1.0)`, the trace of every model saved every 1 ms;
- **jaxley** (``hh`` only, when Jaxley is importable — an optional benchmark dependency,
  the ``bench`` extra): a single-compartment cell with Jaxley's own `HH` channel, one
  constant current per cell given with ``data_stimulate``, ``jit(vmap(jx.integrate))`` as
  Jaxley's docs recommend for stimulus sweeps, with its default solver (the gates by
  exponential Euler, V by backward Euler of the membrane current linearised at each
  step) and fixed step 0.025 ms. `jx.integrate` records V at every step (it has no
  stride), so its time includes writing and reading an N × steps trace, from which the
  spikes are counted;

and the ratios to the hand loop. It also checks that the hand loop and the engine agree on
the spike counts (within one: the hand loop uses the uncompensated exp form); for Jaxley it
prints the engine's and the hand loop's throughput over Jaxley's, and how many models'
spike counts agree with the hand loop's within one, with the range of currents of those that
do not.

Jaxley's `HH` (after Sterratt et al. 2011) has the hand loop's rate constants (α, β of m, h,
n in the modern convention, rest near −65 mV) and conductances (120, 36, 0.3 mS/cm², stored
in S/cm²) and E_Na, E_K (50, −77 mV); its leak reversal is −54.3 mV, set here to the
workload's −54.4 mV; V starts at −65 mV and the gates at their steady state there, as in
the other paths. Its exponentials are clipped at e²⁰, which this range of V never reaches.
What differs is the V update (backward against exponential Euler): near the current where
repetitive firing sets in (≈ 6.3 µA/cm², the low end of the range where HH is bistable), a
train that dies out after some spikes in one can last longer in the other.
Jaxley's α_m and α_n, like the hand loop's, are 0/0 at V = −40 and −55 mV; in float32 V
can land on those values exactly, after which that cell's V is NaN and it counts no more
spikes. The script says in how many cells Jaxley's V ended NaN.

With ``--profile`` it also times the engine's loop taken apart — the model's step alone
(no compensation, no observer), with Kahan summation of the states the engine compensates
(`compensated_states`), with the feature observer, and the step alone with plain
exponential forms in place of the float32 forms that stay accurate near z = 0
(`plain_exponential_forms`, a diagnostic) — which says where the engine's time goes
beyond the kinetics.

With ``--ops`` it times nothing and counts the f32 operations, by kind, in the optimised
HLO of one HH step of the hand loop and of the engine's model step (with and without
Kahan summation): what each computes per neuron and step.

On a busy machine: ``--compete K`` starts K busy processes (each spins a core, unpinned)
that last the whole run, and ``--compute-threads K`` gives XLA:CPU K intra-op threads
instead of one per core (`_timing.size_compute_threads`: JAX sizes its pool from the
process's CPU affinity when its backend starts; the threads then run on any core).

    python scripts/bench_engine.py [--workloads prinz hh] [--repeats 3] [--profile] [--ops]
        [--compete K] [--compute-threads K]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys

import jax
import jax.numpy as jnp
import numpy as np
from _timing import best_of, compete, size_compute_threads

COMPUTE_THREADS = size_compute_threads(sys.argv)  # before any JAX computation

import jaxneuron as jn  # noqa: E402
from jaxneuron._protocols import as_state_tuple  # noqa: E402
from jaxneuron.analysis import StreamingFeatures  # noqa: E402
from jaxneuron.integrate import (  # noqa: E402
    VoltageFeatures,
    fixed_step_loop,
    initial_carry,
    model_step,
    unroll_for,
)
from jaxneuron.parameters import population  # noqa: E402
from jaxneuron.sweep import Engine  # noqa: E402

try:
    import jaxley as jx
    from jaxley.channels import HH as JaxleyHH
except ImportError:
    jx = None

DT = 0.025


# ---- the hand-written loops ------------------------------------------------------------


def _sigmoid(V, a, b):
    return 1.0 / (1.0 + jnp.exp((V + a) / b))


def prinz_hand(g, V0, n_steps):
    """Prinz 2003 neurons, g (8, N) in mS/cm² (Na CaT CaS A KCa Kd H Leak): spike counts."""
    gNa, gCaT, gCaS, gA, gKCa, gKd, gH, gL = g
    s = _sigmoid
    f = 14.96 * 0.628  # µM per µA/cm²

    def infs(V, Ca):
        return (
            s(V, 25.5, -5.29), s(V, 48.9, 5.18), s(V, 27.1, -7.2), s(V, 32.1, 5.5),
            s(V, 33.0, -8.1), s(V, 60.0, 6.2), s(V, 27.2, -8.7), s(V, 56.9, 4.9),
            Ca / (Ca + 3.0) * s(V, 28.3, -12.6), s(V, 12.3, -11.8), s(V, 75.0, 5.5),
        )  # fmt: skip

    def taus(V):
        return (
            2.64 - 2.52 * s(V, 120.0, -25.0),
            1.34 * s(V, 62.9, -10.0) * (1.5 + s(V, 34.9, 3.6)),
            43.4 - 42.6 * s(V, 68.1, -20.5),
            210.0 - 179.6 * s(V, 55.0, -16.9),
            2.8 + 14.0 / (jnp.exp((V + 27.0) / 10.0) + jnp.exp((V + 70.0) / -13.0)),
            120.0 + 300.0 / (jnp.exp((V + 55.0) / 9.0) + jnp.exp((V + 65.0) / -16.0)),
            23.2 - 20.8 * s(V, 32.9, -15.2),
            77.2 - 58.4 * s(V, 38.9, -26.5),
            180.6 - 150.2 * s(V, 46.0, -22.7),
            14.4 - 12.8 * s(V, 28.3, -19.2),
            2.0 / (jnp.exp((V + 169.7) / -11.6) + jnp.exp((V - 26.7) / 14.3)),
        )

    def body(_, carry):
        V, Ca, x, count = carry
        x = tuple(
            xi + (xo - xi) * jnp.exp(-DT / t)
            for xo, xi, t in zip(x, infs(V, Ca), taus(V), strict=True)
        )
        mNa, hNa, mT, hT, mS, hS, mA, hA, mK, mKd, mH = x
        E_Ca = 12.2 * jnp.log(3000.0 / Ca)
        gs = (
            gNa * mNa**3 * hNa, gCaT * mT**3 * hT, gCaS * mS**3 * hS, gA * mA**3 * hA,
            gKCa * mK**4, gKd * mKd**4, gH * mH, gL,
        )  # fmt: skip
        Es = (50.0, E_Ca, E_Ca, -80.0, -80.0, -80.0, -20.0, -50.0)
        G = sum(gs)
        V_inf = sum(gi * E for gi, E in zip(gs, Es, strict=True)) / G
        V_new = V_inf + (V - V_inf) * jnp.exp(-DT * G)
        Ca_inf = 0.05 - f * (gs[1] + gs[2]) * (V_new - E_Ca)
        Ca = Ca_inf + (Ca - Ca_inf) * jnp.exp(-DT / 200.0)
        return V_new, Ca, x, count + ((V < 0) & (V_new >= 0))

    V = jnp.full(g.shape[1:], V0, g.dtype)
    Ca = jnp.full(g.shape[1:], 0.05, g.dtype)
    init = (V, Ca, infs(V, Ca), jnp.zeros(g.shape[1:], jnp.int32))
    return jax.lax.fori_loop(0, n_steps, body, init)[3]


def _hh_rates(V):
    xm = jnp.where(V == -40.0, 1e-6, V + 40)
    xn = jnp.where(V == -55.0, 1e-6, V + 55)
    am = 0.1 * xm / (1 - jnp.exp(-xm / 10))
    bm = 4 * jnp.exp(-(V + 65) / 18)
    ah = 0.07 * jnp.exp(-(V + 65) / 20)
    bh = 1 / (1 + jnp.exp(-(V + 35) / 10))
    an = 0.01 * xn / (1 - jnp.exp(-xn / 10))
    bn = 0.125 * jnp.exp(-(V + 65) / 80)
    return (am, bm), (ah, bh), (an, bn)


def hh_hand_step(I):
    """The hand loop's step: (V, (m, h, n)) → the next, for currents I (N,) µA/cm²."""

    def step(V, x):
        x = tuple(
            a / (a + b) + (xo - a / (a + b)) * jnp.exp(-DT * (a + b))
            for xo, (a, b) in zip(x, _hh_rates(V), strict=True)
        )
        m, h, n = x
        gNa, gK = 120 * m**3 * h, 36 * n**4
        G = gNa + gK + 0.3
        V_inf = (gNa * 50 - gK * 77 - 0.3 * 54.4 + I) / G
        return V_inf + (V - V_inf) * jnp.exp(-DT * G), x

    return step


def hh_hand(I, n_steps):
    """Hodgkin–Huxley neurons driven by I (N,) µA/cm²: spike counts. α_m and α_n are 0/0
    at exactly −40 and −55 mV, which float32 can hit: there x/(1 − e^{−x/10}) takes
    x = 1e-6 mV (its limit is 10), so that no neuron dies of a NaN."""
    step = hh_hand_step(I)

    def body(_, carry):
        V, x, count = carry
        V_new, x = step(V, x)
        return V_new, x, count + ((V < 0) & (V_new >= 0))

    V = jnp.full(I.shape, -65.0, I.dtype)
    x0 = tuple(a / (a + b) for a, b in _hh_rates(V))
    return jax.lax.fori_loop(0, n_steps, body, (V, x0, jnp.zeros(I.shape, jnp.int32)))[2]


def hh_step_ops(n=1024):
    """The f32 operations in the optimised HLO of one HH step of ``n`` neurons: the hand
    loop's and the engine model's (``fixed_step`` without compensation, and with that of
    the states the engine compensates), by kind. Both compute the same exponentials; the
    rest is their arithmetic."""
    import collections
    import re

    I = jnp.linspace(0.0, 20.0, n, dtype=jnp.float32)
    model = jn.as_dtype(jn.build_HH(0.0), jnp.float32)
    models, axes = population(model, {"stimulus.amplitude": I})
    y0 = as_state_tuple(jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models))
    step = model_step(models, jnp.float32(DT), axes=axes)
    t = jnp.float32(0.0)
    compiled = {
        "hand": jax.jit(hh_hand_step(I)).lower(y0[0], y0[1:]),
        "engine step": jax.jit(step).lower(t, initial_carry(y0, False)),
        "engine step + Kahan": jax.jit(step).lower(
            t, initial_carry(y0, model.compensated_states(DT))
        ),
    }
    out = {}
    for name, lowered in compiled.items():
        text = lowered.compile().as_text()
        ops = re.findall(rf"= f32\[{n}\]\S* (\w+)\(", text)
        out[name] = collections.Counter(o for o in ops if o not in ("parameter", "fusion"))
    return out


def hh_jaxley(I):
    """Jaxley's Hodgkin–Huxley compartment driven by I (N,) µA/cm²: a function of the number
    of steps giving the spike counts and whether each cell's V ended finite."""
    cell = jx.Compartment()
    # Jaxley injects currents in nA into a compartment whose membrane area A is in µm² and
    # uses the density 1e5 · I / A µA/cm². This cylinder (length 100 µm, radius 500/π µm)
    # has A = 2π · radius · length = 1e5 µm² = 1e-3 cm², so I nA is I µA/cm².
    cell.set("length", 100.0)
    cell.set("radius", 500.0 / np.pi)
    cell.insert(JaxleyHH())
    cell.set("HH_eLeak", -54.4)
    cell.set("v", -65.0)
    cell.init_states()
    cell.record("v", verbose=False)

    def one(amplitude, n_steps):
        stimuli = cell.data_stimulate(jnp.full((n_steps,), amplitude))
        V = jx.integrate(cell, data_stimuli=stimuli, delta_t=DT)[0]
        return jnp.sum((V[:-1] < 0) & (V[1:] >= 0), dtype=jnp.int32), jnp.isfinite(V[-1])

    counts = jax.jit(jax.vmap(one, in_axes=(0, None)), static_argnums=1)
    return lambda n_steps: counts(I, n_steps)


# ---- the workloads ----------------------------------------------------------------------


def prinz_workload(n):
    names = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)
    numbers = np.random.default_rng(0).integers(1, jn.PRINZ_2003_SIZE + 1, size=n)
    g = jn.prinz_2003_conductances(numbers).astype(np.float32)
    values = {name: jnp.asarray(g[:, i]) for i, name in enumerate(names)}
    return (
        jn.build_Prinz(),
        values,
        500.0,
        lambda k: jax.jit(prinz_hand, static_argnums=2)(jnp.asarray(g.T), -50.0, k),
        {},
    )


def hh_workload(n):
    I = jnp.linspace(0.0, 20.0, n, dtype=jnp.float32)
    values = {"stimulus.amplitude": I}
    others = {} if jx is None else {"jaxley": hh_jaxley(I)}
    return (
        jn.build_HH(0.0),
        values,
        1000.0,
        lambda k: jax.jit(hh_hand, static_argnums=1)(I, k),
        others,
    )


WORKLOADS = {"prinz": prinz_workload, "hh": hh_workload}


def runners(model, values, t1, hand, others):
    model = jn.as_dtype(model, jnp.float32)
    n_steps = int(round(t1 / DT))
    engine = Engine(model, tuple(values), t1, DT, features=StreamingFeatures(start=t1 / 2))

    @jax.jit
    def vmapped(values):
        def one(v):
            sol = jn.simulate(
                jn.set_parameters(model, v), t1, solver=jn.ExponentialEuler(DT), save_every=1.0
            )
            return sol.V

        return jax.vmap(one)(values)

    return {
        "hand": lambda: hand(n_steps),
        "engine": lambda: engine(values)["class"],
        "vmap(simulate)": lambda: vmapped(values),
        **{name: lambda counts=counts: counts(n_steps) for name, counts in others.items()},
    }, engine


def profile_runners(model, values, t1):
    """The engine's loop taken apart: the model step with or without Kahan summation (of
    the states the engine compensates, `compensated_states`) and with or without the
    feature observer (the engine is both)."""
    model = jn.as_dtype(model, jnp.float32)
    n_steps = int(round(t1 / DT))
    features = StreamingFeatures(start=t1 / 2)

    def make(compensated, observe):
        @jax.jit
        def run(values):
            models, axes = population(model, values)
            y0 = jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models)
            y0 = as_state_tuple(y0)
            carry, observed, _ = fixed_step_loop(
                model_step(models, jnp.float32(DT), axes=axes),
                initial_carry(y0, compensated and model.compensated_states(DT)),
                t0=jnp.float32(0.0),
                dt=jnp.float32(DT),
                n_steps=n_steps,
                observer=VoltageFeatures(features, (0,)) if observe else None,
                save_stride=400,
                unroll=unroll_for(len(y0)),
            )
            return carry[0][0], observed

        return lambda: run(values)

    runs = {
        "step only": make(False, False),
        "+ Kahan": make(True, False),
        "+ features": make(False, True),
        "+ both": make(True, True),
    }
    for run in runs.values():
        jax.block_until_ready(run())  # traced with the library's own forms
    with plain_exponential_forms():
        runs["step, plain exp"] = make(False, False)
        jax.block_until_ready(runs["step, plain exp"]())
    return runs


@contextlib.contextmanager
def plain_exponential_forms():
    """A diagnostic, not a method: while it lasts, the conductance-based neurons' step and
    the HH and Traub rate functions use the plain forms 1 − e^{−z}, (e^z − 1)/z instead of
    the library's float32 forms that are accurate near z = 0 (a Taylor branch beside the
    exponential; ``jaxneuron._numerics``). What that accuracy costs per step is the
    difference between "step only" and "step, plain exp" (traced inside this block)."""
    import jaxneuron.channels.hh as hh_channels
    import jaxneuron.channels.traub as traub_channels
    import jaxneuron.neurons._neuron as neuron_module

    def exprel(z):
        z = jnp.where(z == 0, jnp.asarray(1e-6, z.dtype), z)
        return (jnp.exp(z) - 1.0) / z

    def relax(x, x_inf, z):
        return (x_inf - x) * (1.0 - jnp.exp(-z))

    def membrane_increment(dV_dt, G_over_C, dt):
        return dt * dV_dt * exprel(-dt * G_over_C)

    saved = (hh_channels.exprel, traub_channels.exprel, neuron_module.relax,
             neuron_module.membrane_increment)  # fmt: skip
    hh_channels.exprel = traub_channels.exprel = exprel
    neuron_module.relax, neuron_module.membrane_increment = relax, membrane_increment
    try:
        yield
    finally:
        hh_channels.exprel, traub_channels.exprel = saved[:2]
        neuron_module.relax, neuron_module.membrane_increment = saved[2:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-prinz", type=int, default=8192)
    parser.add_argument("--n-hh", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="time the engine's parts")
    parser.add_argument(
        "--ops", action="store_true", help="count the f32 operations of one HH step (no timing)"
    )
    parser.add_argument(
        "--compute-threads",
        type=int,
        help="XLA:CPU's intra-op threads (default: one per core the process may use)",
    )
    parser.add_argument(
        "--compete", type=int, default=0, help="busy processes spinning beside the timings"
    )
    args = parser.parse_args()
    compete(args.compete)
    device = jax.devices()[0]
    threads = COMPUTE_THREADS or len(os.sched_getaffinity(0))
    print(
        f"{platform.processor() or platform.machine()} / {device.device_kind} "
        f"({len(jax.devices())} {device.platform} device(s), {threads} compute threads, "
        f"{args.compete} competing busy processes), JAX {jax.__version__}; "
        f"float32, dt {DT} ms, best of {args.repeats}, runs interleaved\n"
    )
    if args.ops:
        counts = hh_step_ops()
        kinds = sorted({k for c in counts.values() for k in c}, key=lambda k: -counts["hand"][k])
        print("f32 operations of one HH step (optimised HLO, 1,024 neurons), by kind:")
        print(f"{'':<22}" + "".join(f"{k[:11]:>12}" for k in kinds) + f"{'all':>8}")
        for name, c in counts.items():
            print(f"{name:<22}" + "".join(f"{c[k]:>12}" for k in kinds) + f"{sum(c.values()):>8}")
        return
    if jx is None and "hh" in args.workloads:
        print("Jaxley is not importable: no jaxley column (pip install jaxley)\n")
    print(f"{'workload':<26} {'path':<16} {'neuron-steps/s':>15} {'× hand':>8}")
    for name in args.workloads:
        n = args.n_prinz if name == "prinz" else args.n_hh
        model, values, t1, hand, others = WORKLOADS[name](n)
        fns, engine = runners(model, values, t1, hand, others)
        if args.profile:
            fns.update(profile_runners(model, values, t1))
        seconds = best_of(fns, args.repeats)
        steps = n * t1 / DT
        label = f"{name}, {n} × {t1:g} ms"
        for path, s in seconds.items():
            rate = steps / s
            print(f"{label:<26} {path:<16} {rate:>15.3g} {seconds['hand'] / s:>7.2f}×")
            label = ""
        # the paths compute the same thing: spike counts over the whole run agree
        counts_hand = np.asarray(fns["hand"]())
        full = Engine(engine.model, engine.names, t1, DT, features=StreamingFeatures(start=0.0))
        counts_engine = np.asarray(full(values)["n_spikes"])
        agree = np.mean(np.abs(counts_hand - counts_engine) <= 1)
        print(f"{'':<26} spike counts hand vs engine within one: {agree:.1%} of models")
        for other in others:
            print(
                f"{'':<26} throughput engine / {other} {seconds[other] / seconds['engine']:.2f}×, "
                f"hand / {other} {seconds[other] / seconds['hand']:.2f}×"
            )
            counts_other, finite = (np.asarray(x) for x in fns[other]())
            apart = np.abs(counts_hand - counts_other) > 1
            line = f"spike counts hand vs {other} within one: {1 - apart.mean():.1%} of models"
            if apart.any():
                swept, swept_values = next(iter(values.items()))
                swept_values = np.asarray(swept_values)[apart]
                lo, hi = swept_values.min(), swept_values.max()
                line += f"; {apart.sum()} apart, {swept} {lo:.3g}…{hi:.3g}"
            print(f"{'':<26} {line}")
            print(f"{'':<26} {other}'s V ended NaN in {np.sum(~finite)} of {n} models")
        print()


if __name__ == "__main__":
    main()
