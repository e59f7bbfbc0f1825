"""Spike analysis of sampled voltage traces (NumPy; eager)."""

from __future__ import annotations

import numpy as np


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
    frac = (threshold - V[idx]) / (V[idx + 1] - V[idx])
    return ts[idx] + frac * (ts[idx + 1] - ts[idx])


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

    A new burst starts after an inter-spike interval longer than ``gap`` ms. By default,
    when the intervals are irregular (coefficient of variation ≥ ``regularity``) the gap
    is the geometric mean of the shortest and the longest interval; regular spiking is
    not bursty, and each spike is then its own "burst".

    >>> bursts([0.0, 10.0, 20.0, 500.0, 510.0, 1000.0, 1010.0])
    [(0.0, 20.0, 3), (500.0, 510.0, 2), (1000.0, 1010.0, 2)]
    """
    spikes = np.asarray(spikes, dtype=float)
    if spikes.size == 0:
        return []
    isi = np.diff(spikes)
    if gap is None:
        if isi.size == 0 or np.std(isi) < regularity * np.mean(isi):
            return [(float(s), float(s), 1) for s in spikes]
        gap = float(np.sqrt(isi.min() * isi.max()))
    starts = np.concatenate([[0], np.nonzero(isi > gap)[0] + 1])
    ends = np.concatenate([starts[1:] - 1, [spikes.size - 1]])
    return [
        (float(spikes[a]), float(spikes[b]), int(b - a + 1))
        for a, b in zip(starts, ends, strict=True)
    ]


def burst_metrics(ts, V, threshold: float = 0.0, start: float = 0.0, gap: float | None = None):
    """Burst period (ms), duration (ms), duty cycle, spikes per burst and the number of
    complete bursts in the trace after ``start`` ms.

    The first and last bursts are dropped (they may be cut by the window edges); the
    period is the mean interval between consecutive burst onsets. Values are NaN when
    fewer than three complete bursts remain.
    """
    spikes = spike_times(ts, V, threshold)
    spikes = spikes[spikes >= start]
    groups = bursts(spikes, gap)[1:-1]
    nan = float("nan")
    if len(groups) < 3 or max(g[2] for g in groups) < 2:
        return {
            "period": nan,
            "duration": nan,
            "duty_cycle": nan,
            "spikes_per_burst": nan,
            "n_bursts": len(groups),
        }
    onsets = np.array([g[0] for g in groups])
    durations = np.array([g[1] - g[0] for g in groups])
    period = float(np.mean(np.diff(onsets)))
    return {
        "period": period,
        "duration": float(np.mean(durations)),
        "duty_cycle": float(np.mean(durations) / period),
        "spikes_per_burst": float(np.mean([g[2] for g in groups])),
        "n_bursts": len(groups),
    }


ACTIVITY_CLASSES = ("silent", "tonic", "bursting", "irregular")


def classify(ts, V, threshold: float = 0.0, start: float = 0.0, regularity: float = 0.1) -> str:
    """Activity class of a trace after ``start`` ms, in the spirit of Prinz et al. (2003).

    - ``silent``: fewer than 3 spikes;
    - ``tonic``: inter-spike intervals with coefficient of variation < ``regularity``;
    - ``bursting``: at least 3 complete bursts of ≥ 2 spikes whose periods vary by less
      than ``regularity`` (coefficient of variation) and whose spike counts vary by at
      most one spike;
    - ``irregular``: anything else.

    >>> import numpy as np
    >>> t = np.arange(0.0, 1000.0, 0.1)
    >>> classify(t, -60.0 + 0 * t), classify(t, 40 * np.sin(2 * np.pi * t / 50.0))
    ('silent', 'tonic')
    """
    spikes = spike_times(ts, V, threshold)
    spikes = spikes[spikes >= start]
    if spikes.size < 3:
        return "silent"
    isi = np.diff(spikes)
    if np.std(isi) < regularity * np.mean(isi):
        return "tonic"
    groups = bursts(spikes, regularity=regularity)[1:-1]
    if len(groups) >= 3 and min(g[2] for g in groups) >= 2:
        onsets = np.array([g[0] for g in groups])
        periods = np.diff(onsets)
        counts = np.array([g[2] for g in groups])
        if np.std(periods) < regularity * np.mean(periods) and np.ptp(counts) <= 1:
            return "bursting"
    return "irregular"
