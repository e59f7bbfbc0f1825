"""Figures (matplotlib)."""

from __future__ import annotations

import numpy as np


def _pyplot():
    # imported lazily so that `import jaxneuron` does not pull in a GUI backend
    import matplotlib.pyplot as plt

    return plt


def plot_voltage(solution, ax=None, *, label: str | None = None, spikes=None, **kwargs):
    """Membrane potential (mV) against time (ms) of one simulated neuron.

    ``spikes``: optional spike times (ms) marked on the trace.

    >>> from jaxneuron import build_HH, simulate
    >>> ax = plot_voltage(simulate(build_HH(10.0), 50.0))
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    ts, V = np.asarray(solution.ts), np.asarray(solution.V)
    if V.ndim != 1:
        raise ValueError(f"plot_voltage takes one neuron's solution, got V of shape {V.shape}")
    ax.plot(ts, V, lw=1.0, label=label or solution.model_name, **kwargs)
    if spikes is not None and len(spikes):
        ax.plot(spikes, np.interp(spikes, ts, V), "v", ms=4, color="C3", label="spikes")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V (mV)")
    ax.set_xlim(ts[0], ts[-1])
    return ax


def plot_states(solution, names=None, axes=None):
    """Every state (or those in ``names``) in its own panel, sharing the time axis."""
    plt = _pyplot()
    names = list(solution.state_names if names is None else names)
    if axes is None:
        _, axes = plt.subplots(len(names), 1, figsize=(8, 1.6 * len(names)), sharex=True)
    axes = np.atleast_1d(axes)
    ts = np.asarray(solution.ts)
    for ax, name in zip(axes, names, strict=True):
        ax.plot(ts, np.asarray(solution[name]), lw=1.0)
        ax.set_ylabel(name + (" (mV)" if name == "V" else ""))
    axes[-1].set_xlabel("time (ms)")
    return axes


def plot_fi_curve(currents, rates, ax=None, **kwargs):
    """Firing rate (Hz) against injected current (µA/cm²)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.plot(np.asarray(currents), np.asarray(rates), "o-", ms=3, **kwargs)
    ax.set_xlabel("I (µA/cm²)")
    ax.set_ylabel("rate (Hz)")
    return ax


def save(fig_or_ax, path) -> str:
    """Save a figure (or an axes' figure) to ``path`` and close it; returns the path."""
    plt = _pyplot()
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
