"""The channel abstraction: kinetics are written once, everything else is derived.

A channel is an equinox module whose maximal conductance ``g`` (mS/cm²) and reversal
potential ``E`` (mV) are pytree leaves. Its gates are static structure: the names in
``gates`` and the integer exponents in ``powers``. A concrete channel implements one
method, `gate_kinetics`, returning ``(x∞(V), τx(V))`` for each gate — exactly what the
papers' tables give. From it the library derives

- the vector field        dx/dt = (x∞ − x) / τx,
- the exponential (Rush–Larsen) update  x ← x∞ + (x − x∞) · exp(−Δt / τx),
- steady-state initial conditions        x = x∞(V₀),

and the current  I = g · Π xᵢ^pᵢ · (V − E).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._validation import check_finite, check_nonnegative

Scalar = Float[Array, ""]
Kinetics = tuple[Scalar, Scalar]


def exprel(z):
    """(eᶻ − 1)/z, equal to 1 at z = 0, with finite values and gradients everywhere.

    Rate functions of the form a·x/(1 − e^{−x}) are 0/0 at x = 0; written as
    a / exprel(−x) they are smooth in float32 and float64.
    """
    small = jnp.abs(z) < 1e-2
    z_safe = jnp.where(small, 1.0, z)
    # Taylor series to z⁴: truncation error < z⁵/720 ≈ 1.4e-13 relative at |z| = 1e-2.
    series = 1.0 + z * (1 / 2 + z * (1 / 6 + z * (1 / 24 + z / 120)))
    return jnp.where(small, series, jnp.expm1(z_safe) / z_safe)


def from_alpha_beta(alpha, beta) -> Kinetics:
    """Convert opening/closing rates (1/ms) to (x∞, τx in ms).

    dx/dt = α(1 − x) − βx  ⇔  x∞ = α / (α + β),  τx = 1 / (α + β).
    """
    total = alpha + beta
    return alpha / total, 1.0 / total


def sigmoid(V, a, b):
    """σ(V; a, b) = 1 / (1 + exp((V + a) / b)), the steady-state shape of the STG papers."""
    return 1.0 / (1.0 + jnp.exp((V + a) / b))


class IonChannel(eqx.Module):
    """A gated ionic current  I = g · Π xᵢ^pᵢ · (V − E)   [µA/cm²].

    Subclasses set the class variables ``gates`` (names) and ``powers`` (exponents) and
    implement `gate_kinetics`. ``g`` is in mS/cm², ``E`` in mV.
    """

    g: Scalar = eqx.field(converter=jnp.asarray)
    E: Scalar = eqx.field(converter=jnp.asarray)

    gates: ClassVar[tuple[str, ...]] = ()
    powers: ClassVar[tuple[int, ...]] = ()

    def __check_init__(self):
        name = type(self).__name__
        check_nonnegative(f"{name}.g (maximal conductance)", self.g, "mS/cm²")
        check_finite(f"{name}.E (reversal potential)", self.E, "mV")
        if len(self.gates) != len(self.powers):
            raise TypeError(f"{name}: `gates` and `powers` must have the same length")

    def gate_kinetics(self, V: Scalar) -> tuple[Kinetics, ...]:
        """(x∞(V), τx(V) in ms) for every gate, in the order of ``gates``."""
        return ()

    def open_probability(self, gate_values) -> Scalar:
        """Π xᵢ^pᵢ; 1 for a channel without gates (a leak)."""
        result = jnp.ones_like(self.g)
        for x, p in zip(gate_values, self.powers, strict=True):
            result = result * x**p
        return result

    def conductance(self, gate_values) -> Scalar:
        """Instantaneous conductance g · Π xᵢ^pᵢ in mS/cm²."""
        return self.g * self.open_probability(gate_values)

    def current(self, V: Scalar, gate_values) -> Scalar:
        """I = g · Π xᵢ^pᵢ · (V − E) in µA/cm² (positive outward)."""
        return self.conductance(gate_values) * (V - self.E)


class Leak(IonChannel):
    """Passive leak  I = g · (V − E)."""
