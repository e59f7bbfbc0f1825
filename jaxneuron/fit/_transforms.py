r"""Transforms that keep free parameters valid during optimisation.

The optimiser works on an unconstrained number u ∈ ℝ; the model sees θ = f(u). A
conductance optimised through `Log` (θ = eᵘ) can never turn negative, and one through
`Bounded` (θ = lo + (hi − lo)·σ(u)) never leaves (lo, hi). Steps in u are also better
scaled: Adam's steps of ~lr in u are relative changes of ~lr in θ under `Log`.

>>> t = Bounded(0.5, 2.0)
>>> round(float(t.forward(t.inverse(1.3))), 6)
1.3
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

Scalar = Float[Array, "..."]


class Transform(eqx.Module):
    """θ = forward(u) from an unconstrained u; ``inverse`` maps a valid θ back to u."""

    def forward(self, u: Scalar) -> Scalar:
        raise NotImplementedError

    def inverse(self, value: ArrayLike) -> Scalar:
        raise NotImplementedError

    def contains(self, value) -> bool:
        """Whether ``value`` is inside the open domain that ``forward`` reaches."""
        return bool(jnp.all(jnp.isfinite(jnp.asarray(value))))

    def domain(self, unit: str) -> str:
        return "any finite value"

    def sample(self, key, value, spread: float, n: int) -> Array:
        """``n`` random initial values around ``value`` (for multi-start): uniform over
        bounds, otherwise a relative spread of ``spread`` (log-normal for positive
        transforms)."""
        value = jnp.asarray(value)
        scale = jnp.maximum(jnp.abs(value), 1.0)
        return value + spread * scale * jax.random.normal(key, (n,), value.dtype)


class Identity(Transform):
    """θ = u: no constraint (reversal potentials, V0)."""

    def forward(self, u):
        return u

    def inverse(self, value):
        return jnp.asarray(value)


class Log(Transform):
    """θ = exp(u) > 0: conductances, time constants, scales. Adam then takes relative
    steps, which suits parameters spanning decades."""

    def forward(self, u):
        return jnp.exp(u)

    def inverse(self, value):
        return jnp.log(jnp.asarray(value))

    def contains(self, value):
        value = jnp.asarray(value)
        return bool(jnp.all(jnp.isfinite(value) & (value > 0)))

    def domain(self, unit):
        return f"values > 0 {unit}".rstrip()

    def sample(self, key, value, spread, n):
        value = jnp.asarray(value)
        return value * jnp.exp(spread * jax.random.normal(key, (n,), value.dtype))


class Softplus(Transform):
    """θ = log(1 + eᵘ) > 0: positive, but steps are additive for large θ (unlike `Log`)."""

    def forward(self, u):
        return jax.nn.softplus(u)

    def inverse(self, value):
        value = jnp.asarray(value)
        return value + jnp.log(-jnp.expm1(-value))

    def contains(self, value):
        value = jnp.asarray(value)
        return bool(jnp.all(jnp.isfinite(value) & (value > 0)))

    def domain(self, unit):
        return f"values > 0 {unit}".rstrip()

    def sample(self, key, value, spread, n):
        return Log().sample(key, value, spread, n)


class Bounded(Transform):
    r"""θ = lo + (hi − lo)·σ(u) ∈ (lo, hi); with ``log=True``,
    θ = exp(log lo + (log hi − log lo)·σ(u)) for bounds that span decades (0 < lo).

    >>> float(Bounded(1.0, 100.0, log=True).forward(0.0))
    10.0
    """

    lo: float = eqx.field(static=True)
    hi: float = eqx.field(static=True)
    log: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not self.lo < self.hi:
            raise ValueError(f"Bounded needs lo < hi, got lo = {self.lo}, hi = {self.hi}")
        if self.log and self.lo <= 0:
            raise ValueError(f"Bounded(log=True) needs lo > 0, got lo = {self.lo}")

    def _ends(self):
        if self.log:
            return jnp.log(self.lo), jnp.log(self.hi)
        return self.lo, self.hi

    def forward(self, u):
        a, b = self._ends()
        x = a + (b - a) * jax.nn.sigmoid(u)
        return jnp.exp(x) if self.log else x

    def inverse(self, value):
        a, b = self._ends()
        x = jnp.log(jnp.asarray(value)) if self.log else jnp.asarray(value)
        p = (x - a) / (b - a)
        return jnp.log(p) - jnp.log1p(-p)

    def contains(self, value):
        value = jnp.asarray(value)
        return bool(jnp.all((value > self.lo) & (value < self.hi)))

    def domain(self, unit):
        return f"the open interval ({self.lo:g}, {self.hi:g}) {unit}".rstrip()

    def sample(self, key, value, spread, n):
        value = jnp.asarray(value)
        a, b = self._ends()
        # a margin keeps samples off the bounds, where σ saturates and gradients vanish
        margin = 0.02 * (b - a)
        x = jax.random.uniform(key, (n,), value.dtype, a + margin, b - margin)
        return jnp.exp(x) if self.log else x


# ---- defaults and units by parameter name -------------------------------------------

_POSITIVE_SUFFIXES = (
    ".g",
    "g_nS",
    "g_scale",
    ".scale",
    "tau",
    "tau_scale",
    ".slope",
    "C",
    "Ca0",
    "Delta",
    "k_minus",
)


def default_transform(name: str) -> Transform:
    """`Log` for parameters that must stay positive (conductances ``*.g``, ``*.g_nS``,
    ``g_scale``, time constants, C, Ca0), `Identity` otherwise (reversals, V0)."""
    last = name.rsplit(".", 1)[-1]
    if name.endswith(_POSITIVE_SUFFIXES) or last in ("C", "tau", "Ca0", "g_scale", "scale"):
        return Log()
    return Identity()


_UNITS = {
    "g": "mS/cm²",
    "g_nS": "nS",
    "E": "mV",
    "V0": "mV",
    "junction_potential": "mV",
    "V_th": "mV",
    "Delta": "mV",
    "C": "µF/cm²",
    "Ca0": "µM",
    "tau": "ms",
    "k_minus": "1/ms",
    "g_scale": "(dimensionless)",
    "scale": "(dimensionless)",
}


def unit_of(name: str) -> str:
    """The unit of a parameter, from the last part of its name (``"" if unknown``)."""
    return _UNITS.get(name.rsplit(".", 1)[-1], "")
