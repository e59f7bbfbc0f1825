r"""Injected currents I_ext(t) in µA/cm² (t in ms), as equinox modules.

Amplitudes, onsets and frequencies are array leaves, so a stimulus can be vmapped over
and differentiated like any model parameter. Stimuli add: ``Constant(2.0) + Sine(1.0, 10.0)``.
A stimulus with jumps reports them through `discontinuities` so that adaptive solvers
step onto them instead of across them.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._validation import check_finite, check_nonnegative, check_positive, is_concrete

Scalar = Float[Array, ""]


class AbstractStimulus(eqx.Module):
    """An injected current density I_ext(t) [µA/cm²] as a function of time t [ms]."""

    def __call__(self, t) -> Scalar:
        raise NotImplementedError

    def discontinuities(self) -> tuple:
        """Times (ms) where I_ext jumps; empty for smooth stimuli."""
        return ()

    def __add__(self, other: AbstractStimulus) -> Sum:
        return Sum((self, as_stimulus(other)))

    __radd__ = __add__


class Sum(AbstractStimulus):
    """The sum of several stimuli."""

    parts: tuple[AbstractStimulus, ...]

    def __call__(self, t):
        return sum(part(t) for part in self.parts)

    def discontinuities(self):
        return tuple(x for part in self.parts for x in part.discontinuities())


class Constant(AbstractStimulus):
    """I_ext(t) = amplitude  [µA/cm²].

    >>> float(Constant(10.0)(3.0))
    10.0
    """

    amplitude: Scalar = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_finite("Constant.amplitude", self.amplitude, "µA/cm²")

    def __call__(self, t):
        return self.amplitude + 0.0 * t


class Step(AbstractStimulus):
    """I_ext(t) = amplitude for onset ≤ t < offset, else 0   [µA/cm², ms].

    >>> stim = Step(amplitude=5.0, onset=10.0, offset=20.0)
    >>> [float(stim(t)) for t in (5.0, 15.0, 25.0)]
    [0.0, 5.0, 0.0]
    """

    amplitude: Scalar = eqx.field(converter=jnp.asarray)
    onset: Scalar = eqx.field(converter=jnp.asarray, default=0.0)
    offset: Scalar = eqx.field(converter=jnp.asarray, default=jnp.inf)

    def __check_init__(self):
        check_finite("Step.amplitude", self.amplitude, "µA/cm²")
        check_finite("Step.onset", self.onset, "ms")
        if is_concrete(self.offset) and is_concrete(self.onset):
            if np.any(np.asarray(self.offset) <= np.asarray(self.onset)):
                raise ValueError(
                    f"Step.offset ({self.offset} ms) must be later than Step.onset "
                    f"({self.onset} ms)"
                )

    def __call__(self, t):
        on = (t >= self.onset) & (t < self.offset)
        return jnp.where(on, self.amplitude, 0.0 * self.amplitude)

    def discontinuities(self):
        return (self.onset, self.offset)


class PulseTrain(AbstractStimulus):
    """Rectangular pulses: amplitude during [onset + k·period, onset + k·period + width),
    k = 0 … count − 1; 0 otherwise.  Units: µA/cm², ms.

    >>> stim = PulseTrain(amplitude=2.0, onset=0.0, width=1.0, period=10.0, count=3)
    >>> [float(stim(t)) for t in (0.5, 5.0, 20.5, 30.5)]
    [2.0, 0.0, 2.0, 0.0]
    """

    amplitude: Scalar = eqx.field(converter=jnp.asarray)
    onset: Scalar = eqx.field(converter=jnp.asarray)
    width: Scalar = eqx.field(converter=jnp.asarray)
    period: Scalar = eqx.field(converter=jnp.asarray)
    count: int = eqx.field(static=True)

    def __check_init__(self):
        check_finite("PulseTrain.amplitude", self.amplitude, "µA/cm²")
        check_finite("PulseTrain.onset", self.onset, "ms")
        check_positive("PulseTrain.width", self.width, "ms")
        check_positive("PulseTrain.period", self.period, "ms")
        if self.count < 0:
            raise ValueError(f"PulseTrain.count must be >= 0, got {self.count}")
        if is_concrete(self.width) and is_concrete(self.period):
            if np.any(np.asarray(self.width) > np.asarray(self.period)):
                raise ValueError("PulseTrain.width must not exceed PulseTrain.period (ms)")

    def __call__(self, t):
        since = t - self.onset
        k = jnp.floor(since / self.period)
        within = since - k * self.period
        on = (since >= 0) & (k < self.count) & (within < self.width)
        return jnp.where(on, self.amplitude, 0.0 * self.amplitude)

    def discontinuities(self):
        k = jnp.arange(self.count)
        starts = self.onset + k * self.period
        return (starts, starts + self.width)


class Ramp(AbstractStimulus):
    """I_ext(t) rising linearly from ``start`` at ``onset`` to ``end`` at ``offset``; 0
    outside [onset, offset).  Units: µA/cm², ms.

    >>> stim = Ramp(start=0.0, end=10.0, onset=10.0, offset=20.0)
    >>> [float(stim(t)) for t in (5.0, 15.0, 25.0)]
    [0.0, 5.0, 0.0]
    """

    start: Scalar = eqx.field(converter=jnp.asarray)
    end: Scalar = eqx.field(converter=jnp.asarray)
    onset: Scalar = eqx.field(converter=jnp.asarray)
    offset: Scalar = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        check_finite("Ramp.start", self.start, "µA/cm²")
        check_finite("Ramp.end", self.end, "µA/cm²")
        check_finite("Ramp.onset", self.onset, "ms")
        check_finite("Ramp.offset", self.offset, "ms")
        if is_concrete(self.offset) and is_concrete(self.onset):
            if np.any(np.asarray(self.offset) <= np.asarray(self.onset)):
                raise ValueError(
                    f"Ramp.offset ({self.offset} ms) must be later than Ramp.onset "
                    f"({self.onset} ms)"
                )

    def __call__(self, t):
        fraction = (t - self.onset) / (self.offset - self.onset)
        on = (t >= self.onset) & (t < self.offset)
        return jnp.where(on, self.start + (self.end - self.start) * fraction, 0.0 * self.start)

    def discontinuities(self):
        return (self.onset, self.offset)


def ornstein_uhlenbeck(
    mean: float, sd: float, tau: float, t1: float, *, dt: float = 0.1, seed: int = 0
) -> Interpolated:
    r"""A fluctuating current: one sample path of the Ornstein–Uhlenbeck process

        dI = (mean − I)/tau dt + sd·√(2/tau) dW,

    stationary mean ``mean`` and standard deviation ``sd`` (µA/cm²), correlation time
    ``tau`` (ms), drawn on a grid of ``dt`` ms over [0, t1] by its exact update
    I_{k+1} = mean + (I_k − mean)·e^{−dt/tau} + sd·√(1 − e^{−2dt/tau})·ξ_k (I_0 from the
    stationary law), and linearly interpolated. The same ``seed`` gives the same path on
    every machine (NumPy's PCG64).

    >>> stim = ornstein_uhlenbeck(0.0, 2.0, 5.0, t1=1000.0, seed=1)
    >>> stim.values.shape
    (10001,)
    """
    check_finite("mean", mean, "µA/cm²")
    check_nonnegative("sd", sd, "µA/cm²")
    check_positive("tau", tau, "ms")
    check_positive("t1", t1, "ms")
    check_positive("dt", dt, "ms")
    n = int(np.floor(t1 / dt + 1e-9)) + 1
    rng = np.random.Generator(np.random.PCG64(seed))
    xi = rng.standard_normal(n)
    decay = np.exp(-dt / tau)
    kick = sd * np.sqrt(1.0 - decay**2)
    values = np.empty(n)
    values[0] = mean + sd * xi[0]
    for k in range(1, n):
        values[k] = mean + (values[k - 1] - mean) * decay + kick * xi[k]
    return Interpolated.from_samples(values, dt)


class Sine(AbstractStimulus):
    """I_ext(t) = offset + amplitude · sin(2π · frequency_hz · t / 1000 + phase)
    [µA/cm²; frequency in Hz, t in ms, phase in rad].

    >>> round(float(Sine(amplitude=5.0, frequency_hz=50.0)(5.0)), 6)   # quarter period
    5.0
    """

    amplitude: Scalar = eqx.field(converter=jnp.asarray)
    frequency_hz: Scalar = eqx.field(converter=jnp.asarray)
    phase: Scalar = eqx.field(converter=jnp.asarray, default=0.0)
    offset: Scalar = eqx.field(converter=jnp.asarray, default=0.0)

    def __check_init__(self):
        check_finite("Sine.amplitude", self.amplitude, "µA/cm²")
        check_nonnegative("Sine.frequency_hz", self.frequency_hz, "Hz")
        check_finite("Sine.phase", self.phase, "rad")
        check_finite("Sine.offset", self.offset, "µA/cm²")

    def __call__(self, t):
        return self.offset + self.amplitude * jnp.sin(
            2 * jnp.pi * self.frequency_hz * t / 1000.0 + self.phase
        )


class TimeVaryingFunction(AbstractStimulus):
    """Any JAX-traceable f(t) [t in ms → µA/cm²].

    The function is static structure: parameters it closes over are constants. To fit
    them, write a small `AbstractStimulus` subclass with the parameters as fields.

    >>> import jax.numpy as jnp
    >>> stim = TimeVaryingFunction(f=lambda t: 5 * jnp.sin(2 * jnp.pi * t / 20))
    >>> round(float(stim(5.0)), 6)
    5.0
    """

    f: Callable = eqx.field(static=True)

    def __check_init__(self):
        if not callable(self.f):
            raise TypeError(f"TimeVaryingFunction.f must be callable, got {self.f!r}")

    def __call__(self, t):
        return jnp.asarray(self.f(t))


class Interpolated(AbstractStimulus):
    """A sampled current, linearly interpolated; held at its end values outside the samples.

    ``times`` in ms (strictly increasing), ``values`` in µA/cm², both 1-D of equal length.
    `Interpolated.from_samples` builds one from a sampling interval.

    >>> stim = Interpolated(times=[0.0, 10.0], values=[0.0, 4.0])
    >>> float(stim(2.5))
    1.0
    """

    times: Float[Array, " n"] = eqx.field(converter=jnp.asarray)
    values: Float[Array, " n"] = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        if self.times.ndim != 1 or self.values.ndim != 1:
            raise ValueError(
                "Interpolated.times (ms) and Interpolated.values (µA/cm²) must be 1-D, "
                f"got shapes {self.times.shape} and {self.values.shape}"
            )
        if self.times.shape != self.values.shape:
            raise ValueError(
                f"Interpolated.times has {self.times.shape[0]} samples but values has "
                f"{self.values.shape[0]}"
            )
        if self.times.shape[0] < 2:
            raise ValueError("Interpolated needs at least 2 samples")
        if is_concrete(self.times) and np.any(np.diff(np.asarray(self.times)) <= 0):
            raise ValueError("Interpolated.times (ms) must be strictly increasing")
        check_finite("Interpolated.values", self.values, "µA/cm²")

    @classmethod
    def from_samples(cls, values, dt_ms: float, t0_ms: float = 0.0) -> Interpolated:
        """Samples taken every ``dt_ms`` ms starting at ``t0_ms``."""
        check_positive("dt_ms (sampling interval)", dt_ms, "ms")
        values = jnp.asarray(values)
        times = t0_ms + dt_ms * jnp.arange(values.shape[-1], dtype=values.dtype)
        return cls(times=times, values=values)

    def __call__(self, t):
        return jnp.interp(t, self.times, self.values)


def as_stimulus(stimulus) -> AbstractStimulus:
    """None → no current; a number → `Constant`; a callable → `TimeVaryingFunction`."""
    if stimulus is None:
        return Constant(0.0)
    if isinstance(stimulus, AbstractStimulus):
        return stimulus
    if callable(stimulus):
        return TimeVaryingFunction(stimulus)
    try:
        return Constant(stimulus)
    except TypeError as err:
        raise TypeError(
            f"stimulus must be an AbstractStimulus, a number (µA/cm²) or a function of t "
            f"(ms), got {type(stimulus).__name__}"
        ) from err
