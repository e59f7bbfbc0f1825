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


def _lagged_correlation(x, y, max_lag: int):
    r"""c[k] = Σᵢ xᵢ yᵢ₊ₖ / (n − k) for k = 0 … max_lag (unbiased), via one FFT product."""
    n = x.shape[-1]
    size = 1 << (2 * n - 1).bit_length()  # zero padding: no circular wrap-around
    spectrum = jnp.conj(jnp.fft.rfft(x, size, axis=-1)) * jnp.fft.rfft(y, size, axis=-1)
    c = jnp.fft.irfft(spectrum, size, axis=-1)[..., : max_lag + 1]
    return c / (n - jnp.arange(max_lag + 1, dtype=c.dtype))


def smooth_burst_period(ts, V, period_range=(100.0, 5000.0), temperature: float = 0.02):
    r"""A smooth period (ms) of V from its autocorrelation: the soft arg-max
    Σₖ wₖ τₖ, wₖ = softmax(ρ(τₖ)/T), over the lags τₖ in ``period_range`` (ms), ρ the
    (unbiased) autocorrelation of the mean-removed trace normalised by its variance.

    Unlike `smooth_period` it resolves the period to a fraction of the sampling interval
    even when the window holds only two or three cycles (an FFT's frequency grid is
    1/window). Choose ``period_range`` to exclude the zero-lag peak and 2× the period,
    and the window (a uniformly sampled trace) at least twice the longest period.
    ``temperature`` T (in units of correlation) sets the smoothness.

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(0.0, 3000.0, 1.0)
    >>> V = jnp.sin(2 * jnp.pi * t / 700.0) ** 9     # a peaked wave of period 700 ms
    >>> abs(float(smooth_burst_period(t, V, (300.0, 1200.0), temperature=0.005)) - 700.0) < 2.0
    True
    """
    ts, V = jnp.asarray(ts), jnp.asarray(V)
    dt = ts[1] - ts[0]
    # every lag (the FFT gives them all); those outside period_range get no weight
    max_lag = V.shape[-1] - 1
    x = V - jnp.mean(V, axis=-1, keepdims=True)
    c = _lagged_correlation(x, x, max_lag)
    rho = c / c[..., :1]
    lags = jnp.arange(max_lag + 1, dtype=V.dtype) * dt
    in_range = (lags >= period_range[0]) & (lags <= period_range[1])
    weights = jax.nn.softmax(jnp.where(in_range, rho / temperature, -jnp.inf), axis=-1)
    return jnp.sum(weights * lags, axis=-1)


def smooth_phase_lag(ts, V_reference, V, period, temperature: float = 0.02):
    r"""A smooth phase (in [0, 1)) by which V lags ``V_reference`` in a rhythm of the
    given ``period`` (ms): the circular soft arg-max of their cross-correlation,

        φ = arg(Σₖ wₖ exp(2πi τₖ/P)) / 2π mod 1,   wₖ = softmax(ρₖ/T),

    ρₖ the normalised cross-correlation at lag τₖ ≥ 0 (V(t + τₖ) against V_ref(t)) over
    the first half of the window. Circular, so a lag near 0 or near P averages correctly;
    lags past P land on the same point of the circle. It measures the lag of the whole
    waveform (≈ of the burst centres), not of the burst onsets as `burst_phases` does.

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(0.0, 4000.0, 1.0)
    >>> ref = jnp.sin(2 * jnp.pi * t / 800.0) ** 9
    >>> late = jnp.sin(2 * jnp.pi * (t - 200.0) / 800.0) ** 9      # lags by 1/4 cycle
    >>> round(float(smooth_phase_lag(t, ref, late, 800.0, temperature=0.005)), 3)
    0.25
    """
    ts, V_reference, V = jnp.asarray(ts), jnp.asarray(V_reference), jnp.asarray(V)
    dt = ts[1] - ts[0]
    max_lag = V.shape[-1] // 2
    x = V_reference - jnp.mean(V_reference, axis=-1, keepdims=True)
    y = V - jnp.mean(V, axis=-1, keepdims=True)
    c = _lagged_correlation(x, y, max_lag)
    norm = jnp.sqrt(
        jnp.mean(x * x, axis=-1, keepdims=True) * jnp.mean(y * y, axis=-1, keepdims=True)
    )
    weights = jax.nn.softmax(c / norm / temperature, axis=-1)
    angle = (
        2 * jnp.pi * jnp.arange(max_lag + 1, dtype=V.dtype) * dt / jnp.asarray(period)[..., None]
    )
    z = jnp.sum(weights * jnp.exp(1j * angle), axis=-1)
    return jnp.mod(jnp.angle(z) / (2 * jnp.pi), 1.0)


def soft_burst_edges(
    V,
    dt: float,
    gap_ms: float = 200.0,
    threshold: float = 0.0,
    sharpness: float = 1.0,
    suppression: float = 10.0,
    refractory_ms: float = 3.0,
):
    r"""Smooth burst onset and offset densities of a trace sampled every ``dt`` ms: the
    soft spike events uᵢ = max(s(Vᵢ₊₁) − s(Vᵢ), 0), s = σ(k(V − θ)) (as in
    `soft_spike_count`: each spike contributes ≈ 1 in total, on its rising edge), weighted
    by how spike-free the ``gap_ms`` before (after) them is:

        onsetᵢ  = uᵢ · exp(−c · Σ_{j ∈ [i−G, i−R)} uⱼ),
        offsetᵢ = uᵢ · exp(−c · Σ_{j ∈ (i+R, i+G]} uⱼ),

    G = gap_ms/dt, R = ``refractory_ms``/dt (the spike's own rising edge is not counted),
    c = ``suppression``. The first spike of a burst (no spike in the preceding gap) keeps
    its weight ≈ 1, later ones get ≈ e^{−c}: the smooth counterpart of the burst onsets of
    `jaxneuron.analysis.bursts` (spikes at the up-crossings of θ, bursts split at gaps
    longer than ``gap_ms``), and likewise for the offsets (last spikes). Each density has
    length n − 1 (sample midpoints); the weights move continuously with the spike times.

    >>> import jax.numpy as jnp
    >>> V = jnp.full(1000, -60.0).at[jnp.asarray([100, 110, 120, 600, 610])].set(30.0)
    >>> on, off = soft_burst_edges(V, dt=1.0, gap_ms=100.0)
    >>> [int(i) for i in jnp.nonzero(on > 0.5)[0]], [int(i) for i in jnp.nonzero(off > 0.5)[0]]
    ([99, 599], [119, 609])
    """
    V = jnp.asarray(V)
    s = jax.nn.sigmoid(sharpness * (V - threshold))
    u = jnp.maximum(jnp.diff(s, axis=-1), 0.0)
    n = u.shape[-1]
    gap, refractory = max(1, round(gap_ms / dt)), max(1, round(refractory_ms / dt))
    # C[m] = Σ_{j<m} u_j, so a window sum Σ_{j ∈ [a, b)} u_j = C[b] − C[a] (clipped ends)
    C = jnp.concatenate([jnp.zeros(u.shape[:-1] + (1,), u.dtype), jnp.cumsum(u, axis=-1)], -1)
    i = jnp.arange(n)

    def window(a, b):
        a, b = jnp.clip(a, 0, n), jnp.clip(b, 0, n)
        return C[..., b] - C[..., a]

    before = window(i - gap, i - refractory)
    after = window(i + refractory + 1, i + gap + 1)
    return u * jnp.exp(-suppression * before), u * jnp.exp(-suppression * after)


def soft_edge_phase(ts, reference_density, density, period):
    r"""The phase (in [0, 1)) of the events in ``density`` (e.g. a cell's burst onsets from
    `soft_burst_edges`) in the cycle that starts at the events of ``reference_density``
    (e.g. the reference cell's burst onsets), for a rhythm of the given ``period`` (ms):

        zₓ = Σᵢ xᵢ exp(2πi tᵢ/P),   φ = arg(z · z̄_ref) / 2π  mod 1,

    tᵢ the sample midpoints. Each z is the circular mean of the event times modulo the
    period, so φ is the mean lag of the cell's events behind the reference's, as a
    fraction of the cycle — the smooth counterpart of `burst_phases`' onset (or offset)
    phase. The event masses, not the events, are averaged: φ moves continuously with
    every burst edge. An error ε in P changes φ by only ≈ ε·φ: both circular means turn
    alike.

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(0.0, 4000.0, 1.0)
    >>> ref = jnp.where(t[:-1] % 800.0 == 100.0, 1.0, 0.0)    # reference onsets
    >>> cell = jnp.where(t[:-1] % 800.0 == 300.0, 1.0, 0.0)   # 200 ms = 1/4 cycle later
    >>> round(float(soft_edge_phase(t, ref, cell, 800.0)), 3)
    0.25
    """
    ts = jnp.asarray(ts)
    mid = 0.5 * (ts[..., 1:] + ts[..., :-1])
    angle = 2 * jnp.pi * (mid - mid[..., :1]) / jnp.asarray(period)[..., None]
    rotor = jnp.exp(1j * angle)
    z_ref = jnp.sum(jnp.asarray(reference_density) * rotor, axis=-1)
    z = jnp.sum(jnp.asarray(density) * rotor, axis=-1)
    return jnp.mod(jnp.angle(z * jnp.conj(z_ref)) / (2 * jnp.pi), 1.0)


def soft_onset_period(ts, onset_density):
    r"""A smooth period (ms) from burst onset densities (`soft_burst_edges`): the
    weighted least-squares slope of onset time against onset index,

        P = Σᵢ wᵢ (tᵢ − t̄)(kᵢ − k̄) / Σᵢ wᵢ (kᵢ − k̄)²,   kᵢ = Σ_{j<i} wⱼ + wᵢ/2,

    w the onset density at the sample midpoints tᵢ and t̄, k̄ the w-weighted means. For
    onsets at t₀ + P·m, m = 0, 1, …, each of mass 1, kᵢ = m + 1/2 at the m-th onset and
    the slope is exactly P; it needs at least two onsets in the window.

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(0.0, 4001.0, 1.0)
    >>> onsets = jnp.where(t[:-1] % 730.0 == 100.0, 1.0, 0.0)
    >>> round(float(soft_onset_period(t, onsets)), 3)
    730.0
    """
    ts, w = jnp.asarray(ts), jnp.asarray(onset_density)
    mid = 0.5 * (ts[..., 1:] + ts[..., :-1])
    k = jnp.cumsum(w, axis=-1) - 0.5 * w
    total = jnp.sum(w, axis=-1, keepdims=True)
    t_mean = jnp.sum(w * mid, axis=-1, keepdims=True) / total
    k_mean = jnp.sum(w * k, axis=-1, keepdims=True) / total
    dk = k - k_mean
    return jnp.sum(w * (mid - t_mean) * dk, axis=-1) / jnp.sum(w * dk * dk, axis=-1)
