r"""How a population's neurons take a step with their synaptic input and decide a spike
(`AbstractSpikeRule`), for `simulate_populations`. One rule per kind of neuron:

- `ThresholdCrossing` (conductance-based neurons, the default): the neuron takes its
  exponential-Euler step with the synaptic conductance inside the membrane update
  (``G``, ``J`` in nS and nS·mV, divided by the membrane area to mS/cm² and µA/cm²); a
  spike is an upward crossing of ``threshold`` within the step, at the linearly
  interpolated time. With ``refractory`` > 0 the rule is Brian2's
  ``threshold="v > θ", refractory=…``: a spike whenever V ≥ θ at the end of a step and
  the last spike is at least ``refractory`` ms ago.
- `ResetOnThreshold` (the integrate-and-fire family): the synaptic current
  I = G·(E − V) = J − G·V (pA) at t_n, in the neuron's current unit
  (``current_scale`` per pA), is held over the step on top of the neuron's stimulus; the
  neuron's own threshold, reset and refractory period act within the step
  (`jaxneuron.integrate.reset_step`: the crossing interpolated, the reset applied there).

Each rule works on one neuron (the population vmaps it) and returns the new state, its
compensation, the per-neuron time it carries (the last spike, or the end of the hold),
the spike decision, the crossing time (ms) and the spike as a float (with a
`jaxneuron.FastSigmoid` surrogate, its gradient).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp

from .._numerics import crossing_fraction
from ..integrate import FastSigmoid, reset_step
from ..stimuli import Constant, Sum


class AbstractSpikeRule(eqx.Module):
    """One step of one neuron with synaptic input, and its spike (see the module)."""

    @abc.abstractmethod
    def step(self, neuron, t, y, dt, c, last, G, J, to_density, surrogate: FastSigmoid | None):
        """``(y, c, last, crossed, t_spike, soft)`` after one step of ``dt`` ms from ``t``
        with the synaptic input (``G`` nS, ``J`` nS·mV); ``to_density`` converts nS to
        mS/cm² for the membrane area of the network."""


class ThresholdCrossing(AbstractSpikeRule):
    """A conductance-based neuron's step and spike: an upward crossing of ``threshold``
    (mV); with ``refractory`` > 0 (ms), V ≥ θ at least ``refractory`` after the last
    spike (see the module)."""

    threshold: float = eqx.field(static=True, default=-20.0)
    refractory: float = eqx.field(static=True, default=0.0)

    def step(self, neuron, t, y, dt, c, last, G, J, to_density, surrogate):
        dtype = y[0].dtype
        y_new, c_new = neuron.fixed_step(t, y, dt, c, inputs=(G * to_density, J * to_density))
        V_old, V_new = y[0], y_new[0]
        below = V_old < self.threshold
        frac = jnp.where(below, crossing_fraction(V_old, V_new, self.threshold), 1.0)
        when = t + frac * dt
        if self.refractory > 0:
            allowed = when - last >= self.refractory
            up = (V_new >= self.threshold) & allowed
        else:
            allowed = below
            up = below & (V_new >= self.threshold)
        if surrogate is None:
            soft = up.astype(dtype)
        else:  # forward: exactly ``up``; backward: the surrogate's derivative
            soft = surrogate(V_new - self.threshold) * allowed.astype(dtype)
        return tuple(y_new), c_new, jnp.where(up, when, last), up, when, soft


class ResetOnThreshold(AbstractSpikeRule):
    """An integrate-and-fire neuron's step: the synaptic current (pA) times
    ``current_scale`` (the neuron's current unit per pA: 1e-3 for the `LIF`'s nA, 1 for
    the `AdEx`'s pA) held over the step, the neuron's own threshold and reset within it."""

    current_scale: float = eqx.field(static=True, default=1.0)

    def step(self, neuron, t, y, dt, c, last, G, J, to_density, surrogate):
        current = (J - G * y[0]) * self.current_scale
        driven = eqx.tree_at(
            lambda m: m.stimulus, neuron, Sum((neuron.stimulus, Constant(current)))
        )
        # the surrogate shapes the spike's gradient only, not the reset (see reset_step)
        y_new, c_new, hold, event = reset_step(driven, t, t + dt, y, c, last, surrogate,
                                               blend=False)  # fmt: skip
        return tuple(y_new), c_new, hold, event.crossed, event.t_spike, event.s
