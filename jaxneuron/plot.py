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


def save(fig_or_ax, path, *, dpi: int = 120) -> str:
    """Save a figure (or an axes' figure) to ``path`` at ``dpi`` dots per inch and close
    it; returns the path."""
    plt = _pyplot()
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return str(path)


def plot_traces(ts, traces: dict, axes=None, *, colors=None):
    """Several cells' voltage traces (mV) in stacked panels sharing the time axis (ms).

    ``traces`` maps a name to a 1-D trace sampled at ``ts``."""
    plt = _pyplot()
    names = list(traces)
    if axes is None:
        _, axes = plt.subplots(len(names), 1, figsize=(9, 1.6 * len(names) + 0.6), sharex=True)
    axes = np.atleast_1d(axes)
    ts = np.asarray(ts)
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        color = None if colors is None else colors[i]
        ax.plot(ts, np.asarray(traces[name]), lw=0.7, color=color or f"C{i}")
        ax.set_ylabel(f"{name}\n(mV)")
    axes[-1].set_xlabel("time (ms)")
    return axes


def plot_raster(spike_trains, ax=None, *, labels=None, color="k"):
    """Spike raster: one row per train of spike times (ms)."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.25 * len(spike_trains) + 1.0))
    ax.eventplot([np.asarray(s) for s in spike_trains], colors=color, linelengths=0.8)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    if labels is not None:
        ax.set_yticks(range(len(labels)), labels)
    return ax


def plot_bursts(ts, V, ax=None, *, threshold: float = 0.0, start: float = 0.0, gap=None):
    """A voltage trace with its bursts shaded and the burst metrics annotated."""
    from .analysis import burst_metrics, bursts, spike_times

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3))
    ts, V = np.asarray(ts), np.asarray(V)
    ax.plot(ts, V, lw=0.7)
    spikes = spike_times(ts, V, threshold)
    for k, (onset, offset, _) in enumerate(bursts(spikes[spikes >= start], gap)):
        ax.axvspan(onset, offset, color="C1", alpha=0.25, lw=0, label="burst" if k == 0 else None)
    m = burst_metrics(ts, V, threshold, start, gap)
    if np.isfinite(m["period"]):
        ax.set_title(
            f"period {m['period']:.0f} ms · duty cycle {m['duty_cycle']:.2f} · "
            f"{m['spikes_per_burst']:.1f} spikes/burst · slow wave "
            f"{m['slow_wave_amplitude']:.0f} mV",
            fontsize=9,
        )
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V (mV)")
    return ax


def plot_phases(phases: dict, ax=None, *, order=None):
    """Phase diagram of a rhythm: one bar per cell from its burst onset to offset phase
    (output of `jaxneuron.analysis.burst_phases`), over two cycles."""
    plt = _pyplot()
    names = list(order or phases)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.6 * len(names) + 1.0))
    for row, name in enumerate(reversed(names)):
        on, off = phases[name]["onset"], phases[name]["offset"]
        if not np.isfinite(on):
            continue
        width = (off - on) % 1.0
        color = f"C{names.index(name)}"
        for cycle in (-1, 0, 1):  # −1: a burst that wraps past the cycle end shows at 0
            ax.broken_barh([(cycle + on, width)], (row - 0.35, 0.7), color=color)
    ax.set_yticks(range(len(names)), list(reversed(names)))
    ax.set_xlim(0, 2)
    ax.set_xlabel("phase (cycles)")
    ax.axvline(1.0, color="0.6", lw=0.8, ls="--")
    return ax


def plot_sweep_slice(x, y, values, ax=None, *, xlabel="", ylabel="", label="", categories=None):
    """A 2-D slice of a sweep: ``values`` (shape len(y) × len(x)) over the grid ``x``, ``y``.
    With ``categories`` (e.g. activity classes), ``values`` holds indices into it and the
    map is drawn with a categorical legend."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    values = np.asarray(values)
    if categories is None:
        mesh = ax.pcolormesh(np.asarray(x), np.asarray(y), values, shading="nearest")
        plt.colorbar(mesh, ax=ax, label=label)
    else:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        cmap = ListedColormap([f"C{i}" for i in range(len(categories))])
        ax.pcolormesh(
            np.asarray(x),
            np.asarray(y),
            values,
            shading="nearest",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(categories) - 0.5,
        )
        handles = [Patch(color=f"C{i}", label=c) for i, c in enumerate(categories)]
        ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_currentscape(model, solution, axes=None, *, t_range=None):
    """Currentscape (after Alonso & Marder 2019): the membrane potential above, and below
    the share of each ionic current in the total outward (top half) and inward (bottom
    half) current over time."""
    import jax

    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(
            2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
        )
    ts = np.asarray(solution.ts)
    keep = slice(None) if t_range is None else (ts >= t_range[0]) & (ts <= t_range[1])
    currents = jax.vmap(model.ionic_currents)(solution.ys)
    names = [n for n in model.channel_names if n in currents]
    I = np.stack([np.asarray(currents[n]) for n in names])[:, keep]
    ts = ts[keep]
    outward = np.clip(I, 0, None)
    inward = np.clip(-I, 0, None)
    share_out = outward / np.maximum(outward.sum(axis=0), 1e-12)
    share_in = inward / np.maximum(inward.sum(axis=0), 1e-12)
    axes[0].plot(ts, np.asarray(solution.V)[keep], "k", lw=0.7)
    axes[0].set_ylabel("V (mV)")
    colors = [f"C{i}" for i in range(len(names))]
    axes[1].stackplot(ts, share_out, colors=colors, labels=names)
    axes[1].stackplot(ts, -share_in, colors=colors)
    axes[1].axhline(0.0, color="k", lw=0.6)
    axes[1].set_ylim(-1, 1)
    axes[1].set_yticks([-1, -0.5, 0, 0.5, 1], ["100%", "inward", "0", "outward", "100%"])
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, framealpha=0.8)
    axes[1].set_xlabel("time (ms)")
    return axes


def plot_cells(ts, traces: dict, axes=None, *, columns: int = 4, titles=None):
    """Many cells' voltage traces (mV), one small panel each on a grid of ``columns``
    columns, sharing both axes; time in seconds (``ts`` in ms).

    ``traces`` maps a name to a 1-D trace sampled at ``ts``; ``titles`` (optional) maps a
    name to its panel's title (default: the name).

    >>> import numpy as np
    >>> ts = np.linspace(0.0, 1000.0, 101)
    >>> axes = plot_cells(ts, {"a": np.sin(ts), "b": np.cos(ts)}, columns=2)
    """
    plt = _pyplot()
    names = list(traces)
    rows = -(-len(names) // columns)
    if axes is None:
        _, axes = plt.subplots(
            rows, columns, figsize=(3 * columns, 1.7 * rows + 0.3), sharex=True, sharey=True
        )
    axes = np.atleast_1d(axes).reshape(rows, columns)
    ts = np.asarray(ts)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.plot(ts / 1000.0, np.asarray(traces[name]), lw=0.5)
        ax.set_title((titles or {}).get(name, name), fontsize=9)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("V (mV)")
    return axes


def plot_fit(ts, recording, traces: dict, loss_history=None, axes=None):
    """A fit before and after: the recording (grey) with model traces over it (``traces``
    maps a label such as ``"start"`` or ``"fit"`` to a trace at ``ts``, in mV, ms), and,
    with ``loss_history``, the loss against the optimiser's step in a second panel.

    >>> import numpy as np
    >>> ts = np.linspace(0.0, 10.0, 11)
    >>> axes = plot_fit(ts, np.sin(ts), {"fit": np.sin(ts)}, loss_history=[1.0, 0.1])
    """
    plt = _pyplot()
    panels = 1 if loss_history is None else 2
    if axes is None:
        _, axes = plt.subplots(
            1, panels, figsize=(4.5 + 4 * panels, 3), width_ratios=[2.5, 1][:panels]
        )
    axes = np.atleast_1d(axes)
    ts = np.asarray(ts)
    axes[0].plot(ts, np.asarray(recording), lw=0.6, color="0.6", label="recording")
    for name, trace in traces.items():
        axes[0].plot(ts, np.asarray(trace), lw=1.0, label=name)
    axes[0].set_xlabel("time (ms)")
    axes[0].set_ylabel("V (mV)")
    axes[0].legend(fontsize=8, loc="upper right")
    if loss_history is not None:
        axes[1].semilogy(np.asarray(loss_history))
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("loss")
    return axes


def plot_level_shares(groups: dict, levels, ax=None, *, title: str = "", colors=None):
    """For a parameter that takes a few discrete ``levels`` (a synapse strength in a
    database, a model cell), the share of each level within each group of models: one bar
    per level and group. ``groups`` maps a label (``"all"``, ``"pyloric"``) to the values
    the parameter takes in that group; ``colors`` (optional) gives one colour per group.

    >>> ax = plot_level_shares({"all": [0, 1, 1, 3], "kept": [1, 3]}, [0, 1, 3])
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    width = 0.8 / len(groups)
    for k, (label, values) in enumerate(groups.items()):
        values = np.asarray(values)
        share = np.array([(values == v).sum() for v in levels]) / max(values.size, 1)
        offset = (k - (len(groups) - 1) / 2) * width
        color = None if colors is None else colors[k]
        ax.bar(np.arange(len(levels)) + offset, share, width, label=label, color=color)
    ax.set_xticks(np.arange(len(levels)), [f"{v:g}" for v in levels])
    ax.set_title(title, fontsize=10)
    return ax
