"""`PopulationStep`: one fixed step Δt of a `PopulationNetwork` (the order of its parts
is `simulate_populations`'s: projections before the neurons, the neurons by their spike
rules with the synaptic input, the projections' delivery after them).

It is the step of `jaxneuron.integrate.fixed_step_loop`: ``step(t, carry) → (carry,
(crossed, t_spike, soft))`` on the carry ``(ys, cs, states, lasts, latest)`` — each
population's state tuple and its compensation (None without), each projection's state,
each neuron's last spike time (ms), and the last step's spikes (with ``events``).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..integrate import FastSigmoid, initial_carry
from ..units import conductance_density
from ._populations import UM2_PER_CM2, PopulationNetwork
from ._spikes import ThresholdCrossing


class PopulationStep(eqx.Module):
    """One step of ``net`` with the fixed step ``dt`` (ms) on the grid from ``t0`` (ms).
    ``threshold`` (mV) and ``refractory`` (ms) make the spike rule (`ThresholdCrossing`)
    of the populations without one of their own; ``max_spikes`` bounds the spikes each
    population delivers by gathering their rows (`jaxneuron.networks.Projection`);
    ``surrogate`` gives the spike decisions a surrogate gradient; with ``events``, the
    carry keeps the step's spikes."""

    net: PopulationNetwork
    surrogate: FastSigmoid | None
    dt: float = eqx.field(static=True)
    t0: float = eqx.field(static=True)
    threshold: float = eqx.field(static=True)
    refractory: float = eqx.field(static=True)
    max_spikes: int = eqx.field(static=True)
    events: bool = eqx.field(static=True, default=False)

    @property
    def dtype(self):
        """The state's dtype (the neurons')."""
        return jnp.result_type(self.net.populations[0].neuron.V0)

    @property
    def step(self) -> Array:
        """Δt (ms) as an array of the state's dtype."""
        return jnp.asarray(self.dt, self.dtype)

    @property
    def index(self) -> dict[str, int]:
        """Population name → its position."""
        return {name: k for k, name in enumerate(self.net.names)}

    @property
    def to_density(self) -> float:
        """mS/cm² per nS on the neurons' membrane ``area`` (a Python float)."""
        return conductance_density(1.0, self.net.area / UM2_PER_CM2)

    def rows(self) -> tuple:
        """Each projection's targets and weights (`AbstractProjection.rows`)."""
        return tuple(p.rows(self.dtype) for p in self.net.projections)

    def init(self, ys, g0, compensated: bool):
        """The first carry from each population's state tuple ``ys`` and the projections'
        initial states ``g0`` (one entry per projection, None for the default)."""
        pops, projs, index = self.net.populations, self.net.projections, self.index
        dtype, dt = self.dtype, self.dt
        cs = None
        if compensated:
            cs = tuple(
                initial_carry(y, p.neuron.compensated_states(dt))[1]
                for y, p in zip(ys, pops, strict=True)
            )
        states = tuple(
            p.init(ys[index[p.pre]][0], ys[index[p.post]][0], g0[i], dt, compensated)
            for i, p in enumerate(projs)
        )
        lasts = tuple(jnp.full((p.n,), -jnp.inf, dtype) for p in pops)
        latest = (
            (
                tuple(jnp.zeros((p.n,), bool) for p in pops),
                tuple(jnp.full((p.n,), jnp.inf, dtype) for p in pops),
            )
            if self.events
            else ()
        )
        return ys, cs, states, lasts, latest

    def synaptic_inputs(self, states, rows, V):
        """(G, J) onto every population (nS, nS·mV; one entry per neuron) from the
        projections' ``states`` and the potentials ``V`` (one array per population)."""
        pops, index = self.net.populations, self.index
        dtype = self.dtype
        G = [jnp.zeros((p.n,), dtype) for p in pops]
        J = [jnp.zeros((p.n,), dtype) for p in pops]
        for proj, state, r in zip(self.net.projections, states, rows, strict=True):
            pre, post = index[proj.pre], index[proj.post]
            onto_post, onto_pre = proj.inputs(state, r, V[pre], V[post])
            for k, onto in ((post, onto_post), (pre, onto_pre)):
                if onto is not None:
                    G[k], J[k] = G[k] + onto[0], J[k] + onto[1]
        return G, J

    def conductances(self, states, rows, ys, recorded) -> dict:
        """Each projection's conductance (nS) onto the neurons ``recorded[post]`` of its
        target (for the projections onto a recorded population)."""
        index, out = self.index, {}
        for p, s, r in zip(self.net.projections, states, rows, strict=True):
            if p.post in recorded:
                V_pre, V_post = ys[index[p.pre]][0], ys[index[p.post]][0]
                out[p.label] = {"g": p.conductance(s, r, V_pre, V_post)[recorded[p.post]]}
        return out

    def __call__(self, t, carry, rows):
        """The carry a step later, and the step's spikes: ``(crossed, t_spike, soft)``,
        one array per population. ``rows``: `rows`, built once per simulation."""
        ys, cs, states, lasts, _ = carry
        pops, projs, index = self.net.populations, self.net.projections, self.index
        dt = self.step
        n = jnp.round((t - self.t0) / dt).astype(jnp.int32)  # this step's index
        V = [y[0] for y in ys]
        states = tuple(p.before(s, V[index[p.pre]], dt) for p, s in zip(projs, states, strict=True))
        G, J = self.synaptic_inputs(states, rows, V)
        crossing = ThresholdCrossing(self.threshold, self.refractory)
        to_density, surrogate = self.to_density, self.surrogate
        new_ys, new_cs, crossed, t_spike, soft, new_lasts = [], [], [], [], [], []
        for k, pop in enumerate(pops):
            rule = crossing if pop.rule is None else pop.rule
            one = jax.vmap(
                lambda m, y, c, last, G, J, rule=rule: rule.step(
                    m, t, y, dt, c, last, G, J, to_density, surrogate
                ),
                in_axes=(pop.axes, 0, None if cs is None else 0, 0, 0, 0),
            )
            y, c, last, up, when, s_k = one(
                pop.neuron, ys[k], None if cs is None else cs[k], lasts[k], G[k], J[k]
            )
            new_ys.append(y)
            new_cs.append(c)
            crossed.append(up)
            t_spike.append(when)
            soft.append(s_k)
            new_lasts.append(last)
        lags = [jnp.where(up, t + dt - w, 0.0) for up, w in zip(crossed, t_spike, strict=True)]
        states = tuple(
            p.after(s, r, n, dt, crossed[index[p.pre]], lags[index[p.pre]], self.max_spikes)
            for p, s, r in zip(projs, states, rows, strict=True)
        )
        carry = (
            tuple(new_ys),
            None if cs is None else tuple(new_cs),
            states,
            tuple(new_lasts),
            (tuple(crossed), tuple(t_spike)) if self.events else (),
        )
        return carry, (tuple(crossed), tuple(t_spike), tuple(soft))
