r"""The numerical idioms every model and loop shares, each written once.

- `expm1`, `exprel`, `relaxation_factor`: e^z − 1, (e^z − 1)/z and 1 − e^{−z} without
  cancellation near z = 0;
- `relax`: the exponential (Rush–Larsen) increment of a variable relaxing towards a
  target, x∞ + (x − x∞) e^{−z} − x = (x∞ − x)(1 − e^{−z});
- `membrane_increment`: the exact increment of a membrane potential whose current is
  linear in V over a step, Δt·(dV/dt)·(1 − e^{−z})/z with z = Δt·G/C;
- `crossing_fraction`: where within a step a sampled quantity crossed a level (linear
  interpolation);
- `compensated_add`, `advance`: Kahan (compensated) summation of increments.

**Precision.** In float64 the three exponential functions are ``jnp.expm1`` and the
Taylor series of exprel. In float32 (and lower) e^z − 1 is a degree-5 Taylor
polynomial for |z| < 1/16 and ``exp(z) − 1`` otherwise: relative error below 1e-6 over
the whole range (|z|⁶/720 < 1e-10 below 1/16; one rounding of e^z over |e^z − 1| ≥ 0.06
above), and one exp instead of XLA's expm1, which costs about two on CPUs. The form of
each function is chosen by the dtype of its argument alone, so every integrator computes
the same numbers for the same model, dtype and step.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

# Below this |z| the float32 forms use a polynomial instead of exp(z) − 1.
_SERIES_BELOW = 1.0 / 16.0


def _is_double(z) -> bool:
    return jnp.finfo(jnp.result_type(z, float)).bits >= 64


def expm1(z):
    """e^z − 1, accurate near z = 0 (see the module docstring for the float32 form).

    >>> import jax.numpy as jnp
    >>> float(expm1(jnp.float32(1e-6)))
    1.0000005e-06
    """
    z = jnp.asarray(z)
    if _is_double(z):
        return jnp.expm1(z)
    series = z * (1 + z * (1 / 2 + z * (1 / 6 + z * (1 / 24 + z / 120))))
    return jnp.where(jnp.abs(z) < _SERIES_BELOW, series, jnp.exp(z) - 1)


def exprel(z):
    """(e^z − 1)/z, equal to 1 at z = 0, with finite values and gradients everywhere.

    Rate functions of the form a·x/(1 − e^{−x}) are 0/0 at x = 0; written as
    a / exprel(−x) they are smooth in float32 and float64.

    >>> import jax.numpy as jnp
    >>> float(exprel(jnp.float32(0.0))), round(float(exprel(jnp.float32(1.0))), 6)
    (1.0, 1.718282)
    """
    z = jnp.asarray(z)
    small_at = 1e-2 if _is_double(z) else _SERIES_BELOW
    small = jnp.abs(z) < small_at
    z_safe = jnp.where(small, 1.0, z)
    # float64: truncation z⁵/720 < 1.4e-13 relative at |z| = 1e-2; float32: z⁶/5040
    series = 1.0 + z * (1 / 2 + z * (1 / 6 + z * (1 / 24 + z * (1 / 120 + z / 720))))
    # |z_safe| ≥ small_at, where expm1's own float32 series is never taken: exp(z) − 1
    # directly (the same numbers, one polynomial fewer)
    large = jnp.expm1(z_safe) if _is_double(z) else jnp.exp(z_safe) - 1
    return jnp.where(small, series, large / z_safe)


def relaxation_factor(z):
    """1 − e^{−z}: the fraction of the way to its target that a first-order variable
    covers in a step of z time constants (z = Δt/τ ≥ 0).

    >>> import jax.numpy as jnp
    >>> float(relaxation_factor(jnp.float32(1e-8)))
    1e-08
    """
    return -expm1(-jnp.asarray(z))


def relax(x, x_inf, z):
    r"""The exponential (Rush–Larsen) increment of dx/dt = (x∞ − x)/τ over a step with x∞
    and τ frozen, z = Δt/τ:

        Δx = (x∞ − x)(1 − e^{−z})      (x after the step: x∞ + (x − x∞) e^{−z})

    exact for frozen coefficients, so unconditionally stable, and free of the
    cancellation of x∞ + (x − x∞)e^{−z} − x when τ ≫ Δt (Rush & Larsen 1978, IEEE Trans
    Biomed Eng 25:389).

    >>> import jax.numpy as jnp
    >>> round(float(relax(jnp.float32(0.0), 1.0, jnp.log(2.0))), 6)   # half-way
    0.5
    """
    return (x_inf - x) * relaxation_factor(z)


def membrane_increment(dV_dt, G_over_C, dt):
    r"""The exact increment over ``dt`` of C dV/dt = −G·V + J with G and J frozen:

        ΔV = Δt · (dV/dt) · (1 − e^{−z})/z,   z = Δt·G/C

    where dV/dt is the derivative at the start of the step. It tends to the forward-Euler
    step Δt·dV/dt as G → 0 and to the relaxation towards V∞ = J/G for large z.

    >>> import jax.numpy as jnp
    >>> float(membrane_increment(jnp.float32(2.0), 0.0, 0.5))   # no conductance: Euler
    1.0
    """
    return dt * dV_dt * exprel(-dt * G_over_C)


def crossing_fraction(before, after, level):
    """Where between two samples a quantity reached ``level``, as a fraction of the
    interval in [0, 1] (linear interpolation; 0 where it did not rise). NumPy arrays give
    NumPy results in their own precision (the exact analysis functions), JAX arrays JAX.

    >>> import jax.numpy as jnp
    >>> float(crossing_fraction(jnp.float32(-10.0), 30.0, 0.0))
    0.25
    """
    xp = (
        np
        if isinstance(before, np.ndarray | float) and isinstance(after, np.ndarray | float)
        else jnp
    )
    rise = after - before
    rising = rise > 0
    fraction = (level - before) / xp.where(rising, rise, 1.0)
    return xp.clip(xp.where(rising, fraction, 0.0), 0.0, 1.0)


def compensated_add(y, d, c):
    """Kahan summation: ``y + d`` with ``c`` the low-order part that earlier additions
    rounded away; returns the new sum and the new ``c`` (Kahan 1965, Commun ACM 8:40).

    >>> import jax.numpy as jnp
    >>> y, c = jnp.float32(1.0), jnp.float32(0.0)
    >>> for _ in range(1000):
    ...     y, c = compensated_add(y, jnp.float32(1e-8), c)
    >>> float(y + c) - 1.0 > 9e-6        # plain float32 addition would stay at 1.0
    True
    """
    a = d + c
    s = y + a
    return s, a - (s - y)


def advance(x, dx, c=None):
    """``x + dx`` and its new compensation: compensated when ``c`` is given (see
    `compensated_add`), plain (and ``None``) otherwise. Models add every increment of
    their fixed step through this, so that the integrator chooses the summation."""
    if c is None:
        return x + dx, None
    return compensated_add(x, dx, c)
