"""Exact features of a sampled voltage trace (NumPy, eager): spikes, bursts, classes."""

from __future__ import annotations

import numpy as np

from .._numerics import crossing_fraction


def spike_times(ts, V, threshold: float = 0.0) -> np.ndarray:
    """Times (ms) at which V crosses ``threshold`` (mV) upwards, linearly interpolated
    between samples.

    >>> import numpy as np
    >>> t = np.arange(0.0, 10.0, 1.0)
    >>> spike_times(t, np.array([-1, 1, -1, -1, 1, 1, -1, 0, 2, -1.0]))
    array([0.5, 3.5, 7. ])
    """
    ts = np.asarray(ts, dtype=float)
    V = np.asarray(V, dtype=float)
    if ts.shape != V.shape or ts.ndim != 1:
        raise ValueError(f"ts and V must be 1-D of equal length, got {ts.shape} and {V.shape}")
    below = V[:-1] < threshold
    above = V[1:] >= threshold
    idx = np.nonzero(below & above)[0]
    return ts[idx] + crossing_fraction(V[idx], V[idx + 1], threshold) * (ts[idx + 1] - ts[idx])


def spike_peaks(ts, V, level: float = 0.0, refractory: float = 1.0):
    """Times (ms) and values (mV) of local maxima of V that overshoot ``level`` (mV):
    spikes defined by their peaks rather than by a threshold crossing. Maxima closer than
    ``refractory`` ms to a higher one are dropped.

    >>> import numpy as np
    >>> t = np.arange(0.0, 10.0, 1.0)
    >>> spike_peaks(t, np.array([-60, 10, 20, -60, -60, 5, -60, -5, -60, -60.0]))
    (array([2., 5.]), array([20.,  5.]))
    """
    ts = np.asarray(ts, dtype=float)
    V = np.asarray(V, dtype=float)
    interior = (V[1:-1] > V[:-2]) & (V[1:-1] >= V[2:]) & (V[1:-1] > level)
    idx = np.nonzero(interior)[0] + 1
    keep = []
    for i in idx[np.argsort(-V[idx])]:  # highest first
        if all(abs(ts[i] - ts[j]) >= refractory for j in keep):
            keep.append(i)
    keep = np.sort(np.asarray(keep, dtype=int))
    return ts[keep], V[keep]


def prominent_spike_times(ts, V, prominence: float = 5.0, window: float = 10.0) -> np.ndarray:
    """Times (ms) of the spikes defined by their shape rather than by a fixed threshold:
    local maxima of V that rise at least ``prominence`` mV above the lowest V on *both*
    sides within ``window``/2 ms. Spikes that ride on a plateau and peak below 0 mV (as in
    the bursts of Liu et al. 1998, Fig. 3) count; a slow wave without spikes, flat on the
    scale of ``window``, does not. Pass the result to `classify` or `burst_metrics`
    (``spikes=``).

    >>> import numpy as np
    >>> t = np.arange(0.0, 100.0, 0.5)
    >>> bumps = -30.0 + 15.0 * np.exp(-(((t % 20.0) - 10.0) ** 2))     # peaks at -15 mV
    >>> prominent_spike_times(t, bumps)
    array([10., 30., 50., 70., 90.])
    >>> spike_times(t, bumps).size                                      # none cross 0 mV
    0
    """
    ts = np.asarray(ts, dtype=float)
    V = np.asarray(V, dtype=float)
    if ts.shape != V.shape or ts.ndim != 1:
        raise ValueError(f"ts and V must be 1-D of equal length, got {ts.shape} and {V.shape}")
    if V.size < 3:
        return ts[:0]
    half = max(1, int(round(0.5 * window / float(np.median(np.diff(ts))))))
    idx = np.nonzero((V[1:-1] > V[:-2]) & (V[1:-1] >= V[2:]))[0] + 1
    left = np.array([V[max(0, i - half) : i + 1].min() for i in idx])
    right = np.array([V[i : i + half + 1].min() for i in idx])
    keep = idx[V[idx] - np.maximum(left, right) >= prominence] if idx.size else idx
    return ts[keep]


def firing_rate(ts, V, threshold: float = 0.0, start: float | None = None) -> float:
    """Steady firing rate in Hz: 1000 / mean inter-spike interval (ms) of the spikes after
    ``start`` ms; 0 with fewer than two spikes.

    >>> import numpy as np
    >>> t = np.arange(0.0, 100.0, 0.5)
    >>> float(firing_rate(t, np.sin(2 * np.pi * t / 10.0)))   # period 10 ms
    100.0
    """
    spikes = spike_times(ts, V, threshold)
    if start is not None:
        spikes = spikes[spikes >= start]
    if spikes.size < 2:
        return 0.0
    return 1000.0 / float(np.mean(np.diff(spikes)))


def bursts(spikes, gap: float | None = None, regularity: float = 0.1):
    """Group spike times (ms) into bursts: (onset, offset, spike count) for each burst.

    A new burst starts after an inter-spike interval longer than ``gap`` ms. By default
    (``gap`` None) the gap is the geometric mean of the shortest and the longest interval
    when the intervals are irregular (coefficient of variation ≥ ``regularity``); a
    regular spike train is not bursting and has no bursts (an empty list).

    >>> bursts([0.0, 10.0, 20.0, 500.0, 510.0, 1000.0, 1010.0])
    [(0.0, 20.0, 3), (500.0, 510.0, 2), (1000.0, 1010.0, 2)]
    >>> bursts([0.0, 10.0, 20.0, 30.0])      # regular: no bursts
    []
    """
    spikes = np.asarray(spikes, dtype=float)
    if spikes.size == 0:
        return []
    isi = np.diff(spikes)
    if gap is None:
        if isi.size == 0 or np.std(isi) < regularity * np.mean(isi):
            return []
        gap = float(np.sqrt(isi.min() * isi.max()))
    starts = np.concatenate([[0], np.nonzero(isi > gap)[0] + 1])
    ends = np.concatenate([starts[1:] - 1, [spikes.size - 1]])
    return [
        (float(spikes[a]), float(spikes[b]), int(b - a + 1))
        for a, b in zip(starts, ends, strict=True)
    ]


def burst_metrics(
    ts, V, threshold: float = 0.0, start: float = 0.0, gap: float | None = None, *, spikes=None
) -> dict[str, float]:
    """Burst features of the trace after ``start`` ms.

    Returns ``period`` (mean interval between consecutive burst onsets, ms), ``duration``
    (first to last spike of a burst, ms), ``duty_cycle`` (duration / period),
    ``interburst_interval`` (period − duration, ms), ``spikes_per_burst``, ``n_bursts``
    (complete bursts used) and ``slow_wave_amplitude`` (mV, see `slow_wave_amplitude`).
    The first and last bursts are dropped (the window may cut them). Burst values are NaN
    when fewer than three complete bursts of at least two spikes remain. Spikes are the
    upward crossings of ``threshold``, or the spike times ``spikes`` (ms) when given.

    >>> import numpy as np
    >>> t = np.arange(0.0, 5000.0, 0.1)
    >>> phase = t % 1000.0                      # 1-s cycle: 5 spikes 20 ms apart at its start
    >>> V = np.where((phase < 100) & (phase % 20 < 1), 30.0, -60.0)
    >>> m = burst_metrics(t, V)
    >>> round(m["period"], 3), round(m["duty_cycle"], 3), m["spikes_per_burst"]
    (1000.0, 0.08, 5.0)
    """
    ts = np.asarray(ts, dtype=float)
    V = np.asarray(V, dtype=float)
    spikes = spike_times(ts, V, threshold) if spikes is None else np.asarray(spikes, float)
    spikes = spikes[spikes >= start]
    groups = bursts(spikes, gap)[1:-1]
    nan = float("nan")
    window = ts >= start
    out = {
        "slow_wave_amplitude": slow_wave_amplitude(ts[window], V[window], threshold),
        "n_bursts": len(groups),
    }
    if len(groups) < 3 or max(g[2] for g in groups) < 2:
        out.update(
            period=nan,
            duration=nan,
            duty_cycle=nan,
            interburst_interval=nan,
            spikes_per_burst=nan,
        )
        return out
    onsets = np.array([g[0] for g in groups])
    durations = np.array([g[1] - g[0] for g in groups])
    period = float(np.mean(np.diff(onsets)))
    out.update(
        period=period,
        duration=float(np.mean(durations)),
        duty_cycle=float(np.mean(durations) / period),
        interburst_interval=float(period - np.mean(durations)),
        spikes_per_burst=float(np.mean([g[2] for g in groups])),
    )
    return out


def slow_wave_amplitude(ts, V, threshold: float = 0.0, smoothing_ms: float = 20.0) -> float:
    """Peak-to-trough amplitude (mV) of the slow wave under the spikes: V clipped at the
    spike ``threshold``, then averaged over a sliding ``smoothing_ms`` window."""
    ts = np.asarray(ts, dtype=float)
    if ts.size < 2:
        return float("nan")
    dt = float(np.median(np.diff(ts)))
    width = max(1, int(round(smoothing_ms / dt)))
    clipped = np.minimum(np.asarray(V, dtype=float), threshold)
    if clipped.size <= width:
        return float(np.ptp(clipped))
    smooth = np.convolve(clipped, np.ones(width) / width, mode="valid")
    return float(np.ptp(smooth))


def isi_statistics(ts, V, threshold: float = 0.0, start: float = 0.0) -> dict[str, float]:
    """Inter-spike intervals after ``start``: mean (ms), coefficient of variation, min and
    max (ms) and the spike count; NaN where undefined.

    >>> import numpy as np
    >>> t = np.arange(0.0, 100.0, 0.5)
    >>> isi_statistics(t, np.sin(2 * np.pi * t / 10.0))["mean"]
    10.0
    """
    spikes = spike_times(ts, V, threshold)
    spikes = spikes[spikes >= start]
    isi = np.diff(spikes)
    if isi.size == 0:
        nan = float("nan")
        return {"mean": nan, "cv": nan, "min": nan, "max": nan, "n_spikes": int(spikes.size)}
    return {
        "mean": float(np.mean(isi)),
        "cv": float(np.std(isi) / np.mean(isi)),
        "min": float(np.min(isi)),
        "max": float(np.max(isi)),
        "n_spikes": int(spikes.size),
    }


#: The activity classes of `classify`, the streaming features and sweeps, in this order.
ACTIVITY_CLASSES = ("silent", "tonic", "bursting", "irregular")

#: The inter-spike interval (ms) that splits bursts by default, in `classify`, the
#: streaming features and sweeps alike (so that one trace gets one class everywhere).
BURST_GAP_MS = 100.0


def classify(
    ts,
    V,
    threshold: float = 0.0,
    start: float = 0.0,
    regularity: float = 0.1,
    gap: float | None = BURST_GAP_MS,
    *,
    spikes=None,
) -> str:
    """Activity class of a trace after ``start`` ms, in the spirit of Prinz et al. (2003).

    - ``silent``: fewer than 3 spikes;
    - ``tonic``: inter-spike intervals with coefficient of variation < ``regularity``;
    - ``bursting``: at least 3 complete bursts of ≥ 2 spikes whose periods vary by less
      than ``regularity`` (coefficient of variation) and whose spike counts vary by at
      most one spike;
    - ``irregular``: anything else.

    Bursts are split as in `bursts`, at ISIs longer than ``gap`` ms (default
    `BURST_GAP_MS`, as sweeps and `StreamingFeatures`: with the same gap this is the class
    they compute online), or adaptively when ``gap`` is None.

    Spikes are the upward crossings of ``threshold``, or the spike times ``spikes`` (ms)
    when given (for instance `prominent_spike_times`, for spikes that peak below 0 mV).

    >>> import numpy as np
    >>> t = np.arange(0.0, 1000.0, 0.1)
    >>> classify(t, -60.0 + 0 * t), classify(t, 40 * np.sin(2 * np.pi * t / 50.0))
    ('silent', 'tonic')
    """
    spikes = spike_times(ts, V, threshold) if spikes is None else np.asarray(spikes, float)
    spikes = spikes[spikes >= start]
    if spikes.size < 3:
        return "silent"
    isi = np.diff(spikes)
    if np.std(isi) < regularity * np.mean(isi):
        return "tonic"
    groups = bursts(spikes, gap=gap, regularity=regularity)[1:-1]
    if len(groups) >= 3 and min(g[2] for g in groups) >= 2:
        onsets = np.array([g[0] for g in groups])
        periods = np.diff(onsets)
        counts = np.array([g[2] for g in groups])
        if np.std(periods) < regularity * np.mean(periods) and np.ptp(counts) <= 1:
            return "bursting"
    return "irregular"
