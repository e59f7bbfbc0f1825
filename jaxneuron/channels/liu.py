r"""Liu, Golowasch, Marder & Abbott (1998), J Neurosci 18:2309 — Table / Fig. 10.

Steady states use σ(V; a, b) = 1 / (1 + exp((V + a)/b)); V in mV, τ in ms, [Ca] in µM.

| current | p | q | m∞               | h∞              | τm                                   | τh |
|---------|---|---|------------------|-----------------|--------------------------------------|----|
| Na      | 3 | 1 | σ(V;25.5,−5.29)  | σ(V;48.9,5.18)  | 1.32 − 1.26 σ(V;120,−25)             | 0.67 σ(V;62.9,−10)(1.5 + σ(V;34.9,3.6)) |
| CaT     | 3 | 1 | σ(V;27.1,−7.2)   | σ(V;32.1,5.5)   | 21.7 − 21.3 σ(V;68.1,−20.5)          | 105 − 89.8 σ(V;55,−16.9) |
| CaS     | 3 | 1 | σ(V;33,−8.1)     | σ(V;60,6.2)     | 1.4 + 7/(e^{(V+27)/10} + e^{(V+70)/−13}) | 60 + 150/(e^{(V+55)/9} + e^{(V+65)/−16}) |
| A       | 3 | 1 | σ(V;27.2,−8.7)   | σ(V;56.9,4.9)   | 11.6 − 10.4 σ(V;32.9,−15.2)          | 38.6 − 29.2 σ(V;38.9,−26.5) |
| KCa     | 4 | 0 | [Ca]/([Ca]+3) σ(V;28.3,−12.6) | – | 90.3 − 75.1 σ(V;46,−22.7)          | – |
| Kd      | 4 | 0 | σ(V;12.3,−11.8)  | –               | 7.2 − 6.4 σ(V;28.3,−19.2)            | – |
| H       | 1 | 0 | σ(V;70,6)        | –               | 272 + 1499 σ(V;42.2,−8.73)           | – |

Reversal potentials: E_Na = +50, E_K = −80 (A, KCa, Kd), E_H = −20 mV; E_Ca from the
calcium pool (Nernst). The steady-state functions below are shared with Prinz et al. 2003.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import IonChannel, _optional_array, requires_calcium, sigmoid

# ---- steady states (Liu 1998; reused unchanged by Prinz 2003) ------------------------


def na_m_inf(V):
    return sigmoid(V, 25.5, -5.29)


def na_h_inf(V):
    return sigmoid(V, 48.9, 5.18)


def cat_m_inf(V):
    return sigmoid(V, 27.1, -7.2)


def cat_h_inf(V):
    return sigmoid(V, 32.1, 5.5)


def cas_m_inf(V):
    return sigmoid(V, 33.0, -8.1)


def cas_h_inf(V):
    return sigmoid(V, 60.0, 6.2)


def a_m_inf(V):
    return sigmoid(V, 27.2, -8.7)


def a_h_inf(V):
    return sigmoid(V, 56.9, 4.9)


def kca_m_inf(V, Ca):
    return Ca / (Ca + 3.0) * sigmoid(V, 28.3, -12.6)


def kd_m_inf(V):
    return sigmoid(V, 12.3, -11.8)


# ---- the channels --------------------------------------------------------------------

_E = dict(converter=_optional_array)


class LiuNa(IonChannel):
    """Fast sodium, I = g m³h (V − E), E = +50 mV."""

    E: object = eqx.field(default=50.0, **_E)
    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    tau_max: ClassVar[float] = 1.42

    def gate_kinetics(self, V, Ca=None):
        tau_m = 1.32 - 1.26 * sigmoid(V, 120.0, -25.0)
        tau_h = 0.67 * sigmoid(V, 62.9, -10.0) * (1.5 + sigmoid(V, 34.9, 3.6))
        return (na_m_inf(V), tau_m), (na_h_inf(V), tau_h)


class LiuCaT(IonChannel):
    """Transient calcium, I = g m³h (V − E_Ca)."""

    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    ion: ClassVar = "Ca"

    def gate_kinetics(self, V, Ca=None):
        tau_m = 21.7 - 21.3 * sigmoid(V, 68.1, -20.5)
        tau_h = 105.0 - 89.8 * sigmoid(V, 55.0, -16.9)
        return (cat_m_inf(V), tau_m), (cat_h_inf(V), tau_h)


class LiuCaS(IonChannel):
    """Slow calcium, I = g m³h (V − E_Ca)."""

    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)
    ion: ClassVar = "Ca"

    def gate_kinetics(self, V, Ca=None):
        tau_m = 1.4 + 7.0 / (jnp.exp((V + 27.0) / 10.0) + jnp.exp((V + 70.0) / -13.0))
        tau_h = 60.0 + 150.0 / (jnp.exp((V + 55.0) / 9.0) + jnp.exp((V + 65.0) / -16.0))
        return (cas_m_inf(V), tau_m), (cas_h_inf(V), tau_h)


class LiuA(IonChannel):
    """Transient (A-type) potassium, I = g m³h (V − E), E = −80 mV."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m", "h")
    powers: ClassVar = (3, 1)

    def gate_kinetics(self, V, Ca=None):
        tau_m = 11.6 - 10.4 * sigmoid(V, 32.9, -15.2)
        tau_h = 38.6 - 29.2 * sigmoid(V, 38.9, -26.5)
        return (a_m_inf(V), tau_m), (a_h_inf(V), tau_h)


class LiuKCa(IonChannel):
    """Calcium-dependent potassium, I = g m⁴ (V − E), E = −80 mV; m∞ rises with [Ca]."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (4,)

    def gate_kinetics(self, V, Ca=None):
        Ca = requires_calcium(self, Ca)
        tau_m = 90.3 - 75.1 * sigmoid(V, 46.0, -22.7)
        return ((kca_m_inf(V, Ca), tau_m),)


class LiuKd(IonChannel):
    """Delayed-rectifier potassium, I = g m⁴ (V − E), E = −80 mV."""

    E: object = eqx.field(default=-80.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (4,)
    tau_max: ClassVar[float] = 7.2

    def gate_kinetics(self, V, Ca=None):
        tau_m = 7.2 - 6.4 * sigmoid(V, 28.3, -19.2)
        return ((kd_m_inf(V), tau_m),)


class LiuH(IonChannel):
    """Hyperpolarization-activated inward current, I = g m (V − E), E = −20 mV."""

    E: object = eqx.field(default=-20.0, **_E)
    gates: ClassVar = ("m",)
    powers: ClassVar = (1,)

    def gate_kinetics(self, V, Ca=None):
        tau_m = 272.0 + 1499.0 * sigmoid(V, 42.2, -8.73)
        return ((sigmoid(V, 70.0, 6.0), tau_m),)
