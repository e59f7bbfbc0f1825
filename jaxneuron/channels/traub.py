r"""Traub & Miles (1991) sodium and delayed-rectifier kinetics, in the form of the COBAHH
benchmark (Brette et al. 2007, J Comput Neurosci 23:349, benchmark 3, after Destexhe et
al. 2001): rates in 1/ms, V and the threshold parameter V_T in mV (V_T = −63 mV).

| gate | α(V)                                                 | β(V)                                         |
|------|------------------------------------------------------|----------------------------------------------|
| m    | 0.32 (13 − V + V_T) / (e^{(13 − V + V_T)/4} − 1)     | 0.28 (V − V_T − 40) / (e^{(V − V_T − 40)/5} − 1) |
| h    | 0.128 e^{(17 − V + V_T)/18}                          | 4 / (1 + e^{(40 − V + V_T)/5})                |
| n    | 0.032 (15 − V + V_T) / (e^{(15 − V + V_T)/5} − 1)    | 0.5 e^{(10 − V + V_T)/40}                     |

I_Na = g m³ h (V − E_Na), I_Kd = g n⁴ (V − E_K); in the benchmark g_Na = 100 and
g_Kd = 30 mS/cm², E_Na = 50 and E_K = −90 mV. The 0/0 points of αm, βm and αn are
written with `exprel`: u/(eᵘ − 1) = 1/exprel(u).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._numerics import exprel
from ._base import IonChannel, Scalar, from_alpha_beta


class TraubSodium(IonChannel):
    """I_Na = g m³ h (V − E) with Traub–Miles kinetics; ``VT`` (mV) shifts all rates.

    >>> import jax.numpy as jnp
    >>> (m_inf, tau_m), _ = TraubSodium(g=100.0, E=50.0).kinetics(jnp.asarray(-63.0))
    >>> round(float(m_inf), 4)
    0.0148
    """

    VT: Scalar = eqx.field(converter=jnp.asarray, default=-63.0)
    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    powers: ClassVar[tuple[int, ...]] = (3, 1)
    tau_max: ClassVar[float] = 6.0

    def gate_kinetics(self, V, Ca=None):
        v = V - self.VT
        alpha_m = 1.28 / exprel((13.0 - v) / 4.0)
        beta_m = 1.4 / exprel((v - 40.0) / 5.0)
        alpha_h = 0.128 * jnp.exp((17.0 - v) / 18.0)
        beta_h = 4.0 / (1.0 + jnp.exp((40.0 - v) / 5.0))
        return from_alpha_beta(alpha_m, beta_m), from_alpha_beta(alpha_h, beta_h)


class TraubPotassium(IonChannel):
    """Delayed rectifier I_Kd = g n⁴ (V − E) with Traub–Miles kinetics; ``VT`` (mV) shifts
    the rates.

    >>> import jax.numpy as jnp
    >>> ((n_inf, tau_n),) = TraubPotassium(g=30.0, E=-90.0).kinetics(jnp.asarray(-63.0))
    >>> round(float(n_inf), 4)
    0.0377
    """

    VT: Scalar = eqx.field(converter=jnp.asarray, default=-63.0)
    gates: ClassVar[tuple[str, ...]] = ("n",)
    powers: ClassVar[tuple[int, ...]] = (4,)
    tau_max: ClassVar[float] = 1.7

    def gate_kinetics(self, V, Ca=None):
        v = V - self.VT
        alpha_n = 0.16 / exprel((15.0 - v) / 5.0)
        beta_n = 0.5 * jnp.exp((10.0 - v) / 40.0)
        return (from_alpha_beta(alpha_n, beta_n),)
