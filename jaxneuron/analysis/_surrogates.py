r"""Differentiable surrogates of trace features, for losses.

Exact spike counts and burst periods are piecewise constant in the parameters; their
gradients are zero or undefined. These smooth versions trade exactness for useful
gradients. Each takes a sampled trace (jnp arrays) and a sharpness or temperature that
sets how closely it follows the exact feature.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def soft_spike_count(V, threshold: float = 0.0, sharpness: float = 1.0):
    r"""A smooth count of up-crossings of θ (mV): the total upward variation of
    s(V) = σ(k(V − θ)) along the trace, Σᵢ max(s(Vᵢ₊₁) − s(Vᵢ), 0), k = ``sharpness``
    (1/mV). Each spike raises s from ≈0 to ≈1 once, however finely it is sampled, so the
    count tends to the exact one as k grows; the gradient flows through the spike peaks
    and troughs that approach θ.

    >>> import jax.numpy as jnp
    >>> V = jnp.asarray([-60.0, -30.0, 0.0, 30.0, -60.0, -60.0, 30.0, -60.0])
    >>> round(float(soft_spike_count(V, sharpness=1.0)), 3)
    2.0
    """
    s = jax.nn.sigmoid(sharpness * (jnp.asarray(V) - threshold))
    return jnp.sum(jnp.maximum(jnp.diff(s, axis=-1), 0.0), axis=-1)


def soft_firing_rate(ts, V, threshold: float = 0.0, sharpness: float = 1.0):
    """`soft_spike_count` divided by the duration, in Hz (ts in ms)."""
    ts = jnp.asarray(ts)
    return soft_spike_count(V, threshold, sharpness) * 1000.0 / (ts[..., -1] - ts[..., 0])


def smooth_frequency(ts, V, band_hz=(0.1, 100.0), temperature: float = 0.05):
    r"""A smooth dominant frequency (Hz) of V: the power-weighted mean frequency with
    weights softmax(log P(f) / T) over the band, P the periodogram of the mean-removed
    trace. Small T approaches the arg-max of the spectrum. Sampling must be uniform.

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(0.0, 4000.0, 1.0)
    >>> round(float(smooth_frequency(t, jnp.sin(2 * jnp.pi * t / 500.0), temperature=0.01)), 2)
    2.0
    """
    ts, V = jnp.asarray(ts), jnp.asarray(V)
    dt_s = (ts[1] - ts[0]) / 1000.0
    x = V - jnp.mean(V, axis=-1, keepdims=True)
    power = jnp.abs(jnp.fft.rfft(x, axis=-1)) ** 2
    freqs = jnp.fft.rfftfreq(V.shape[-1], d=dt_s)
    in_band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    logits = jnp.where(in_band, jnp.log(power + 1e-30) / temperature, -jnp.inf)
    weights = jax.nn.softmax(logits, axis=-1)
    return jnp.sum(weights * freqs, axis=-1)


def smooth_period(ts, V, band_hz=(0.1, 100.0), temperature: float = 0.05):
    """1000 / `smooth_frequency`, in ms."""
    return 1000.0 / smooth_frequency(ts, V, band_hz, temperature)


def moving_average(V, width: int):
    """Running mean over ``width`` samples (same length; edges averaged over fewer)."""
    V = jnp.asarray(V)
    kernel = jnp.ones(width) / width
    total = jnp.convolve(V, kernel, mode="same")
    norm = jnp.convolve(jnp.ones_like(V), kernel, mode="same")
    return total / norm


def soft_duty_cycle(V, threshold: float = -50.0, sharpness: float = 0.5, smoothing: int = 1):
    r"""The fraction of time the (optionally smoothed) potential is above ``threshold``
    (mV), as mean σ(k(V̄ − θ)): for bursters, θ between trough and plateau of the slow
    wave gives a smooth duty cycle. ``smoothing`` is a moving-average width in samples."""
    V = jnp.asarray(V)
    if smoothing > 1:
        V = moving_average(V, smoothing)
    return jnp.mean(jax.nn.sigmoid(sharpness * (V - threshold)), axis=-1)


def voltage_histogram(V, edges, bandwidth: float = 1.0):
    r"""A smoothed, normalised histogram of V over bins with the given ``edges`` (mV):
    each sample spreads a Gaussian of width ``bandwidth`` (mV), integrated over each bin.
    Differentiable; compare two with an L2 or Wasserstein-like loss.

    >>> import jax.numpy as jnp
    >>> h = voltage_histogram(jnp.asarray([-65.0, -65.0, -20.0]), jnp.asarray([-80.0, -40.0, 0.0]))
    >>> [round(float(x), 3) for x in h]
    [0.667, 0.333]
    """
    V = jnp.asarray(V)[..., :, None]
    edges = jnp.asarray(edges)
    cdf = jax.scipy.stats.norm.cdf((edges - V) / bandwidth)
    mass = jnp.mean(cdf[..., 1:] - cdf[..., :-1], axis=-2)
    return mass / jnp.sum(mass, axis=-1, keepdims=True)
