r"""Streaming features: a small fixed-size state updated sample by sample.

The sweep engine and `simulate(..., features=...)` carry a `FeatureState` through the
integration loop instead of storing the trace. Every feature equals its exact counterpart
in `jaxneuron.analysis` computed on the same samples (spikes are threshold up-crossings
interpolated linearly between samples; bursts split at a fixed ``burst_gap``; the first
burst after ``start`` and the unfinished last one are not counted).

>>> import jax.numpy as jnp
>>> t = jnp.arange(0.0, 100.0, 0.5)
>>> features = StreamingFeatures(threshold=0.0)
>>> state = features.run(t, jnp.sin(2 * jnp.pi * t / 10.0))
>>> int(state.n_spikes), round(float(features.summary(state)["isi_mean"]), 4)
(9, 10.0)
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._numerics import crossing_fraction
from ._sampled import BURST_GAP_MS

Scalar = Float[Array, ""]


class FeatureState(eqx.Module):
    """The running state of `StreamingFeatures` (all scalars; batch with vmap)."""

    t_prev: Scalar
    V_prev: Scalar
    n_samples: Int[Array, ""]
    V_min: Scalar
    V_max: Scalar
    V_sum: Scalar
    n_spikes: Int[Array, ""]
    first_spike: Scalar
    last_spike: Scalar
    isi_sum: Scalar
    isi_sumsq: Scalar
    # bursts
    burst_index: Int[Array, ""]  # bursts started so far (−1: none)
    burst_onset: Scalar
    burst_spikes: Int[Array, ""]
    n_complete: Int[Array, ""]
    first_complete_onset: Scalar
    last_complete_onset: Scalar
    duration_sum: Scalar
    period_sumsq: Scalar
    burst_spike_sum: Int[Array, ""]
    burst_spike_min: Int[Array, ""]
    burst_spike_max: Int[Array, ""]


class StreamingFeatures(eqx.Module):
    """Spike, ISI, voltage and burst features updated one sample at a time.

    **Fields** (static hyperparameters): ``threshold`` (mV) for spikes, ``start`` (ms) of
    the analysis window, ``burst_gap`` (ms): an inter-spike interval longer than this
    starts a new burst.
    """

    threshold: float = eqx.field(static=True, default=0.0)
    start: float = eqx.field(static=True, default=0.0)
    burst_gap: float = eqx.field(static=True, default=BURST_GAP_MS)

    def init(self, t, V) -> FeatureState:
        """The state before any sample after (t, V). The per-trace fields have V's shape
        and the time fields t's, so a population of voltages sampled at common times
        (any array V, scalar t) needs no vmap."""
        V = jnp.asarray(V)
        dtype, shape = V.dtype, V.shape

        def full(value, kind=None):
            return jnp.full(shape, value, dtype if kind is None else kind)

        inside = jnp.asarray(t) >= self.start
        return FeatureState(
            t_prev=jnp.asarray(t, dtype),
            V_prev=V,
            n_samples=inside.astype(jnp.int32),
            V_min=jnp.where(inside, V, jnp.inf).astype(dtype),
            V_max=jnp.where(inside, V, -jnp.inf).astype(dtype),
            V_sum=jnp.where(inside, V, 0.0).astype(dtype),
            n_spikes=full(0, jnp.int32),
            first_spike=full(jnp.nan),
            last_spike=full(jnp.nan),
            isi_sum=full(0.0),
            isi_sumsq=full(0.0),
            burst_index=full(-1, jnp.int32),
            burst_onset=full(jnp.nan),
            burst_spikes=full(0, jnp.int32),
            n_complete=full(0, jnp.int32),
            first_complete_onset=full(jnp.nan),
            last_complete_onset=full(jnp.nan),
            duration_sum=full(0.0),
            period_sumsq=full(0.0),
            burst_spike_sum=full(0, jnp.int32),
            burst_spike_min=full(jnp.iinfo(jnp.int32).max, jnp.int32),
            burst_spike_max=full(0, jnp.int32),
        )

    def update(self, state: FeatureState, t, V) -> FeatureState:
        """The state after one more sample (t in ms, V in mV)."""
        return self.update_many(state, (t,), (V,))

    def update_many(self, state: FeatureState, ts, Vs) -> FeatureState:
        """The state after several consecutive samples (sequences ``ts``, ``Vs``): the
        same as `update` on each in turn, bit for bit: each sample's crossing time is
        interpolated, and the spike and burst bookkeeping (`spike`) done once for the
        whole group, with the group's earliest crossing, when it holds at most one in
        every trace — the common case — and sample by sample otherwise (`lax.cond`).

        The earliest crossing is computed before the `lax.cond` and passed to it: an
        operand of the branch is computed once, where inside the branch XLA fuses the
        reduction over the group into the update of every field of the state, each
        recomputing it. The rare branch recomputes the crossing times from the samples."""
        dtype = state.V_prev.dtype
        t_first, V_first = state.t_prev, state.V_prev
        ts = tuple(jnp.asarray(t, t_first.dtype) for t in ts)
        Vs = tuple(jnp.asarray(V, dtype) for V in Vs)
        t_prev, V_prev = t_first, V_first
        n_samples, V_min, V_max, V_sum = state.n_samples, state.V_min, state.V_max, state.V_sum
        crossed, times = [], []  # per sample: a crossing, and its time (+inf where none)
        for t, V in zip(ts, Vs, strict=True):
            inside = t >= self.start
            up, when = self._crossing(t_prev, V_prev, t, V)
            crossed.append(up)
            times.append(when)
            n_samples = n_samples + inside
            V_min = jnp.where(inside, jnp.minimum(V_min, V), V_min)
            V_max = jnp.where(inside, jnp.maximum(V_max, V), V_max)
            V_sum = V_sum + jnp.where(inside, V, 0.0)
            t_prev, V_prev = t, V
        state = dataclasses.replace(
            state, t_prev=t_prev, V_prev=V_prev, n_samples=n_samples, V_min=V_min,
            V_max=V_max, V_sum=V_sum,
        )  # fmt: skip

        def add_spike(state, spike_t):
            return self.spike(state, (spike_t < jnp.inf) & (spike_t >= self.start), spike_t)

        if len(times) == 1:
            return add_spike(state, times[0])

        def in_order(operands):
            state, _, t_prev, V_prev = operands
            for t, V in zip(ts, Vs, strict=True):
                state = add_spike(state, self._crossing(t_prev, V_prev, t, V)[1])
                t_prev, V_prev = t, V
            return state

        # Where a trace crossed at most once, its spike time is the least of the group's.
        def at_most_one(operands):
            state, earliest, _, _ = operands
            return add_spike(state, earliest)

        earliest = jnp.min(jnp.stack(times), axis=0)
        count = jnp.sum(jnp.stack(crossed), axis=0, dtype=jnp.int32)
        operands = (state, earliest, t_first, V_first)
        return jax.lax.cond(jnp.any(count > 1), in_order, at_most_one, operands)

    def _crossing(self, t_prev, V_prev, t, V):
        """Whether V rose through the threshold between two samples, and when (ms,
        interpolated linearly; +inf where it did not)."""
        up = (V_prev < self.threshold) & (V >= self.threshold)
        frac = crossing_fraction(V_prev, V, self.threshold)
        return up, jnp.where(up, t_prev + frac * (t - t_prev), jnp.inf)

    def spike(self, state: FeatureState, spike, spike_t) -> FeatureState:
        """The spike and burst part of `update`: the state after a spike at ``spike_t``
        (ms) where ``spike`` is True, unchanged elsewhere."""
        has_prev = state.n_spikes > 0
        isi = jnp.where(has_prev, spike_t - state.last_spike, 0.0)
        new_burst = spike & (~has_prev | (isi > self.burst_gap))
        # the burst that a new burst closes is complete unless it is the first one
        closes = new_burst & (state.burst_index >= 1)
        duration = state.last_spike - state.burst_onset
        n_complete = state.n_complete + closes
        first_complete = jnp.where(
            closes & (state.n_complete == 0), state.burst_onset, state.first_complete_onset
        )
        period = state.burst_onset - state.last_complete_onset
        adds_period = closes & (state.n_complete > 0)

        return dataclasses.replace(
            state,
            n_spikes=state.n_spikes + spike,
            first_spike=jnp.where(spike & ~has_prev, spike_t, state.first_spike),
            last_spike=jnp.where(spike, spike_t, state.last_spike),
            isi_sum=state.isi_sum + jnp.where(spike & has_prev, isi, 0.0),
            isi_sumsq=state.isi_sumsq + jnp.where(spike & has_prev, isi * isi, 0.0),
            burst_index=state.burst_index + new_burst,
            burst_onset=jnp.where(new_burst, spike_t, state.burst_onset),
            burst_spikes=jnp.where(new_burst, 1, state.burst_spikes + spike),
            n_complete=n_complete,
            first_complete_onset=first_complete,
            last_complete_onset=jnp.where(closes, state.burst_onset, state.last_complete_onset),
            duration_sum=state.duration_sum + jnp.where(closes, duration, 0.0),
            period_sumsq=state.period_sumsq + jnp.where(adds_period, period * period, 0.0),
            burst_spike_sum=state.burst_spike_sum + jnp.where(closes, state.burst_spikes, 0),
            burst_spike_min=jnp.where(
                closes,
                jnp.minimum(state.burst_spike_min, state.burst_spikes),
                state.burst_spike_min,
            ),
            burst_spike_max=jnp.where(
                closes,
                jnp.maximum(state.burst_spike_max, state.burst_spikes),
                state.burst_spike_max,
            ),
        )

    def run(self, ts, V) -> FeatureState:
        """Feed a whole sampled trace (1-D ``ts``, ``V``) through `update`."""
        ts, V = jnp.asarray(ts), jnp.asarray(V)

        def step(state, tv):
            return self.update(state, *tv), None

        state, _ = jax.lax.scan(step, self.init(ts[0], V[0]), (ts[1:], V[1:]))
        return state

    def classify(self, state: FeatureState, regularity: float = 0.1) -> Int[Array, ""]:
        """Activity class as an index into `ACTIVITY_CLASSES` (silent, tonic, bursting,
        irregular), from the spikes after ``start``:

        - silent: fewer than 3 spikes;
        - tonic: inter-spike intervals with coefficient of variation < ``regularity``;
        - bursting: ≥ 3 complete bursts (split at ``burst_gap``), each of ≥ 2 spikes, whose
          periods (onset to onset) vary by a coefficient of variation < ``regularity`` and
          whose spike counts differ by at most one;
        - irregular: anything else.

        This is `jaxneuron.analysis.classify` with a fixed ``gap = burst_gap``.
        """
        f = self.summary(state)
        n_periods = state.n_complete - 1
        mean = (state.last_complete_onset - state.first_complete_onset) / jnp.maximum(n_periods, 1)
        var = state.period_sumsq / jnp.maximum(n_periods, 1) - mean * mean
        # the variance of near-equal periods is a difference of large sums: compare squares
        regular_periods = var < (regularity * mean) ** 2
        bursting = (
            (state.n_complete >= 3)
            & (state.burst_spike_min >= 2)
            & regular_periods
            & (state.burst_spike_max - state.burst_spike_min <= 1)
        )
        tonic = f["isi_cv"] < regularity
        return jnp.where(
            state.n_spikes < 3,
            0,
            jnp.where(tonic, 1, jnp.where(bursting, 2, 3)),
        ).astype(jnp.int32)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The keys of `summary`, in order (the feature columns of a sweep)."""
        features, keys = cls(), []

        def summary(t, V):
            out = features.summary(features.init(t, V))
            keys.extend(out)
            return out

        jax.eval_shape(summary, 0.0, 0.0)  # traced abstractly: nothing runs
        return tuple(keys)

    def summary(self, state: FeatureState) -> dict[str, Array]:
        """Features from a state: ``n_spikes``, ``first_spike``, ``isi_mean``, ``isi_cv``,
        ``V_min``, ``V_max``, ``V_mean``, ``burst_period``, ``burst_duration``,
        ``duty_cycle``, ``spikes_per_burst``, ``n_bursts`` (NaN where undefined; burst
        values need three complete bursts of at least two spikes, as `burst_metrics`)."""
        n_isi = state.n_spikes - 1
        safe = jnp.maximum(n_isi, 1)
        isi_mean = jnp.where(n_isi > 0, state.isi_sum / safe, jnp.nan)
        isi_var = jnp.maximum(state.isi_sumsq / safe - isi_mean**2, 0.0)
        bursting = (state.n_complete >= 3) & (state.burst_spike_max >= 2)
        n = jnp.maximum(state.n_complete, 1)
        period = (state.last_complete_onset - state.first_complete_onset) / jnp.maximum(
            state.n_complete - 1, 1
        )
        duration = state.duration_sum / n

        def burst(x):
            return jnp.where(bursting, x, jnp.nan)

        return {
            "n_spikes": state.n_spikes,
            "first_spike": state.first_spike,
            "isi_mean": isi_mean,
            "isi_cv": jnp.sqrt(isi_var) / isi_mean,
            "V_min": state.V_min,
            "V_max": state.V_max,
            "V_mean": state.V_sum / jnp.maximum(state.n_samples, 1),
            "burst_period": burst(period),
            "burst_duration": burst(duration),
            "duty_cycle": burst(duration / period),
            "spikes_per_burst": burst(state.burst_spike_sum / n),
            "n_bursts": state.n_complete,
        }


def spike_times_padded(ts, V, threshold: float = 0.0, max_spikes: int = 100):
    """Spike times (ms) as a fixed-size array for jit/vmap: the first ``max_spikes``
    up-crossings of ``threshold`` (linearly interpolated), padded with +inf, and the total
    count (which may exceed ``max_spikes``).

    >>> import jax.numpy as jnp
    >>> t = jnp.arange(10.0)
    >>> times, count = spike_times_padded(t, jnp.asarray([-1, 1, -1, -1, 1, 1, -1, 0, 2, -1.0]),
    ...                                   max_spikes=4)
    >>> times.tolist(), int(count)
    ([0.5, 3.5, 7.0, inf], 3)
    """
    ts, V = jnp.asarray(ts), jnp.asarray(V)
    crossed = (V[:-1] < threshold) & (V[1:] >= threshold)
    times = ts[:-1] + crossing_fraction(V[:-1], V[1:], threshold) * (ts[1:] - ts[:-1])
    (index,) = jnp.nonzero(crossed, size=max_spikes, fill_value=-1)
    padded = jnp.where(index >= 0, times[index], jnp.inf)
    return padded, jnp.sum(crossed)
