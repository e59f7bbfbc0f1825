r"""Differentiable features of a simulated trace, each with a target, for `FeatureLoss`.

A feature maps the window of a simulation (sample times ``ts`` in ms and potentials
``V`` in mV, shape (n,) for a neuron or (n, cells) for a circuit) to a number, through
the smooth surrogates of `jaxneuron.analysis`. Its error term is

    e = weight · mean(((value − target) / scale)²),

``scale`` defaulting to |target| (relative error) or 1 when the target is 0.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import analysis
from .._validation import is_concrete


class Feature(eqx.Module):
    """Base class: ``value(ts, V, cells)`` and the squared, scaled ``error``."""

    target: Float[Array, "..."] | None
    weight: float
    scale: float | None
    cell: str | None

    def value(self, ts, V, cells: tuple[str, ...], dt: float):
        """The feature of the window; ``dt`` is the (static) sampling interval in ms."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        name = type(self).__name__
        return f"{name}[{self.cell}]" if self.cell is not None else name

    def difference(self, value, target):
        """value − target (a phase overrides it with the shorter way round the circle)."""
        return value - target

    def residuals(self, value):
        """r, flat, with ``error(value) = Σ r²``: √(weight/n)·difference/scale for the
        feature's n entries."""
        if self.target is None:
            raise ValueError(
                f"{self.label} has no target; give target=... or build the loss with "
                "FeatureLoss(...).with_targets_from(model)"
            )
        target = jnp.asarray(self.target)
        scale = self.scale
        if scale is None:
            scale = jnp.where(jnp.abs(target) > 0, jnp.abs(target), 1.0)
        d = jnp.ravel(self.difference(value, target) / scale)
        return jnp.sqrt(self.weight / d.size) * d

    def error(self, value):
        return jnp.sum(self.residuals(value) ** 2)

    def _trace(self, V, cells, cell=None):
        cell = self.cell if cell is None else cell
        if V.ndim == 1:
            return V
        if cell is None:
            raise ValueError(
                f"{self.label}: the model is a circuit with cells {cells}; say which with cell=..."
            )
        if cell not in cells:
            raise KeyError(f"{self.label}: no cell {cell!r}; cells: {cells}")
        return V[:, cells.index(cell)]


def _init(self, target, weight, scale, cell):
    if target is not None and is_concrete(target) and not np.all(np.isfinite(target)):
        raise ValueError(f"{type(self).__name__}: target must be finite, got {target!r}")
    if not float(weight) >= 0:
        raise ValueError(f"{type(self).__name__}: weight must be >= 0, got {weight!r}")
    if scale is not None and not float(scale) > 0:
        raise ValueError(
            f"{type(self).__name__}: scale must be > 0 (in the feature's units), got {scale!r}"
        )
    self.target = None if target is None else jnp.asarray(target)
    self.weight = float(weight)
    self.scale = None if scale is None else float(scale)
    self.cell = cell


class SpikeCount(Feature):
    """Smooth number of spikes in the window (`soft_spike_count`: threshold θ in mV,
    sharpness k in 1/mV)."""

    threshold: float = eqx.field(static=True)
    sharpness: float = eqx.field(static=True)

    def __init__(
        self, target=None, *, threshold=0.0, sharpness=1.0, weight=1.0, scale=None, cell=None
    ):
        _init(self, target, weight, scale, cell)
        self.threshold, self.sharpness = float(threshold), float(sharpness)

    def value(self, ts, V, cells, dt):
        return analysis.soft_spike_count(self._trace(V, cells), self.threshold, self.sharpness)


class FiringRate(SpikeCount):
    """Smooth firing rate in Hz over the window (`soft_firing_rate`)."""

    def value(self, ts, V, cells, dt):
        V = self._trace(V, cells)
        return analysis.soft_firing_rate(ts, V, self.threshold, self.sharpness)


class BurstPeriod(Feature):
    """Smooth burst period in ms (`smooth_burst_period`: autocorrelation peak within
    ``period_range`` ms; ``temperature`` in units of correlation)."""

    period_range: tuple[float, float] = eqx.field(static=True)
    temperature: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        period_range=(100.0, 5000.0),
        temperature=0.02,
        weight=1.0,
        scale=None,
        cell=None,
    ):
        _init(self, target, weight, scale, cell)
        self.period_range = (float(period_range[0]), float(period_range[1]))
        self.temperature = float(temperature)

    def value(self, ts, V, cells, dt):
        V = self._trace(V, cells)
        return analysis.smooth_burst_period(ts, V, self.period_range, self.temperature)


class DutyCycle(Feature):
    """Smooth fraction of time the slow wave is above ``threshold`` (mV): `soft_duty_cycle`
    of V averaged over ``smoothing_ms``."""

    threshold: float = eqx.field(static=True)
    sharpness: float = eqx.field(static=True)
    smoothing_ms: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        threshold=-45.0,
        sharpness=0.5,
        smoothing_ms=20.0,
        weight=1.0,
        scale=None,
        cell=None,
    ):
        _init(self, target, weight, scale, cell)
        self.threshold, self.sharpness = float(threshold), float(sharpness)
        self.smoothing_ms = float(smoothing_ms)

    def value(self, ts, V, cells, dt):
        V = self._trace(V, cells)
        width = max(1, round(self.smoothing_ms / dt))
        return analysis.soft_duty_cycle(V, self.threshold, self.sharpness, width)


class SpikesPerBurst(Feature):
    """Smooth spikes per burst: soft spike count × burst period / window length."""

    threshold: float = eqx.field(static=True)
    sharpness: float = eqx.field(static=True)
    period_range: tuple[float, float] = eqx.field(static=True)
    temperature: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        threshold=0.0,
        sharpness=1.0,
        period_range=(100.0, 5000.0),
        temperature=0.02,
        weight=1.0,
        scale=None,
        cell=None,
    ):
        _init(self, target, weight, scale, cell)
        self.threshold, self.sharpness = float(threshold), float(sharpness)
        self.period_range = (float(period_range[0]), float(period_range[1]))
        self.temperature = float(temperature)

    def value(self, ts, V, cells, dt):
        V = self._trace(V, cells)
        count = analysis.soft_spike_count(V, self.threshold, self.sharpness)
        period = analysis.smooth_burst_period(ts, V, self.period_range, self.temperature)
        return count * period / (ts[-1] - ts[0])


class VoltageHistogram(Feature):
    """The smoothed distribution of V over bins with ``edges`` (mV) (`voltage_histogram`);
    the target is a vector of bin fractions. Default scale 1/(number of bins)."""

    edges: tuple[float, ...] = eqx.field(static=True)
    bandwidth: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        edges=tuple(range(-80, 41, 10)),
        bandwidth=2.0,
        weight=1.0,
        scale=None,
        cell=None,
    ):
        edges = tuple(float(e) for e in edges)
        _init(self, target, weight, scale if scale is not None else 1.0 / (len(edges) - 1), cell)
        self.edges, self.bandwidth = edges, float(bandwidth)
        if self.target is not None and self.target.shape != (len(edges) - 1,):
            raise ValueError(
                f"VoltageHistogram: target has shape {self.target.shape}, expected "
                f"({len(edges) - 1},) — one fraction per bin of edges {edges} mV"
            )

    def value(self, ts, V, cells, dt):
        V = self._trace(V, cells)
        return analysis.voltage_histogram(V, jnp.asarray(self.edges), self.bandwidth)


class _Phase(Feature):
    """A feature valued on the circle [0, 1): its error is the shorter way round."""

    def difference(self, value, target):
        # phases live on a circle: 0.95 and 0.05 are 0.1 apart
        return jnp.mod(value - target + 0.5, 1.0) - 0.5


class BurstPhase(_Phase):
    """Smooth phase (0…1) by which ``cell`` lags ``reference`` in the reference's burst
    cycle (`smooth_phase_lag`, period from `smooth_burst_period` of the reference).
    The scale defaults to 0.05 (phases are absolute; 0.05 of a cycle counts as 1)."""

    reference: str = eqx.field(static=True)
    period_range: tuple[float, float] = eqx.field(static=True)
    temperature: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        cell,
        reference,
        period_range=(100.0, 5000.0),
        temperature=0.02,
        weight=1.0,
        scale=0.05,
    ):
        _init(self, target, weight, scale, cell)
        self.reference = reference
        self.period_range = (float(period_range[0]), float(period_range[1]))
        self.temperature = float(temperature)

    def value(self, ts, V, cells, dt):
        ref = self._trace(V, cells, self.reference)
        period = analysis.smooth_burst_period(ts, ref, self.period_range, self.temperature)
        return analysis.smooth_phase_lag(ts, ref, self._trace(V, cells), period, self.temperature)


class BurstOnsetPhase(_Phase):
    r"""Smooth phase (0…1) of ``cell``'s burst onsets (or offsets, ``edge="offset"``) in
    the cycle that starts at the burst onsets of ``reference`` — the differentiable
    counterpart of `jaxneuron.analysis.burst_phases`' ``onset`` (``offset``) phase.

    The first (last) spikes of the bursts carry the onset (offset) densities of
    `soft_burst_edges` (spikes at up-crossings of ``threshold`` mV with sharpness k in
    1/mV, bursts separated by more than ``gap_ms``); the phase is the angle between the
    circular means of the cell's and the reference's densities over the reference's period
    P (`soft_onset_period`: the slope of its onset times against onset index),

        φ = arg(Σᵢ eᵢ^cell e^{2πitᵢ/P} · conj(Σᵢ eᵢ^ref e^{2πitᵢ/P})) / 2π  mod 1

    (`soft_edge_phase`). Unlike `BurstPhase` — the lag of the whole waveform, a soft
    arg-max over cross-correlation lags — φ is a weighted mean of the spike times, so it
    moves smoothly with them. Scale defaults to 0.01 of a cycle.
    """

    reference: str = eqx.field(static=True)
    edge: str = eqx.field(static=True)
    gap_ms: float = eqx.field(static=True)
    threshold: float = eqx.field(static=True)
    sharpness: float = eqx.field(static=True)
    suppression: float = eqx.field(static=True)

    def __init__(
        self,
        target=None,
        *,
        cell,
        reference,
        edge="onset",
        gap_ms=200.0,
        threshold=0.0,
        sharpness=1.0,
        suppression=10.0,
        weight=1.0,
        scale=0.01,
    ):
        if edge not in ("onset", "offset"):
            raise ValueError(f"BurstOnsetPhase: edge must be 'onset' or 'offset', got {edge!r}")
        _init(self, target, weight, scale, cell)
        self.reference, self.edge = reference, edge
        self.gap_ms = float(gap_ms)
        self.threshold, self.sharpness = float(threshold), float(sharpness)
        self.suppression = float(suppression)

    @property
    def label(self) -> str:
        return f"BurstOnsetPhase[{self.cell} {self.edge} / {self.reference}]"

    def value(self, ts, V, cells, dt):
        def edges(v):
            return analysis.soft_burst_edges(
                v, dt, self.gap_ms, self.threshold, self.sharpness, self.suppression
            )

        ref_onsets, _ = edges(self._trace(V, cells, self.reference))
        period = analysis.soft_onset_period(ts, ref_onsets)
        onsets, offsets = edges(self._trace(V, cells))
        density = onsets if self.edge == "onset" else offsets
        return analysis.soft_edge_phase(ts, ref_onsets, density, period)


class SlowWave(Feature):
    r"""The trough and peak (mV) of the slow wave, V̄ = running mean of V over
    ``smoothing_ms`` (spikes averaged out): the soft extremes

        V̄_min = Σᵢ softmax(−V̄/T)ᵢ V̄ᵢ,   V̄_max = Σᵢ softmax(V̄/T)ᵢ V̄ᵢ,

    T = ``temperature`` in mV (→ the exact extremes as T → 0). The value and the target
    are the pair (V̄_min, V̄_max); the default scale is 1 mV (absolute errors).
    """

    smoothing_ms: float = eqx.field(static=True)
    temperature: float = eqx.field(static=True)

    def __init__(
        self, target=None, *, smoothing_ms=50.0, temperature=1.0, weight=1.0, scale=1.0, cell=None
    ):
        _init(self, target, weight, scale, cell)
        self.smoothing_ms, self.temperature = float(smoothing_ms), float(temperature)

    def value(self, ts, V, cells, dt):
        V = analysis.moving_average(self._trace(V, cells), max(1, round(self.smoothing_ms / dt)))

        def soft_max(x):
            return jnp.sum(jax.nn.softmax(x / self.temperature) * x)

        return jnp.stack([-soft_max(-V), soft_max(V)])
