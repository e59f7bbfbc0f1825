r"""Hodgkin & Huxley (1952) squid-axon kinetics, modern sign convention (rest near −65 mV).

Rates in 1/ms, V in mV (Hodgkin & Huxley 1952, J Physiol 117:500, eqs. 12–13, 20–23,
shifted by −65 mV):

| gate | α(V)                                   | β(V)                       |
|------|----------------------------------------|----------------------------|
| m    | 0.1 (V+40) / (1 − e^{−(V+40)/10})      | 4 e^{−(V+65)/18}           |
| h    | 0.07 e^{−(V+65)/20}                    | 1 / (1 + e^{−(V+35)/10})   |
| n    | 0.01 (V+55) / (1 − e^{−(V+55)/10})     | 0.125 e^{−(V+65)/80}       |

αm and αn are 0/0 at −40 and −55 mV; they are written with `exprel`.
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from .._numerics import exprel
from ._base import IonChannel, from_alpha_beta


class HHSodium(IonChannel):
    """I_Na = g m³ h (V − E);  defaults g = 120 mS/cm², E = 50 mV."""

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    powers: ClassVar[tuple[int, ...]] = (3, 1)
    tau_max: ClassVar[float] = 8.6

    def gate_kinetics(self, V, Ca=None):
        alpha_m = 1.0 / exprel(-(V + 40.0) / 10.0)
        beta_m = 4.0 * jnp.exp(-(V + 65.0) / 18.0)
        alpha_h = 0.07 * jnp.exp(-(V + 65.0) / 20.0)
        beta_h = 1.0 / (1.0 + jnp.exp(-(V + 35.0) / 10.0))
        return from_alpha_beta(alpha_m, beta_m), from_alpha_beta(alpha_h, beta_h)


class HHPotassium(IonChannel):
    """Delayed rectifier I_K = g n⁴ (V − E);  defaults g = 36 mS/cm², E = −77 mV."""

    gates: ClassVar[tuple[str, ...]] = ("n",)
    powers: ClassVar[tuple[int, ...]] = (4,)
    tau_max: ClassVar[float] = 5.8

    def gate_kinetics(self, V, Ca=None):
        alpha_n = 0.1 / exprel(-(V + 55.0) / 10.0)
        beta_n = 0.125 * jnp.exp(-(V + 65.0) / 80.0)
        return (from_alpha_beta(alpha_n, beta_n),)
