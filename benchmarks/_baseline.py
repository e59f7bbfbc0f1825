"""The baselines the benchmarks are measured against, and the interleaved timer.

Minimal hand-written exponential-Euler loops (the state as a tuple of (N,) arrays, one
fused `lax.fori_loop`, gates updated as x∞ + (x − x∞)e^{−Δt/τ}, V with its exponential
form, the spike count the only output): compact copies of those in
``scripts/bench_engine.py``, which asv cannot import.
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp

#: ms, the fixed step of every benchmark
DT = 0.025


def best_of(fns, repeats=3):
    """Best wall time (s) of each function of ``fns`` (name → callable); each is called once
    first (so compilation is not timed), then the timed calls are interleaved (A B A B …),
    so that a machine whose speed drifts slows them alike."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


@partial(jax.jit, static_argnums=1)
def hh_hand(I, n_steps):
    """Hodgkin–Huxley neurons driven by I (N,) µA/cm², V from −65 mV: spike counts. α_m and
    α_n are 0/0 at exactly −40 and −55 mV, which float32 can hit: there x/(1 − e^{−x/10})
    takes x = 1e-6 mV (its limit is 10), so that no neuron dies of a NaN."""

    def rates(V):
        xm = jnp.where(V == -40.0, 1e-6, V + 40)
        xn = jnp.where(V == -55.0, 1e-6, V + 55)
        am = 0.1 * xm / (1 - jnp.exp(-xm / 10))
        bm = 4 * jnp.exp(-(V + 65) / 18)
        ah = 0.07 * jnp.exp(-(V + 65) / 20)
        bh = 1 / (1 + jnp.exp(-(V + 35) / 10))
        an = 0.01 * xn / (1 - jnp.exp(-xn / 10))
        bn = 0.125 * jnp.exp(-(V + 65) / 80)
        return (am, bm), (ah, bh), (an, bn)

    def body(_, carry):
        V, x, count = carry
        x = tuple(
            a / (a + b) + (xo - a / (a + b)) * jnp.exp(-DT * (a + b))
            for xo, (a, b) in zip(x, rates(V), strict=True)
        )
        m, h, n = x
        gNa, gK = 120 * m**3 * h, 36 * n**4
        G = gNa + gK + 0.3
        V_inf = (gNa * 50 - gK * 77 - 0.3 * 54.4 + I) / G
        V_new = V_inf + (V - V_inf) * jnp.exp(-DT * G)
        return V_new, x, count + ((V < 0) & (V_new >= 0))

    V = jnp.full(I.shape, -65.0, I.dtype)
    x0 = tuple(a / (a + b) for a, b in rates(V))
    return jax.lax.fori_loop(0, n_steps, body, (V, x0, jnp.zeros(I.shape, jnp.int32)))[2]


def _sigmoid(V, a, b):
    return 1.0 / (1.0 + jnp.exp((V + a) / b))


@partial(jax.jit, static_argnums=1)
def prinz_hand(g, n_steps):
    """Prinz 2003 neurons, g (8, N) in mS/cm² (Na CaT CaS A KCa Kd H Leak), V from −50 mV
    and [Ca] from 0.05 µM: spike counts."""
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

    V = jnp.full(g.shape[1:], -50.0, g.dtype)
    Ca = jnp.full(g.shape[1:], 0.05, g.dtype)
    init = (V, Ca, infs(V, Ca), jnp.zeros(g.shape[1:], jnp.int32))
    return jax.lax.fori_loop(0, n_steps, body, init)[3]
