"""An independent Hodgkin–Huxley implementation for the tests: NumPy + SciPy, written
from the equations in reference/models.md §1 without importing jaxneuron."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

G_NA, G_K, G_L = 120.0, 36.0, 0.3
E_NA, E_K, E_L = 50.0, -77.0, -54.4


def _vtrap(x, y):
    # x / (exp(x/y) - 1) with its limit y at x = 0
    if abs(x / y) < 1e-8:
        return y * (1.0 - x / y / 2.0)
    return x / math.expm1(x / y)


def rates(V):
    am = 0.1 * _vtrap(-(V + 40.0), 10.0)
    bm = 4.0 * math.exp(-(V + 65.0) / 18.0)
    ah = 0.07 * math.exp(-(V + 65.0) / 20.0)
    bh = 1.0 / (1.0 + math.exp(-(V + 35.0) / 10.0))
    an = 0.01 * _vtrap(-(V + 55.0), 10.0)
    bn = 0.125 * math.exp(-(V + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


def steady_state(V):
    am, bm, ah, bh, an, bn = rates(V)
    return np.array([V, am / (am + bm), ah / (ah + bh), an / (an + bn)])


def rhs(t, y, current, g_na=G_NA, g_k=G_K):
    V, m, h, n = y
    am, bm, ah, bh, an, bn = rates(V)
    i_ion = g_na * m**3 * h * (V - E_NA) + g_k * n**4 * (V - E_K) + G_L * (V - E_L)
    return [
        current(t) - i_ion,
        am * (1 - m) - bm * m,
        ah * (1 - h) - bh * h,
        an * (1 - n) - bn * n,
    ]


def solve(
    t1,
    current=10.0,
    save_every=0.01,
    rtol=1e-10,
    atol=1e-10,
    V0=-65.0,
    method="DOP853",
    g_na=G_NA,
    g_k=G_K,
):
    """Saved times and states (4 × n) from V0 with gates at steady state."""
    f = current if callable(current) else (lambda t, c=float(current): c)
    t_eval = np.linspace(0.0, t1, int(round(t1 / save_every)) + 1)
    sol = solve_ivp(
        rhs,
        (0.0, t1),
        steady_state(V0),
        method=method,
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
        args=(f, g_na, g_k),
    )
    assert sol.success, sol.message
    return sol.t, sol.y


def spike_times(t, V, threshold=0.0):
    idx = np.nonzero((V[:-1] < threshold) & (V[1:] >= threshold))[0]
    return t[idx] + (threshold - V[idx]) / (V[idx + 1] - V[idx]) * (t[idx + 1] - t[idx])
