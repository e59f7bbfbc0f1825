r"""Prinz, Billimoria & Marder (2003), J Neurophysiol 90:3998 — Table 1.

The steady states of Na, CaT, CaS, A, KCa and Kd are Liu et al.'s (imported from
`jaxneuron.channels.liu`); every time constant is exactly twice Liu's, written out here as
in the 2003 table. H is a different current. V in mV, τ in ms, [Ca] in µM.

| current | τm                                          | τh |
|---------|---------------------------------------------|----|
| Na      | 2.64 − 2.52 σ(V;120,−25)                    | 1.34 σ(V;62.9,−10)(1.5 + σ(V;34.9,3.6)) |
| CaT     | 43.4 − 42.6 σ(V;68.1,−20.5)                 | 210 − 179.6 σ(V;55,−16.9) |
| CaS     | 2.8 + 14/(e^{(V+27)/10} + e^{(V+70)/−13})   | 120 + 300/(e^{(V+55)/9} + e^{(V+65)/−16}) |
| A       | 23.2 − 20.8 σ(V;32.9,−15.2)                 | 77.2 − 58.4 σ(V;38.9,−26.5) |
| KCa     | 180.6 − 150.2 σ(V;46,−22.7)                 | – |
| Kd      | 14.4 − 12.8 σ(V;28.3,−19.2)                 | – |
| H       | 2 / (e^{(V+169.7)/−11.6} + e^{(V−26.7)/14.3}),  m∞ = σ(V;75,5.5), p = 1 | – |

Reversal potentials: E_Na = +50, E_K = −80, E_H = −20 mV; E_Ca by Nernst.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import IonChannel, _optional_array, requires_calcium, sigmoid
from .liu import (
    a_h_inf,
    a_m_inf,
    cas_h_inf,
    cas_m_inf,
    cat_h_inf,
    cat_m_inf,
    kca_m_inf,
    kd_m_inf,
    na_h_inf,
    na_m_inf,
)

_E = dict(converter=_optional_array)


class PrinzNa(IonChannel):
    """Fast sodium, I = g m³h (V − E), E = +50 mV."""

    E: object = eqx.field(default=50.0, **_E)
    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    tau_max: ClassVar[float] = 2.9

    def gate_kinetics(self, V, Ca=None):
        tau_m = 2.64 - 2.52 * sigmoid(V, 120.0, -25.0)
        tau_h = 1.34 * sigmoid(V, 62.9, -10.0) * (1.5 + sigmoid(V, 34.9, 3.6))
        return (na_m_inf(V), tau_m), (na_h_inf(V), tau_h)


class PrinzCaT(IonChannel):
    """Transient calcium, I = g m³h (V − E_Ca)."""

    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    ion: ClassVar = "Ca"

    def gate_kinetics(self, V, Ca=None):
        tau_m = 43.4 - 42.6 * sigmoid(V, 68.1, -20.5)
        tau_h = 210.0 - 179.6 * sigmoid(V, 55.0, -16.9)
        return (cat_m_inf(V), tau_m), (cat_h_inf(V), tau_h)


class PrinzCaS(IonChannel):
    """Slow calcium, I = g m³h (V − E_Ca)."""

    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    ion: ClassVar = "Ca"

    def gate_kinetics(self, V, Ca=None):
        tau_m = 2.8 + 14.0 / (jnp.exp((V + 27.0) / 10.0) + jnp.exp((V + 70.0) / -13.0))
        tau_h = 120.0 + 300.0 / (jnp.exp((V + 55.0) / 9.0) + jnp.exp((V + 65.0) / -16.0))
        return (cas_m_inf(V), tau_m), (cas_h_inf(V), tau_h)


class PrinzA(IonChannel):
    """Transient (A-type) potassium, I = g m³h (V − E), E = −80 mV."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)

    def gate_kinetics(self, V, Ca=None):
        tau_m = 23.2 - 20.8 * sigmoid(V, 32.9, -15.2)
        tau_h = 77.2 - 58.4 * sigmoid(V, 38.9, -26.5)
        return (a_m_inf(V), tau_m), (a_h_inf(V), tau_h)


class PrinzKCa(IonChannel):
    """Calcium-dependent potassium, I = g m⁴ (V − E), E = −80 mV."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (4,)

    def gate_kinetics(self, V, Ca=None):
        Ca = requires_calcium(self, Ca)
        tau_m = 180.6 - 150.2 * sigmoid(V, 46.0, -22.7)
        return ((kca_m_inf(V, Ca), tau_m),)


class PrinzKd(IonChannel):
    """Delayed-rectifier potassium, I = g m⁴ (V − E), E = −80 mV."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (4,)
    tau_max: ClassVar[float] = 14.4

    def gate_kinetics(self, V, Ca=None):
        tau_m = 14.4 - 12.8 * sigmoid(V, 28.3, -19.2)
        return ((kd_m_inf(V), tau_m),)


class PrinzH(IonChannel):
    """Hyperpolarization-activated inward current, I = g m (V − E), E = −20 mV."""

    E: object = eqx.field(default=-20.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (1,)

    def gate_kinetics(self, V, Ca=None):
        tau_m = 2.0 / (jnp.exp((V + 169.7) / -11.6) + jnp.exp((V - 26.7) / 14.3))
        return ((sigmoid(V, 75.0, 5.5), tau_m),)
