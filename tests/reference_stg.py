"""An independent Prinz 2003 / Liu 1998 neuron for the tests: NumPy + SciPy, written from
reference/models.md §2–4 without importing jaxneuron.

State: [V, Ca, mNa, hNa, mCaT, hCaT, mCaS, hCaS, mA, hA, mKCa, mKd, mH].
"""

from __future__ import annotations

from math import exp, log

import numpy as np
from scipy.integrate import odeint

AREA = 0.628e-3  # cm²
PRINZ_F = 14.96 * AREA * 1e3  # µM per µA/cm²
RT2F = 12.2
CA_OUT = 3000.0

# Prinz, Bucher & Marder 2004 (Na, CaT, CaS, A, KCa, Kd, H, leak) in mS/cm²
PRESETS = {
    "AB/PD 1": [400, 2.5, 6, 50, 10, 100, 0.01, 0],
    "AB/PD 2": [100, 2.5, 6, 50, 5, 100, 0.01, 0],
    "AB/PD 3": [200, 2.5, 4, 50, 5, 50, 0.01, 0],
    "AB/PD 4": [200, 5.0, 4, 40, 5, 125, 0.01, 0],
    "AB/PD 5": [300, 2.5, 2, 10, 5, 125, 0.01, 0],
    "LP 1": [100, 0, 8, 40, 5, 75, 0.05, 0.02],
    "LP 2": [100, 0, 6, 30, 5, 50, 0.05, 0.02],
    "LP 3": [100, 0, 10, 50, 5, 100, 0, 0.03],
    "LP 4": [100, 0, 4, 20, 0, 25, 0.05, 0.03],
    "LP 5": [100, 0, 6, 30, 0, 50, 0.03, 0.02],
    "PY 1": [100, 2.5, 2, 50, 0, 125, 0.05, 0.01],
    "PY 2": [200, 7.5, 0, 50, 0, 75, 0.05, 0],
    "PY 3": [200, 10, 0, 50, 0, 100, 0.03, 0],
    "PY 4": [400, 2.5, 2, 50, 0, 75, 0.05, 0],
    "PY 5": [500, 2.5, 2, 40, 0, 125, 0.01, 0.03],
    "PY 6": [500, 2.5, 2, 40, 0, 125, 0, 0.02],
}


# The right-hand side is written on Python floats (`math`, not NumPy scalars): LSODA calls
# it ~10⁵ times per solve, and a NumPy scalar operation costs several times a float's.


def s(V, a, b):
    return 1.0 / (1.0 + exp((V + a) / b))


def kinetics(V, Ca, liu=False):
    """Steady states and time constants (ms) of the 11 gates (Prinz 2003; Liu 1998 when
    liu=True), as tuples in the state's order."""
    inf = (
        s(V, 25.5, -5.29),
        s(V, 48.9, 5.18),
        s(V, 27.1, -7.2),
        s(V, 32.1, 5.5),
        s(V, 33.0, -8.1),
        s(V, 60.0, 6.2),
        s(V, 27.2, -8.7),
        s(V, 56.9, 4.9),
        Ca / (Ca + 3.0) * s(V, 28.3, -12.6),
        s(V, 12.3, -11.8),
        s(V, 70.0, 6.0) if liu else s(V, 75.0, 5.5),
    )
    tau_liu = (
        1.32 - 1.26 * s(V, 120.0, -25.0),
        0.67 * s(V, 62.9, -10.0) * (1.5 + s(V, 34.9, 3.6)),
        21.7 - 21.3 * s(V, 68.1, -20.5),
        105.0 - 89.8 * s(V, 55.0, -16.9),
        1.4 + 7.0 / (exp((V + 27.0) / 10.0) + exp((V + 70.0) / -13.0)),
        60.0 + 150.0 / (exp((V + 55.0) / 9.0) + exp((V + 65.0) / -16.0)),
        11.6 - 10.4 * s(V, 32.9, -15.2),
        38.6 - 29.2 * s(V, 38.9, -26.5),
        90.3 - 75.1 * s(V, 46.0, -22.7),
        7.2 - 6.4 * s(V, 28.3, -19.2),
        272.0 + 1499.0 * s(V, 42.2, -8.73),
    )
    if liu:
        return inf, tau_liu
    tau_h = 2.0 / (exp((V + 169.7) / -11.6) + exp((V - 26.7) / 14.3))
    return inf, tuple(2.0 * t for t in tau_liu[:10]) + (tau_h,)


def cell_derivative(g, y, current=0.0, liu=False):
    """d/dt of one cell's 13 states ``y`` (a list of floats) with conductances ``g``
    (mS/cm², a list) and injected ``current`` (µA/cm²); returns a list."""
    ca_tau, ca_f = (20.0, 0.94) if liu else (200.0, PRINZ_F)
    E_H = -20.0
    V, Ca = y[0], y[1]
    x = y[2:]
    inf, tau = kinetics(V, Ca, liu)
    E_Ca = RT2F * log(CA_OUT / Ca)
    i_na = g[0] * x[0] ** 3 * x[1] * (V - 50.0)
    i_cat = g[1] * x[2] ** 3 * x[3] * (V - E_Ca)
    i_cas = g[2] * x[4] ** 3 * x[5] * (V - E_Ca)
    i_a = g[3] * x[6] ** 3 * x[7] * (V + 80.0)
    i_kca = g[4] * x[8] ** 4 * (V + 80.0)
    i_kd = g[5] * x[9] ** 4 * (V + 80.0)
    i_h = g[6] * x[10] * (V - E_H)
    i_l = g[7] * (V + 50.0)
    dV = current - (i_na + i_cat + i_cas + i_a + i_kca + i_kd + i_h + i_l)
    dCa = (-ca_f * (i_cat + i_cas) - Ca + 0.05) / ca_tau
    return [dV, dCa] + [(i - xi) / t for i, xi, t in zip(inf, x, tau, strict=True)]


def make_rhs(g, current=0.0, liu=False):
    g = [float(v) for v in g]

    def rhs(t, y):
        return np.array(cell_derivative(g, y.tolist(), current, liu))

    return rhs


def steady_state(V0=-50.0, Ca0=0.05, liu=False):
    inf, _ = kinetics(V0, Ca0, liu)
    return np.array([V0, Ca0, *inf])


def _lsoda(rhs, y0, t1, save_every, rtol, atol):
    """LSODA (ODEPACK, through `scipy.integrate.odeint`, whose per-call overhead is half
    `solve_ivp`'s) from 0 to ``t1`` ms, sampled every ``save_every`` ms: (ts, states × ts)."""
    ts = np.linspace(0.0, t1, int(round(t1 / save_every)) + 1)
    y, info = odeint(rhs, y0, ts, tfirst=True, rtol=rtol, atol=atol, mxstep=10**7, full_output=True)
    assert info["message"] == "Integration successful.", info["message"]
    return ts, y.T


def solve(g, t1, save_every=0.05, V0=-50.0, Ca0=0.05, rtol=1e-9, atol=1e-9, liu=False):
    return _lsoda(make_rhs(g, liu=liu), steady_state(V0, Ca0, liu), t1, save_every, rtol, atol)


# The example pyloric circuit of reference/models.md §4: (pre, post, nS, E, k₋), with cells
# 0 = AB/PD, 1 = LP, 2 = PY.
PYLORIC_SYNAPSES = [
    (0, 1, 30.0, -70.0, 1 / 40),
    (0, 1, 30.0, -80.0, 1 / 100),
    (0, 2, 10.0, -70.0, 1 / 40),
    (0, 2, 3.0, -80.0, 1 / 100),
    (1, 0, 30.0, -70.0, 1 / 40),
    (1, 2, 1.0, -70.0, 1 / 40),
    (2, 1, 30.0, -70.0, 1 / 40),
]


def circuit_rhs(cells, synapses, area=AREA):
    """An independent circuit of Prinz cells (conductance vectors ``cells``) with graded
    synapses ``(pre, post, g_nS, E, k_minus)`` (V_th −35 mV, Δ 5 mV). State: the 13 states
    of each cell, then one s per synapse."""
    cells = [[float(v) for v in g] for g in cells]
    n = len(cells)
    to_density = 1.0 / (area * 1e6)

    def rhs(t, y):
        y = y.tolist()
        V = y[0 : 13 * n : 13]
        s = y[13 * n :]
        i_syn = [0.0] * n
        ds = []
        for k, (pre, post, g, E, k_minus) in enumerate(synapses):
            s_inf = 1.0 / (1.0 + exp((-35.0 - V[pre]) / 5.0))
            tau = (1.0 - s_inf) / k_minus
            ds.append((s_inf - s[k]) / tau)
            i_syn[post] += g * to_density * s[k] * (V[post] - E)
        out = []
        for c in range(n):
            d = cell_derivative(cells[c], y[13 * c : 13 * c + 13])
            d[0] -= i_syn[c]
            out += d
        return np.array(out + ds)

    return rhs


def solve_circuit(cells, synapses, t1, save_every=0.25, V0=-50.0, rtol=1e-8, atol=1e-8):
    y0 = [steady_state(V0) for _ in cells]
    V = [V0] * len(cells)
    s0 = [1.0 / (1.0 + exp((-35.0 - V[pre]) / 5.0)) for pre, *_ in synapses]
    y0 = np.concatenate(y0 + [s0])
    return _lsoda(circuit_rhs(cells, synapses), y0, t1, save_every, rtol, atol)
