"""What `simulate_populations` returns: `PopulationSolution` (spike counts, intervals,
smooth and surrogate rates, rasters, recorded states) and the observer that gathers its
spike statistics in the loop.

Per neuron the loop counts spikes and sums inter-spike intervals online, after
``start``; with a ``raster`` it also keeps the first spikes' times and neurons.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..integrate import AbstractObserver


class PopulationSolution(eqx.Module):
    """What a network's simulation returns (`simulate_populations`,
    `jaxneuron.simulate_network`), per population name: ``counts`` (spikes per
    neuron after ``start``), ``isi_sum`` and ``isi_sumsq`` (ms, ms²; intervals between
    spikes after ``start``), ``windowed`` (Σ over the spikes after ``start`` of the Hann
    window sin²(π(t_s − start)/(t1 − start)); see `smooth_rate`), ``soft_counts``
    (``counts`` as floats; with a ``surrogate``, carrying its gradient), ``raster``
    (``(times, neurons, complete)``: the kept spikes, in order, and whether they are all
    the spikes after ``start``; None unless asked), ``states`` (population → state name →
    the recorded values, (n_saves, n_recorded); `V` for the membrane potential), ``ts``
    (save times), ``finite`` (every state finite at the
    end: False when the integration blew up), ``duration`` (ms analysed) and ``start``
    (ms, where the statistics start).

    `jaxneuron.simulate_network` also keeps every step's spikes (``states[population]``
    ``"spike"``, ``"spike_time"``: (n_steps, n), ``inf`` where none) and each synapse
    group's conductance onto the recorded neurons (``states["synapses[k]"]["g"]``, nS).
    The statistics (`rate`, `isi_cv` …) reduce over the last axis, the neurons, so a
    solution batched by `jax.vmap` gives one value per network."""

    counts: dict
    isi_sum: dict
    isi_sumsq: dict
    windowed: dict
    soft_counts: dict
    raster: dict | None
    states: dict
    ts: Array
    finite: Array
    duration: float = eqx.field(static=True)
    start: float = eqx.field(static=True, default=0.0)

    @property
    def V(self) -> dict:
        """Recorded membrane potentials (mV): population → (n_saves, n_recorded)."""
        return {name: states["V"] for name, states in self.states.items() if "V" in states}

    def rate(self, name: str) -> Array:
        """Mean firing rate (Hz) of the population ``name``."""
        return jnp.mean(self.counts[name], axis=-1) * 1000.0 / self.duration

    def spike_trains(self, name: str) -> list[np.ndarray]:
        """Spike times (ms) after ``start`` of every neuron of the population ``name``, one
        sorted array per neuron (for `jaxneuron.plot.plot_raster`): from the spikes kept
        at every step (`jaxneuron.simulate_network`) or from the ``raster``. A ValueError
        when neither was kept, or the raster lost spikes."""
        states = self.states.get(name, {})
        n = self.counts[name].shape[-1]
        if "spike_time" in states:
            times = np.asarray(states["spike_time"])
            times = np.where(times >= self.start, times, np.inf)  # as ``counts`` count
            return [np.sort(col[np.isfinite(col)]) for col in times.T]
        if self.raster is None or name not in self.raster:
            raise ValueError(f"no spike times of {name!r} were kept: simulate with raster=…")
        times, neurons, complete = (np.asarray(x) for x in self.raster[name])
        if not bool(complete):
            raise ValueError(f"the raster of {name!r} lost spikes: simulate with a larger raster")
        kept = neurons >= 0
        return [np.sort(times[kept][neurons[kept] == j]) for j in range(n)]

    def smooth_rate(self, name: str) -> Array:
        """A mean firing rate (Hz) of the population ``name`` that moves continuously with
        the spike times: each spike after ``start`` counts with the Hann window
        sin²(π(t_s − start)/(t1 − start)) (whose mean is 1/2), so it equals `rate` for
        spikes spread evenly over the window. Its derivative w.r.t. any parameter is the
        exact derivative of the interpolated spike times t_s, with no surrogate: a spike
        that appears or vanishes (a jump) is invisible to AD, and spikes that enter or
        leave the window do so with weight 0."""
        return 2.0 * jnp.mean(self.windowed[name], axis=-1) * 1000.0 / self.duration

    def soft_rate(self, name: str) -> Array:
        """`rate` computed from ``soft_counts``: the same value; with a ``surrogate`` in
        `simulate_populations`, its gradient is the surrogate gradient of the rate."""
        return jnp.mean(self.soft_counts[name], axis=-1) * 1000.0 / self.duration

    def isi_cv(self, name: str, min_spikes: int = 3) -> Array:
        """Mean over the neurons with at least ``min_spikes`` spikes of the coefficient
        of variation of their inter-spike intervals (NaN if none)."""
        n = self.counts[name] - 1
        ok = self.counts[name] >= min_spikes
        safe = jnp.maximum(n, 1)
        mean = self.isi_sum[name] / safe
        var = jnp.maximum(self.isi_sumsq[name] / safe - mean**2, 0.0)
        cv = jnp.where(ok, jnp.sqrt(var) / jnp.where(ok, mean, 1.0), 0.0)
        return jnp.sum(cv, axis=-1) / jnp.where(jnp.any(ok, axis=-1), jnp.sum(ok, axis=-1), jnp.nan)


class _SpikeStats(AbstractObserver):
    """Per neuron of each population: spike count, last spike, Σ ISI, Σ ISI² and the
    Hann-weighted count Σ sin²(π(t_s − start)/(stop − start)) after ``start``; with
    ``keep`` > 0, also the first ``keep`` spikes (time, neuron) of each population, at
    most ``per_step`` per step."""

    start: float = eqx.field(static=True)
    stop: float = eqx.field(static=True)
    keep: int = eqx.field(static=True)
    per_step: int = eqx.field(static=True)

    def init(self, t0, carry):
        ys = carry[0]
        dtype = ys[0][0].dtype
        state = []
        for y in ys:
            n = y[0].shape
            stats = (
                jnp.zeros(n, jnp.int32),
                jnp.full(n, jnp.nan, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
                jnp.zeros(n, dtype),
            )
            if self.keep:
                size = self.keep + self.per_step
                stats += (
                    jnp.asarray(0, jnp.int32),
                    jnp.full((size,), jnp.nan, dtype),
                    jnp.full((size,), -1, jnp.int32),
                )
            state.append(stats)
        return tuple(state)

    def update(self, state, ts, carries, events):
        out = []
        for k, stats in enumerate(state):
            count, last, s1, s2, hann, soft_count, *kept = stats
            for event in events:
                crossed, t_spike, soft = event[0][k], event[1][k], event[2][k]
                spike = crossed & (t_spike >= self.start)
                soft_count = soft_count + jnp.where(t_spike >= self.start, soft, 0.0)
                isi = jnp.where(spike & (count > 0), t_spike - last, 0.0)
                count = count + spike
                last = jnp.where(spike, t_spike, last)
                s1, s2 = s1 + isi, s2 + isi * isi
                phase = jnp.pi * (t_spike - self.start) / (self.stop - self.start)
                hann = hann + jnp.where(spike, jnp.sin(phase) ** 2, 0.0)
                if kept:
                    kept = self._keep(kept, spike, t_spike)
            out.append((count, last, s1, s2, hann, soft_count, *kept))
        return tuple(out)

    def _keep(self, kept, spike, t_spike):
        cursor, times, ids = kept
        (idx,) = jnp.nonzero(spike, size=self.per_step, fill_value=-1)
        at = jnp.minimum(cursor, self.keep)
        new_t = jnp.where(idx >= 0, t_spike[jnp.maximum(idx, 0)], jnp.nan)
        times = jax.lax.dynamic_update_slice(times, new_t.astype(times.dtype), (at,))
        ids = jax.lax.dynamic_update_slice(ids, idx.astype(jnp.int32), (at,))
        added = jnp.minimum(jnp.sum(spike), self.per_step).astype(cursor.dtype)
        return cursor + added, times, ids
