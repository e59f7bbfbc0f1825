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
